"""Optional OpenAI-compatible image API: it paints the scene image's setting (render_api_scene).

Wire protocol (what `tests/fakes/image_api_server.py` speaks):
- `POST {base}/v1/images/edits`: multipart, the picture to edit as `image` (and `mask`, whose
  transparent pixels are the area to paint) plus model, prompt, size, n and response_format
  fields (used when a reference is given, the default);
- `POST {base}/v1/images/generations`: JSON {model, prompt, size, n, response_format};
- the answer is either immediate, `{"data": [{"b64_json": ...}]}` or `{"data": [{"url": ...}]}`,
  or a task, `{"id": ..., "status": "queued" | "processing"}`, polled at
  `GET {base}/v1/images/tasks/{id}` until `succeeded` (same `data` shape) or `failed` (`error`).

Each HTTP request is retried (tenacity) on 429 (honouring Retry-After), 5xx and transport
errors. The shared circuit breaker (`shelfready_core.claude.breaker`, name "image-api") counts
service failures; a refused prompt (4xx) is the caller's problem and does not trip it.
The API key is sent only to the configured host and never appears in logs, errors or reprs.
"""

from __future__ import annotations

import base64
import email.utils
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr
from redis import Redis
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from shelfready_core import defaults
from shelfready_core.claude.breaker import BreakerOpen, CircuitBreaker, make_breaker
from shelfready_core.errors import CredentialRejected
from shelfready_core.stages import get_stage_settings
from shelfready_imagegen.stage import ImagegenSettings

logger = logging.getLogger(__name__)

BREAKER_NAME = "image-api"
IMAGE_SIZE = "1024x1024"
PENDING = {"queued", "processing", "pending", "running", "in_progress"}
MAX_RETRY_AFTER_SECONDS = 60.0
MAX_ERROR_TEXT = 300


class SecondaryImageProvider(Protocol):
    def generate(
        self, *, kind: str, prompt: str, reference: bytes, mask: bytes | None = None
    ) -> bytes:
        """Return an encoded image (any size) for one secondary image kind: `reference` is
        the picture to edit, `mask` a PNG whose transparent pixels are the area to paint."""
        ...


class ImageAPIError(RuntimeError):
    """The image API refused or could not answer this request."""


class ImageAPIUnavailable(ImageAPIError):
    """The service itself failed (5xx, 429 or transport errors after retries, task timeout)."""


class ImageAPICredentialRejected(ImageAPIError, CredentialRejected):
    """The image API refused SHELFREADY_IMAGE_API_KEY (401/403): every worker's calls would
    fail the same way, so the shared breaker is tripped with that cause until it is fixed."""

    def __init__(self, message: str) -> None:
        ImageAPIError.__init__(self, message)
        CredentialRejected.__init__(self, message, "SHELFREADY_IMAGE_API_KEY")


class _Transient(ImageAPIUnavailable):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OpenAIImagesProvider:
    """A SecondaryImageProvider backed by an OpenAI-compatible images endpoint."""

    def __init__(
        self,
        base_url: str,
        api_key: SecretStr | None,
        model: str,
        *,
        timeout: float = 120.0,
        mode: Literal["edits", "generations"] = "edits",
        size: str = IMAGE_SIZE,
        poll_interval: float = 2.0,
        task_timeout: float = 300.0,
        max_attempts: int = 4,
        breaker: CircuitBreaker | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        base = base_url.rstrip("/")
        self.base_url = base[: -len("/v1")] if base.endswith("/v1") else base
        self.model = model
        self.mode = mode
        self.size = size
        self.poll_interval = poll_interval
        self.task_timeout = task_timeout
        self.max_attempts = max_attempts
        self.breaker = breaker
        self._secret = api_key.get_secret_value() if api_key else ""
        self._sleep = sleep
        headers = {"Authorization": f"Bearer {self._secret}"} if self._secret else {}
        self._client = httpx.Client(
            base_url=self.base_url,
            headers=headers,
            timeout=httpx.Timeout(timeout, connect=10.0),
            transport=transport,
            follow_redirects=False,
        )
        self._host = urlsplit(self.base_url).netloc

    def __repr__(self) -> str:
        return f"OpenAIImagesProvider(base_url={self.base_url!r}, model={self.model!r})"

    def close(self) -> None:
        self._client.close()

    def generate(
        self, *, kind: str, prompt: str, reference: bytes, mask: bytes | None = None
    ) -> bytes:
        if self.breaker is not None:
            try:
                self.breaker.admit()
            except BreakerOpen as exc:
                raise ImageAPIUnavailable(f"image API unavailable: {exc}") from exc
        started = time.monotonic()
        try:
            answer = self._submit(prompt, reference, mask)
            image = self._resolve(answer)
        except ImageAPICredentialRejected as exc:
            if self.breaker is not None and exc.cause:
                self.breaker.trip(exc.cause)
            raise
        except ImageAPIUnavailable:
            if self.breaker is not None:
                self.breaker.record_failure()
            raise
        except ImageAPIError:
            if self.breaker is not None:
                self.breaker.record_success()  # the service answered; the request was refused
            raise
        if self.breaker is not None:
            self.breaker.record_success()
        logger.info(
            "image API produced %s image (%d bytes) in %.1f s",
            kind,
            len(image),
            time.monotonic() - started,
        )
        return image

    # --- requests -------------------------------------------------------------------------

    def _submit(self, prompt: str, reference: bytes, mask: bytes | None) -> dict[str, Any]:
        fields = {
            "model": self.model,
            "prompt": prompt,
            "size": self.size,
            "n": 1,
            "response_format": "b64_json",
        }
        if self.mode == "edits" and reference:
            files = {"image": _upload("product", reference)}
            if mask:
                files["mask"] = _upload("mask", mask)
            data = {key: str(value) for key, value in fields.items()}
            response = self._request("POST", "/v1/images/edits", data=data, files=files)
        else:
            response = self._request("POST", "/v1/images/generations", json=fields)
        return self._json(response)

    def _resolve(self, answer: dict[str, Any]) -> bytes:
        if answer.get("data"):
            return self._image_from(answer["data"][0])
        status = str(answer.get("status", "")).lower()
        task_id = answer.get("id")
        if status in PENDING and task_id:
            return self._poll(str(task_id))
        if status == "failed":
            raise ImageAPIError(f"image API task failed: {self._error_text(answer)}")
        raise ImageAPIError("image API answer has neither image data nor a task id")

    def _poll(self, task_id: str) -> bytes:
        deadline = time.monotonic() + self.task_timeout
        while time.monotonic() < deadline:
            self._sleep(self.poll_interval)
            answer = self._json(self._request("GET", f"/v1/images/tasks/{task_id}"))
            status = str(answer.get("status", "")).lower()
            if status in ("succeeded", "completed", "success"):
                if not answer.get("data"):
                    raise ImageAPIError(f"image API task {task_id} succeeded without image data")
                return self._image_from(answer["data"][0])
            if status in ("failed", "error", "cancelled"):
                raise ImageAPIError(f"image API task {task_id} failed: {self._error_text(answer)}")
            if status not in PENDING:
                raise ImageAPIError(f"image API task {task_id} has unknown status {status!r}")
        raise ImageAPIUnavailable(
            f"image API task {task_id} did not finish within {self.task_timeout:.0f} s"
        )

    def _image_from(self, item: dict[str, Any]) -> bytes:
        if item.get("b64_json"):
            try:
                return base64.b64decode(item["b64_json"], validate=True)
            except ValueError as exc:
                raise ImageAPIError("image API returned invalid base64 image data") from exc
        if item.get("url"):
            return self._download(str(item["url"]))
        raise ImageAPIError("image API data item has neither b64_json nor url")

    def _download(self, url: str) -> bytes:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise ImageAPIError(f"image API returned a non-HTTP image URL ({parts.scheme})")
        if not parts.netloc or parts.netloc == self._host:
            response = self._request("GET", url)
        else:
            # Another host (a CDN): never send it our API key.
            with httpx.Client(timeout=self._client.timeout) as plain:
                response = self._request("GET", url, client=plain)
        if len(response.content) > defaults.MAX_DOWNLOAD_BYTES:
            raise ImageAPIError("image API image is larger than the download limit")
        return response.content

    def _request(
        self, method: str, url: str, *, client: httpx.Client | None = None, **kwargs: Any
    ) -> httpx.Response:
        client = client or self._client
        retrying = Retrying(
            retry=retry_if_exception_type(_Transient),
            stop=stop_after_attempt(self.max_attempts),
            wait=_wait_for_retry,
            sleep=self._sleep,
            reraise=True,
            before_sleep=_log_retry,
        )
        return retrying(self._send_once, client, method, url, **kwargs)

    def _send_once(
        self, client: httpx.Client, method: str, url: str, **kwargs: Any
    ) -> httpx.Response:
        try:
            response = client.request(method, url, **kwargs)
        except httpx.TransportError as exc:
            raise _Transient(f"image API request failed: {exc.__class__.__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(
                f"image API answered {response.status_code}: {self._error_text(response)}",
                retry_after=_retry_after(response.headers.get("retry-after")),
            )
        if response.status_code in (401, 403):
            raise ImageAPICredentialRejected(
                f"image API answered {response.status_code}: {self._error_text(response)}"
            )
        if response.status_code >= 400:
            raise ImageAPIError(
                f"image API answered {response.status_code}: {self._error_text(response)}"
            )
        return response

    def _json(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise ImageAPIError("image API answer is not JSON") from exc
        if not isinstance(body, dict):
            raise ImageAPIError("image API answer is not a JSON object")
        return body

    def _error_text(self, source: httpx.Response | dict[str, Any]) -> str:
        """The server's error message, shortened, with our key scrubbed should it echo it."""
        if isinstance(source, httpx.Response):
            try:
                body: Any = source.json()
            except ValueError:
                body = source.text
        else:
            body = source
        if isinstance(body, dict):
            error = body.get("error", body.get("message", ""))
            text = str(error.get("message", error) if isinstance(error, dict) else error)
        else:
            text = str(body)
        if self._secret:
            text = text.replace(self._secret, "***")
        return (text or "no error message")[:MAX_ERROR_TEXT]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


_backoff = wait_exponential_jitter(multiplier=0.5, max=8.0)


def _wait_for_retry(state: RetryCallState) -> float:
    exc = state.outcome.exception() if state.outcome else None
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return min(float(retry_after), MAX_RETRY_AFTER_SECONDS)
    return _backoff(state)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    logger.warning(
        "image API attempt %d failed (%s); retrying in %.1f s",
        state.attempt_number,
        exc,
        state.next_action.sleep if state.next_action else 0.0,
    )


def provider_from_settings(
    redis_conn: Redis, settings: ImagegenSettings | None = None
) -> OpenAIImagesProvider | None:
    """The configured image API provider (its circuit breaker shared by every worker through
    Redis), or None when SHELFREADY_IMAGE_API_URL is unset."""
    settings = settings or get_stage_settings(ImagegenSettings)
    if not settings.image_api_url:
        return None
    return OpenAIImagesProvider(
        settings.image_api_url,
        settings.image_api_key,
        settings.image_api_model,
        breaker=make_breaker(BREAKER_NAME, redis_conn),
    )


def _upload(name: str, data: bytes) -> tuple[str, bytes, str]:
    """A multipart file part named for what the bytes are (PNG plates, JPEG photos)."""
    if data.startswith(b"\x89PNG"):
        return f"{name}.png", data, "image/png"
    return f"{name}.jpg", data, "image/jpeg"
