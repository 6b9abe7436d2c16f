"""Why body_limit.py is ours and not FastAPI's `max_body_size`, and that ours answers in the API's
error shape ({"detail": ...}, as every other error) whether the size is declared or counted.

FastAPI (0.165) has a native limit, but a body whose declared Content-Length is over it gets a
plain-text "Content Too Large" sent past every exception handler; only a chunked body reaches
them. If the first test fails, FastAPI's limit answers in JSON now: switch to it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import FastAPI, File, Request, UploadFile
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.exceptions import HTTPException

from shelfready_api.app import MAX_REQUEST_BYTES
from tests.api.conftest import image_bytes

LIMIT = 100


def _native_limit_app() -> FastAPI:
    app = FastAPI(max_body_size=LIMIT)

    @app.exception_handler(HTTPException)
    async def as_json(_: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": f"handled: {exc.detail}"}, status_code=exc.status_code)

    @app.post("/upload")
    async def upload(file: Annotated[UploadFile, File()]) -> dict[str, int]:
        return {"bytes": len(await file.read())}

    return app


def test_fastapis_own_limit_bypasses_our_handlers_for_a_declared_length() -> None:
    client = TestClient(_native_limit_app())
    response = client.post("/upload", files={"file": ("a.jpg", b"x" * 10 * LIMIT, "image/jpeg")})

    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == "Content Too Large"


def _chunked(total: int) -> Iterator[bytes]:
    """A generator body goes out chunked, without Content-Length: only counting catches it."""
    yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'
    chunk = b"\0" * (1024 * 1024)
    for _ in range(total // len(chunk) + 1):
        yield chunk


def _assert_our_413(response) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "detail": f"request body is larger than the {MAX_REQUEST_BYTES}-byte limit"
    }


def test_a_declared_oversized_upload_gets_our_json_413(client: TestClient) -> None:
    too_big = image_bytes() + b"\0" * MAX_REQUEST_BYTES
    response = client.post("/api/workflows", files={"file": ("big.png", too_big, "image/png")})
    _assert_our_413(response)


def test_a_chunked_oversized_upload_gets_our_json_413(client: TestClient) -> None:
    response = client.post(
        "/api/workflows",
        content=_chunked(MAX_REQUEST_BYTES),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    _assert_our_413(response)


def test_a_body_within_the_limit_reaches_the_endpoint(client: TestClient) -> None:
    response = client.post("/api/workflows", files={"file": ("ok.png", image_bytes(), "image/png")})
    assert response.status_code == 202, response.text
