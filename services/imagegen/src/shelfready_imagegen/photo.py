"""Decoding seller photos cheaply and bringing any image mode to RGB or RGBA."""

from __future__ import annotations

import io
import logging

import numpy as np
from PIL import Image, ImageOps, JpegImagePlugin

from shelfready_core import defaults, photo_formats  # photo_formats: HEIC/HEIF decoding
from shelfready_core.schemas import BoundingBox

logger = logging.getLogger(__name__)


class PhotoError(ValueError):
    """The bytes are not a usable photo (not an image, too many pixels, truncated)."""


def load_photo(data: bytes, max_side: int = 4000) -> Image.Image:
    """Decode, EXIF-transpose and normalise a photo, its long side at most `max_side`.

    Big JPEGs are decoded with `Image.draft()`, which lets libjpeg scale by 1/2, 1/4 or 1/8
    while decoding, so a 24 MP photo never needs its full-size bitmap when a smaller one will do.
    """
    assert photo_formats.ACCEPTED_FORMATS  # imported for its decoders, used by Image.open
    try:
        image: Image.Image = Image.open(io.BytesIO(data))
    except Exception as exc:
        raise PhotoError(f"not a decodable image ({exc.__class__.__name__})") from exc
    width, height = image.size
    if width * height > defaults.MAX_IMAGE_PIXELS:
        raise PhotoError(
            f"photo has {width}x{height} pixels, above the {defaults.MAX_IMAGE_PIXELS} limit"
        )
    if isinstance(image, JpegImagePlugin.JpegImageFile) and max(width, height) > max_side:
        scale = max_side / max(width, height)
        # draft() keeps the size >= the request, so ask for the target size itself.
        image.draft("RGB", (max(1, int(width * scale)), max(1, int(height * scale))))
    try:
        image = ImageOps.exif_transpose(image)
        image.load()
    except Exception as exc:
        raise PhotoError(f"photo could not be decoded ({exc})") from exc
    image = to_rgb_or_rgba(image)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return image


def to_rgb_or_rgba(image: Image.Image) -> Image.Image:
    """RGB, or RGBA when the image carries transparency; handles P, LA, CMYK, 16-bit and float."""
    mode = image.mode
    if mode in ("RGB", "RGBA"):
        return image
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode in ("LA", "PA", "La", "RGBa"):
        return image.convert("RGBA")
    if mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        # Stretch the real range to 8 bits; PIL's own convert would just clip at 255.
        values = np.asarray(image, dtype=np.float32)
        low, high = float(values.min()), float(values.max())
        span = high - low or 1.0
        grey = ((values - low) * (255.0 / span)).astype(np.uint8)
        return Image.fromarray(grey).convert("RGB")
    if mode == "1":
        return image.convert("L").convert("RGB")
    return image.convert("RGB")  # L, CMYK, YCbCr, LAB, HSV


def has_real_transparency(image: Image.Image) -> bool:
    """True when an alpha channel actually hides part of the picture (more than 1%)."""
    if image.mode != "RGBA":
        return False
    alpha = np.asarray(image.getchannel("A"))
    return bool((alpha < 250).mean() > 0.01)


def scale_bbox(
    bbox: BoundingBox, from_size: tuple[int, int], to_size: tuple[int, int]
) -> BoundingBox:
    """The same box in the pixels of a resized copy of the photo (e.g. after `load_photo`)."""
    sx, sy = to_size[0] / from_size[0], to_size[1] / from_size[1]
    return BoundingBox(
        x=int(bbox.x * sx),
        y=int(bbox.y * sy),
        width=max(1, round(bbox.width * sx)),
        height=max(1, round(bbox.height * sy)),
    )
