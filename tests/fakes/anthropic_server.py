"""A local stand-in for the Anthropic Messages API, speaking its wire protocol over real HTTP.

The real SDK is pointed at it (base_url); tests script its answers and errors and inspect
every request it received. The `anthropic_server` fixture below serves the whole suite once
tests/conftest.py says `pytest_plugins = ["tests.fakes.anthropic_server"]`; a module can
also make its own with `running_server()`:

    def test_x(anthropic_server, redis_conn):
        anthropic_server.queue(Reply.overloaded(), Reply.answer())
        client = ClaudeClient(
            anthropic_server.settings(), stage="t", model="m", timeout=5, redis=redis_conn
        )

Answers for tools other than recognition's are added by tool name:
    anthropic_server.answers["record_listing_draft"] = lambda request_json: {...}

Structured outputs (`messages.parse`, `output_config.format`) are answered with a JSON text
block from the same answers, keyed by the schema's title as a tool name would be
("ListingDraft" -> "record_listing_draft").

A fault storm makes unscripted requests misbehave at random, as a real API on a bad day:
    anthropic_server.faults = FaultPlan(rate_limited=0.2, overloaded=0.1, server_error=0.05,
                                        malformed=0.1, dropped=0.02, seed=7)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import itertools
import json
import random
import re
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from PIL import Image

from shelfready_core.config import Settings

Answer = Callable[[dict[str, Any]], dict[str, Any]]
"""Builds a tool's input from the request JSON."""

FAKE_API_KEY = "sk-ant-fake-test-key-0000"
MAX_IMAGE_BASE64_BYTES = 5 * 1024 * 1024  # the API's limit, on the base64 text
MAX_IMAGE_SIDE = 8000


@dataclass
class Reply:
    """One scripted behaviour. Build with the class methods."""

    status: int = 200
    error_body: dict[str, Any] | None = None  # an error response body, sent as is
    tool_input: dict[str, Any] | None = None  # a tool_use answer with this input
    stop_reason: str = "tool_use"
    message_fields: dict[str, Any] = field(default_factory=dict)  # merged into the message
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0
    raw_body: bytes | None = None  # sent as is with `status` (a malformed body)
    drop: bool = False  # close the connection without answering (after delay_seconds)

    @classmethod
    def answer(cls, tool_input: dict[str, Any] | None = None) -> Reply:
        """A tool_use answer; None means "ask the server's answer for that tool"."""
        return cls(tool_input=tool_input)

    @classmethod
    def error(
        cls, status: int, error_type: str, message: str, *, retry_after: float | None = None
    ) -> Reply:
        headers = {"retry-after": f"{retry_after:g}"} if retry_after is not None else {}
        body = {"type": "error", "error": {"type": error_type, "message": message}}
        return cls(status=status, error_body=body, headers=headers)

    @classmethod
    def overloaded(cls, retry_after: float | None = 0.01) -> Reply:
        return cls.error(529, "overloaded_error", "Overloaded", retry_after=retry_after)

    @classmethod
    def rate_limited(cls, retry_after: float | None = 0.01) -> Reply:
        message = "Number of request tokens has exceeded your per-minute rate limit"
        return cls.error(429, "rate_limit_error", message, retry_after=retry_after)

    @classmethod
    def server_error(cls, retry_after: float | None = 0.01) -> Reply:
        return cls.error(500, "api_error", "Internal server error", retry_after=retry_after)

    @classmethod
    def unauthorized(cls) -> Reply:
        """What the API answers a revoked or mistyped key."""
        return cls.error(401, "authentication_error", "invalid x-api-key")

    @classmethod
    def slow(cls, seconds: float, tool_input: dict[str, Any] | None = None) -> Reply:
        """Answers only after `seconds` (longer than the client timeout: a timeout)."""
        return cls(tool_input=tool_input, delay_seconds=seconds)

    @classmethod
    def malformed(cls) -> Reply:
        """HTTP 200 whose body is cut off mid-JSON, as a broken proxy or connection sends."""
        return cls(raw_body=b'{"id": "msg_fake_broken", "type": "message", "content": [{"ty')

    @classmethod
    def dropped(cls, after_seconds: float = 0.2) -> Reply:
        """No answer at all: the connection is closed after a wait (an idle-timeout cut)."""
        return cls(drop=True, delay_seconds=after_seconds)

    @classmethod
    def refusal(cls, explanation: str = "This request was declined.") -> Reply:
        details = {"type": "refusal", "category": None, "explanation": explanation}
        return cls(stop_reason="refusal", message_fields={"stop_details": details})

    @classmethod
    def truncated(cls, partial_input: dict[str, Any] | None = None) -> Reply:
        """A tool_use cut off by max_tokens (its input incomplete)."""
        return cls(tool_input=partial_input or {}, stop_reason="max_tokens")


@dataclass
class FaultPlan:
    """Random faults for unscripted requests, each with its probability.

    Repeatable whatever the order requests arrive in: the dice for a request are seeded with
    the plan's seed, a digest of what the request asks and how often that was asked before,
    so a retry of the same request rolls again but a run rolls the same as the last one.
    """

    rate_limited: float = 0.0
    overloaded: float = 0.0
    server_error: float = 0.0
    malformed: float = 0.0
    dropped: float = 0.0
    seed: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    _asked: dict[str, int] = field(default_factory=dict)

    def pick(self, body: dict[str, Any] | None = None) -> Reply:
        digest = hashlib.sha256(
            json.dumps((body or {}).get("messages"), sort_keys=True).encode()
        ).hexdigest()
        nth = self._asked.get(digest, 0)
        self._asked[digest] = nth + 1
        roll = random.Random(f"{self.seed}:{digest}:{nth}").random()
        for name, chance, make in (
            ("rate_limited", self.rate_limited, Reply.rate_limited),
            ("overloaded", self.overloaded, Reply.overloaded),
            ("server_error", self.server_error, Reply.server_error),
            ("malformed", self.malformed, Reply.malformed),
            ("dropped", self.dropped, Reply.dropped),
        ):
            if roll < chance:
                self.counts[name] = self.counts.get(name, 0) + 1
                return make()
            roll -= chance
        self.counts["answered"] = self.counts.get("answered", 0) + 1
        return Reply.answer()


def schema_tool_name(title: str) -> str:
    """'ListingDraft' -> 'record_listing_draft', as the client names its forced tool."""
    return "record_" + re.sub(r"(?<!^)(?=[A-Z])", "_", title).lower()


@dataclass
class RecordedRequest:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def structured_output(self) -> bool:
        """Whether the request asks for structured outputs (a JSON schema, no tool)."""
        return bool((self.body.get("output_config") or {}).get("format"))

    @property
    def tool_name(self) -> str | None:
        if self.structured_output:
            schema = self.body["output_config"]["format"].get("schema") or {}
            return schema_tool_name(str(schema.get("title", "answer")))
        choice = self.body.get("tool_choice") or {}
        if choice.get("name"):
            return str(choice["name"])
        tools = self.body.get("tools") or []
        return str(tools[0]["name"]) if tools else None

    def image_sources(self) -> list[dict[str, Any]]:
        return [block["source"] for block in _blocks(self.body) if block.get("type") == "image"]

    def images(self) -> list[Image.Image]:
        return [
            Image.open(io.BytesIO(base64.b64decode(source["data"])))
            for source in self.image_sources()
        ]

    def text(self) -> str:
        """All text the request carries in its messages (text blocks and tool results)."""
        parts = []
        for block in _blocks(self.body):
            if block.get("type") == "text":
                parts.append(block["text"])
            elif block.get("type") == "tool_result":
                content = block.get("content")
                parts.append(content if isinstance(content, str) else json.dumps(content))
        return "\n".join(parts)


def _blocks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for message in body.get("messages", []):
        content = message.get("content")
        if isinstance(content, str):
            yield {"type": "text", "text": content}
        else:
            yield from content or []


def default_recognition_answer(request: dict[str, Any]) -> dict[str, Any]:
    """A valid ProductAnalysis for the (last) image sent: box = the middle 60% of it."""
    width, height = 1000, 1000
    sources = [b["source"] for b in _blocks(request) if b.get("type") == "image"]
    if sources:
        with Image.open(io.BytesIO(base64.b64decode(sources[-1]["data"]))) as image:
            width, height = image.size
    return {
        "product_type": "water bottle",
        "product_name": "Insulated Stainless Steel Water Bottle",
        "category": "Sports & Outdoors > Water Bottles",
        "materials": ["stainless steel"],
        "colors": ["red"],
        "functional_cues": ["screw cap", "carry loop"],
        "interactive_features": ["twist to open"],
        "use_scenarios": ["gym", "hiking"],
        "target_audience": ["athletes", "commuters"],
        "keywords": ["water bottle", "insulated", "stainless steel"],
        "visible_text": [],
        "brand_marks": [],
        "bounding_box": {
            "x": width // 5,
            "y": height // 5,
            "width": width * 3 // 5,
            "height": height * 3 // 5,
        },
        "confidence": 0.9,
        "description": "A red insulated water bottle with a screw cap and carry loop.",
    }


class FakeAnthropicServer:
    """`POST /v1/messages` on 127.0.0.1:<free port>, answered from a script, then by tool name."""

    def __init__(
        self, answers: dict[str, Answer] | None = None, *, answer_delay_seconds: float = 0.0
    ) -> None:
        # Unscripted answers come after this long, like a real model's latency (benchmarks).
        self.answer_delay_seconds = answer_delay_seconds
        self.answers: dict[str, Answer] = {"record_product_analysis": default_recognition_answer}
        self.answers.update(answers or {})
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was answering at the same time
        self._script: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.request_ids = itertools.count(1)
        self._cached_prefixes: set[str] = set()
        self._stopping = threading.Event()
        # 401 mode: every request's key is refused, as for a revoked key, until set False.
        self.rejecting_key = False
        self.faults: FaultPlan | None = None
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeAnthropicServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes slow replies
        self._httpd.shutdown()
        self._httpd.server_close()

    def queue(self, *replies: Reply) -> None:
        """Script the next responses, in order; when the script is empty, answers are built."""
        with self._lock:
            self._script.extend(replies)

    def clear_script(self) -> None:
        with self._lock:
            self._script.clear()

    def settings(self, **overrides: Any) -> Settings:
        """Settings that point the real SDK at this server with a fake key."""
        values: dict[str, Any] = {
            "anthropic_api_key": FAKE_API_KEY,
            "anthropic_base_url": self.url,
            "ai_provider": "claude",
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[call-arg]

    @property
    def message_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.startswith("/v1/messages")]

    # -- request handling (called on the server's threads) --

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict, dict]:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._handle(path, headers, raw)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict, dict]:
        try:
            body = json.loads(raw or b"{}")
        except json.JSONDecodeError as exc:
            return 400, _error("invalid_request_error", f"body is not JSON: {exc}"), {}
        recorded = RecordedRequest(path=path, headers=headers, body=body)
        with self._lock:
            self.requests.append(recorded)
            if self._script:
                reply = self._script.popleft()
            elif self.faults is not None:
                reply = self.faults.pick(body)
            else:
                reply = Reply(delay_seconds=self.answer_delay_seconds)
        if path.rstrip("/") != "/v1/messages":
            return 404, _error("not_found_error", f"no route {path}"), {}
        # This SDK sends the key as a bearer token; older ones as x-api-key.
        has_key = "x-api-key" in headers or headers.get("authorization", "").startswith("Bearer ")
        if not has_key or "anthropic-version" not in headers:
            return 401, _error("authentication_error", "API key or anthropic-version missing"), {}
        if self.rejecting_key:
            return 401, _error("authentication_error", "invalid x-api-key"), {}
        problem = _check_request(body)
        if problem:
            return 400, _error("invalid_request_error", problem), {}
        if reply.delay_seconds and self._stopping.wait(reply.delay_seconds):
            return 529, _error("overloaded_error", "server stopping"), {}
        if reply.drop:
            return DROP, {}, {}
        if reply.raw_body is not None:
            return reply.status, {RAW: reply.raw_body}, reply.headers
        if reply.error_body is not None:
            return reply.status, reply.error_body, reply.headers
        return 200, self._message(body, reply, recorded), reply.headers

    def _message(self, body: dict[str, Any], reply: Reply, request: RecordedRequest) -> dict:
        number = next(self._ids)
        content: list[dict[str, Any]] = []
        if reply.stop_reason != "refusal":
            tool_input = reply.tool_input
            if tool_input is None:
                answer = self.answers.get(request.tool_name or "")
                if answer is None:
                    raise LookupError(
                        f"fake Anthropic server has no answer for {request.tool_name}"
                    )
                tool_input = answer(body)
            tool_use_id = f"toolu_fake_{number:04d}"
            if request.structured_output:  # constrained decoding: the answer is JSON text
                content = [{"type": "text", "text": json.dumps(tool_input, ensure_ascii=False)}]
            else:
                content = [
                    {
                        "type": "tool_use",
                        "id": tool_use_id,
                        "name": request.tool_name,
                        "input": tool_input,
                    }
                ]
        message = {
            "id": f"msg_fake_{number:04d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": content,
            "stop_reason": (
                "end_turn"
                if request.structured_output and reply.stop_reason == "tool_use"
                else reply.stop_reason
            ),
            "stop_sequence": None,
            "usage": self._usage(body, content),
        }
        message.update(reply.message_fields)
        return message

    def _usage(self, body: dict[str, Any], content: list[dict[str, Any]]) -> dict[str, int]:
        """Rough counts (the fake cannot tokenize): ~4 characters a token, images w*h/750."""
        system = json.dumps(body.get("system", "")) + json.dumps(body.get("tools", []))
        cached = "cache_control" in json.dumps(body.get("system", ""))
        system_tokens = len(system) // 4
        text_tokens = len(RecordedRequest("", {}, body).text()) // 4
        image_tokens = 0
        for block in _blocks(body):
            if block.get("type") == "image":
                data = base64.b64decode(block["source"]["data"])
                with Image.open(io.BytesIO(data)) as image:
                    image_tokens += image.width * image.height // 750
        usage = {
            "input_tokens": max(1, text_tokens + image_tokens),
            "output_tokens": max(1, len(json.dumps(content)) // 4),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        if not cached:
            usage["input_tokens"] += system_tokens
            return usage
        with self._lock:
            seen = system in self._cached_prefixes
            self._cached_prefixes.add(system)
        usage["cache_read_input_tokens" if seen else "cache_creation_input_tokens"] = system_tokens
        return usage


DROP = -1  # handle() status meaning "close the connection without answering"
RAW = "__raw_body__"  # handle() body key holding bytes to send as they are


def _error(error_type: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": error_type, "message": message}}


def _check_request(body: dict[str, Any]) -> str | None:
    """The checks of the real API that our client could get wrong."""
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            return f"{name}: Field required"
    for index, block in enumerate(_blocks(body)):
        if block.get("type") != "image":
            continue
        data = block["source"].get("data", "")
        if len(data) > MAX_IMAGE_BASE64_BYTES:
            return f"image {index}: image exceeds 5 MB maximum: {len(data)} bytes > 5242880 bytes"
        try:
            with Image.open(io.BytesIO(base64.b64decode(data, validate=True))) as image:
                if max(image.size) > MAX_IMAGE_SIDE:
                    return f"image {index}: dimensions exceed max allowed size: 8000 pixels"
        except (binascii.Error, OSError) as exc:
            return f"image {index}: could not process image: {exc}"
    return None


def _handler_for(server: FakeAnthropicServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {key.lower(): value for key, value in self.headers.items()}
            try:
                status, body, extra = server.handle(self.path, headers, raw)
            except Exception as exc:  # a bug in a test's answer: say so in the response
                status, body, extra = 400, _error("invalid_request_error", repr(exc)), {}
            if status == DROP:
                self.close_connection = True
                return
            payload = body[RAW] if RAW in body else json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.send_header("request-id", f"req_fake_{next(server.request_ids):04d}")
                for key, value in extra.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@contextmanager
def running_server(answers: dict[str, Answer] | None = None) -> Iterator[FakeAnthropicServer]:
    server = FakeAnthropicServer(answers).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def anthropic_server() -> Iterator[FakeAnthropicServer]:
    """A running fake Messages API; `anthropic_server.settings()` points a client at it."""
    with running_server() as server:
        yield server
