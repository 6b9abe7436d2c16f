"""Getting the seller's photo: fetch it, prove it is an image, and decode it cheaply.

Everything a seller can get wrong raises InvalidInput with a sentence naming the problem
(a URL leading to an address we never fetch from included: it fails at once); network
trouble raises StageError so the job-level retry policy gets another go. URLs are fetched
through the fetch guard only.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from shelfready_core import defaults
from shelfready_core.decode_budget import check_decode_budget
from shelfready_core.errors import InvalidInput
from shelfready_core.fetch_guard import FetchPolicy, guarded_get
from shelfready_core.photo_formats import ACCEPTED_FORMATS, ACCEPTED_NAMES
from shelfready_core.producer import STORAGE_SOURCE_PREFIX, url_scheme
from shelfready_core.storage import Storage
from shelfready_recognition.prepare import target_size

log = logging.getLogger(__name__)

# Analysis never needs more than this; JPEG draft mode decodes at 1/2, 1/4 or 1/8 scale.
ANALYSIS_MAX_SIDE = 2048


@dataclass
class Photo:
    image: Image.Image  # EXIF-transposed, possibly reduced for analysis
    format: str
    content_type: str
    extension: str
    width: int  # full size after EXIF transpose
    height: int

    @property
    def scale_to_full(self) -> float:
        return self.width / self.image.width


def fetch_source(source: str, storage: Storage, name: str, policy: FetchPolicy) -> bytes:
    if source.startswith(STORAGE_SOURCE_PREFIX):
        return storage.get(source.removeprefix(STORAGE_SOURCE_PREFIX))
    if url_scheme(source) in ("http", "https"):
        return download(source, policy)
    raise InvalidInput(f"unsupported photo source for {name!r}: expected an upload or http(s) URL")


def download(url: str, policy: FetchPolicy | None = None) -> bytes:
    """The photo at `url`, through the fetch guard (address checks, one deadline, size cap)."""
    return guarded_get(url, policy or FetchPolicy())


def open_photo(data: bytes, name: str) -> Photo:
    """Validate by content (not by file name) and decode at a size fit for analysis."""
    if not data:
        raise InvalidInput(f"{name!r} is empty")
    try:
        image: Image.Image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise InvalidInput(
            f"{name!r} is not an image we can read (accepted: {ACCEPTED_NAMES})"
        ) from exc
    except Image.DecompressionBombError as exc:
        raise InvalidInput(f"{name!r} has too many pixels to be a product photo") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{name!r} is damaged or truncated: {exc}") from exc
    if image.format not in ACCEPTED_FORMATS:
        raise InvalidInput(f"{name!r} is a {image.format} image; accepted: {ACCEPTED_NAMES}")
    width, height = image.size
    if width * height > defaults.MAX_IMAGE_PIXELS:
        raise InvalidInput(
            f"{name!r} is {width}x{height} ({width * height / 1e6:.0f} MP); "
            f"the limit is {defaults.MAX_IMAGE_PIXELS / 1e6:.0f} MP"
        )
    if min(width, height) < defaults.MIN_IMAGE_SIDE:
        raise InvalidInput(
            f"{name!r} is {width}x{height}; the shorter side must be at least "
            f"{defaults.MIN_IMAGE_SIDE} px"
        )
    content_type, extension = ACCEPTED_FORMATS[image.format]
    # Before any pixel is decoded: PNG and WebP decode at full size whatever we ask for.
    check_decode_budget(image, name, target=target_size(width, height))
    try:
        orientation = image.getexif().get(0x0112, 1)
        # Decode no bigger than what Claude will receive: libjpeg scales by 1/2, 1/4 or 1/8
        # while both sides stay at or above the request, so the request must keep the
        # photo's aspect ratio (a square one would leave a 3:2 photo at full size).
        image.draft("RGB", target_size(width, height))
        image.load()
        image = ImageOps.exif_transpose(image) or image
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"{name!r} is damaged or truncated: {exc}") from exc
    if orientation in (5, 6, 7, 8):  # 90-degree rotations swap the full-size sides too
        width, height = height, width
    if image.mode not in ("RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    image.thumbnail((ANALYSIS_MAX_SIDE, ANALYSIS_MAX_SIDE), Image.Resampling.LANCZOS)
    return Photo(image, image_format_name(content_type), content_type, extension, width, height)


def image_format_name(content_type: str) -> str:
    return content_type.split("/", 1)[1].upper()
