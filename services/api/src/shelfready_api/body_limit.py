"""A cap on request body size, enforced while the body arrives (before it is spooled to disk).

Starlette spools a whole multipart upload before the endpoint sees it, so the endpoint's own
size check alone would let a huge upload fill the disk first.
"""

from __future__ import annotations

import logging

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"request body is larger than the {limit}-byte limit")
        self.limit = limit


def too_large_response(limit: int) -> JSONResponse:
    return JSONResponse(
        {"detail": f"request body is larger than the {limit}-byte limit"}, status_code=413
    )


class BodySizeLimit:
    """ASGI middleware: 413 at once for a declared Content-Length above `max_bytes`; for a
    chunked body, BodyTooLarge is raised from `receive` as soon as the count passes it."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            log.info("refused a %s-byte request to %s", declared.decode(), scope["path"])
            await too_large_response(self.max_bytes)(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)
