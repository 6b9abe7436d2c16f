"""Fetching and validating the seller's photo: every mistake gets a sentence naming it."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from PIL import Image

from shelfready_core import defaults
from shelfready_core.errors import InvalidInput, StageError
from shelfready_core.fetch_guard import FetchPolicy
from shelfready_recognition.image_input import ANALYSIS_MAX_SIDE, download, open_photo

# The test server is on loopback: allowed here as an operator would allow a private CDN.
LOOPBACK = FetchPolicy.build(["127.0.0.1"])

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _jpeg(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def photo_server() -> Iterator[str]:
    """Serves /ok.jpg, /big (over the size limit, no Content-Length), /missing and /boom."""
    body = (SAMPLES / "ceramic-coffee-mug.jpg").read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/ok.jpg":
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path == "/big":
                self.send_response(200)
                self.end_headers()
                chunk = b"\0" * 1024 * 1024
                for _ in range(defaults.MAX_DOWNLOAD_BYTES // len(chunk) + 2):
                    self.wfile.write(chunk)
            else:
                self.send_response(404 if self.path == "/missing" else 503)
                self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_returns_the_photo(photo_server: str) -> None:
    assert (
        download(f"{photo_server}/ok.jpg", LOOPBACK)
        == (SAMPLES / "ceramic-coffee-mug.jpg").read_bytes()
    )


def test_download_stops_at_the_size_limit(photo_server: str) -> None:
    with pytest.raises(InvalidInput, match="larger than"):
        download(f"{photo_server}/big", LOOPBACK)


def test_missing_photo_is_bad_input_but_a_server_error_is_retryable(photo_server: str) -> None:
    with pytest.raises(InvalidInput, match="404"):
        download(f"{photo_server}/missing", LOOPBACK)
    with pytest.raises(StageError, match="503"):
        download(f"{photo_server}/boom", LOOPBACK)


def test_text_file_is_refused_by_content_not_name() -> None:
    with pytest.raises(InvalidInput, match=r"'notes\.jpg' is not an image"):
        open_photo(b"just some text, not a picture", "notes.jpg")


def test_tiny_and_empty_and_truncated_photos_are_refused() -> None:
    with pytest.raises(InvalidInput, match="at least 200 px"):
        open_photo(_jpeg(120, 90), "tiny.jpg")
    with pytest.raises(InvalidInput, match="empty"):
        open_photo(b"", "empty.jpg")
    with pytest.raises(InvalidInput, match="damaged or truncated"):
        open_photo(_jpeg(800, 600)[:600], "cut.jpg")


def test_exif_rotation_is_applied_and_full_size_reported() -> None:
    photo = open_photo((SAMPLES / "glass-scented-candle.jpg").read_bytes(), "candle.jpg")
    assert (photo.width, photo.height) == (1200, 1600)  # stored 1600x1200, orientation 6
    assert photo.image.size == (1200, 1600)
    assert photo.content_type == "image/jpeg"


def test_big_photo_is_decoded_small_for_analysis_with_its_full_size_kept() -> None:
    photo = open_photo(_jpeg(6000, 4000), "big.jpg")
    assert (photo.width, photo.height) == (6000, 4000)
    assert max(photo.image.size) <= ANALYSIS_MAX_SIDE
    assert photo.scale_to_full == pytest.approx(6000 / photo.image.width)


@pytest.mark.parametrize(("fmt", "content_type"), [("HEIF", "image/heic"), ("AVIF", "image/avif")])
def test_iphone_heic_and_avif_photos_are_accepted_upright(fmt: str, content_type: str) -> None:
    """The iPhone default (HEIC) and AVIF, with an EXIF turn of 90°: upright, full size kept."""
    image = Image.new("RGB", (900, 600), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, 300, 600))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif.tobytes(), quality=90)
    photo = open_photo(buffer.getvalue(), f"IMG_0001.{fmt.lower()}")
    assert photo.content_type == content_type
    assert (photo.width, photo.height) == (600, 900)
    assert photo.image.width < photo.image.height
    top = photo.image.getpixel((photo.image.width // 2, 10))
    assert top[2] > 150 > top[0]  # the blue left third is on top after one turn
