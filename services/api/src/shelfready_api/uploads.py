"""Checking an uploaded photo before anything is stored: size, and that it really is an image.

The recognition stage checks again when it decodes the photo; checking here too means a seller
who picked the wrong file hears so at once, not from a FAILED workflow a few seconds later.
"""

from __future__ import annotations

import io
import logging
from dataclasses import dataclass
from http import HTTPStatus

from PIL import Image, UnidentifiedImageError

from shelfready_core import defaults
from shelfready_core.decode_budget import check_decode_budget
from shelfready_core.errors import InvalidInput
from shelfready_core.photo_formats import ACCEPTED_FORMATS, ACCEPTED_NAMES

log = logging.getLogger(__name__)


class UploadRejected(Exception):
    """The upload cannot become a workflow; `status` is the HTTP answer."""

    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class CheckedImage:
    format: str
    content_type: str
    width: int
    height: int


def check_size(data: bytes, name: str, limit: int = defaults.MAX_DOWNLOAD_BYTES) -> None:
    if len(data) > limit:
        raise UploadRejected(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"upload {name!r} is larger than the {limit}-byte limit",
        )
    if not data:
        raise UploadRejected(HTTPStatus.UNPROCESSABLE_ENTITY, f"upload {name!r} is empty")


def check_image(data: bytes, name: str) -> CheckedImage:
    """Identify the image by its content (never its file name) and verify its structure."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format, (width, height) = image.format or "", image.size
            image.verify()  # walks the file's structure without decoding the pixels
            # JPEG decodes reduced for analysis; PNG and WebP at full size (the decode budget).
            check_decode_budget(image, name, target=(1, 1))
    except InvalidInput as exc:
        raise UploadRejected(HTTPStatus.UNPROCESSABLE_ENTITY, f"upload {exc}") from exc
    except UnidentifiedImageError as exc:
        raise UploadRejected(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            f"upload {name!r} is not an image we can read (accepted: {ACCEPTED_NAMES})",
        ) from exc
    except Image.DecompressionBombError as exc:
        raise UploadRejected(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            f"upload {name!r} has too many pixels to be a product photo",
        ) from exc
    except (OSError, SyntaxError, ValueError) as exc:  # what verify() raises on broken files
        raise UploadRejected(
            HTTPStatus.UNPROCESSABLE_ENTITY, f"upload {name!r} is damaged or truncated: {exc}"
        ) from exc
    if image_format not in ACCEPTED_FORMATS:
        raise UploadRejected(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            f"upload {name!r} is a {image_format} image; accepted: {ACCEPTED_NAMES}",
        )
    if width * height > defaults.MAX_IMAGE_PIXELS:
        raise UploadRejected(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            f"upload {name!r} is {width}x{height} ({width * height / 1e6:.0f} MP); "
            f"the limit is {defaults.MAX_IMAGE_PIXELS / 1e6:.0f} MP",
        )
    if min(width, height) < defaults.MIN_IMAGE_SIDE:
        raise UploadRejected(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            f"upload {name!r} is {width}x{height}; the shorter side must be at least "
            f"{defaults.MIN_IMAGE_SIDE} px",
        )
    log.debug("upload %s is a %dx%d %s", name, width, height, image_format)
    return CheckedImage(image_format, ACCEPTED_FORMATS[image_format][0], width, height)
