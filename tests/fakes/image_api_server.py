"""A local HTTP server speaking the OpenAI-compatible images protocol used by image_api.py.

Like a real model it ignores the mask: the picture it answers is painted edge to edge, over the
product too, so the caller must put the product's own pixels back.

Modes: "immediate" (b64_json in the answer), "url" (a URL to download the image from) and
"async" (a task id, polled at /v1/images/tasks/{id}: "processing" once, then "succeeded").
Scripted trouble: `rate_limit_next` answers that many requests with 429 + Retry-After, and
any prompt containing a string in `fail_prompts` is refused (400 in immediate/url mode, a
"failed" task in async mode).
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import hashlib
import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw


@dataclass
class RecordedRequest:
    method: str
    path: str
    authorization: str | None
    fields: dict[str, str] = field(default_factory=dict)
    image_bytes: int = 0
    files: dict[str, bytes] = field(default_factory=dict)  # multipart file parts by field name


@dataclass
class FakeImageAPI:
    api_key: str = "sk-test-image-key"
    mode: str = "immediate"
    fail_prompts: set[str] = field(default_factory=set)
    rate_limit_next: int = 0
    retry_after: str = "1"
    polls_before_done: int = 1
    image_size: tuple[int, int] = (1024, 1024)
    requests: list[RecordedRequest] = field(default_factory=list)
    base_url: str = ""
    _tasks: dict[str, dict[str, Any]] = field(default_factory=dict)
    _files: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def image_for(self, prompt: str) -> bytes:
        """A deterministic picture whose colour depends on the prompt."""
        digest = hashlib.sha256(prompt.encode()).digest()
        image = Image.new("RGB", self.image_size, (digest[0], digest[1], digest[2]))
        draw = ImageDraw.Draw(image)
        w, h = self.image_size
        draw.ellipse((w * 0.25, h * 0.25, w * 0.75, h * 0.75), fill=(255 - digest[0], 120, 60))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return buffer.getvalue()

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict[str, str], bytes]:
        method, path = handler.command, handler.path
        fields, files = _read_fields(handler)
        image_bytes = len(files.get("image", b""))
        auth = handler.headers.get("Authorization")
        with self._lock:
            self.requests.append(RecordedRequest(method, path, auth, fields, image_bytes, files))
            if self.rate_limit_next > 0:
                self.rate_limit_next -= 1
                return _json(429, {"error": {"message": "rate limited"}}, self.retry_after)
        if path.startswith("/files/"):
            data = self._files.get(path.removeprefix("/files/"))
            return (200, {"Content-Type": "image/png"}, data) if data else _json(404, {})
        if auth != f"Bearer {self.api_key}":
            return _json(401, {"error": {"message": "invalid api key"}})
        if method == "POST" and path in ("/v1/images/generations", "/v1/images/edits"):
            return self._create(fields)
        if method == "GET" and path.startswith("/v1/images/tasks/"):
            return self._poll(path.rsplit("/", 1)[-1])
        return _json(404, {"error": {"message": f"no route {method} {path}"}})

    def _create(self, fields: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        prompt = fields.get("prompt", "")
        refused = any(marker in prompt for marker in self.fail_prompts)
        if self.mode == "async":
            with self._lock:
                task_id = f"task-{len(self._tasks) + 1}"
                self._tasks[task_id] = {"prompt": prompt, "polls": 0, "refused": refused}
            return _json(200, {"id": task_id, "status": "queued"})
        if refused:
            return _json(400, {"error": {"message": "prompt rejected by content policy"}})
        return _json(200, {"created": 0, "data": [self._item(prompt)]})

    def _poll(self, task_id: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:
                return _json(404, {"error": {"message": "no such task"}})
            task["polls"] += 1
            done = task["polls"] > self.polls_before_done
        if not done:
            return _json(200, {"id": task_id, "status": "processing"})
        if task["refused"]:
            return _json(
                200,
                {"id": task_id, "status": "failed", "error": {"message": "generation failed"}},
            )
        return _json(
            200, {"id": task_id, "status": "succeeded", "data": [self._item(task["prompt"])]}
        )

    def _item(self, prompt: str) -> dict[str, str]:
        data = self.image_for(prompt)
        if self.mode == "url":
            name = f"{hashlib.sha256(data).hexdigest()[:16]}.png"
            with self._lock:
                self._files[name] = data
            return {"url": f"{self.base_url}/files/{name}"}
        return {"b64_json": base64.b64encode(data).decode()}


def _read_fields(handler: BaseHTTPRequestHandler) -> tuple[dict[str, str], dict[str, bytes]]:
    length = int(handler.headers.get("Content-Length") or 0)
    body = handler.rfile.read(length) if length else b""
    content_type = handler.headers.get("Content-Type", "")
    if content_type.startswith("application/json") and body:
        return {k: str(v) for k, v in json.loads(body).items()}, {}
    if content_type.startswith("multipart/form-data"):
        message = email.parser.BytesParser(policy=email.policy.default).parsebytes(
            f"Content-Type: {content_type}\r\n\r\n".encode() + body
        )
        fields: dict[str, str] = {}
        files: dict[str, bytes] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition") or "")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename():
                files[name] = payload
            elif name:
                fields[name] = payload.decode()
        return fields, files
    return {}, {}


def _json(
    status: int, body: dict[str, Any], retry_after: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": "application/json"}
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    return status, headers, json.dumps(body).encode()


@contextmanager
def serve_image_api(api: FakeImageAPI | None = None) -> Iterator[FakeImageAPI]:
    """Run the fake on 127.0.0.1 (a free port) for the duration of the block."""
    api = api or FakeImageAPI()

    class Handler(BaseHTTPRequestHandler):
        def _respond(self) -> None:
            status, headers, body = api.handle(self)
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _respond
        do_POST = _respond

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
