"""Shrink and encode a photo for Claude vision, and map Claude's boxes back to the photo.

Claude downscales any image with a long edge over 1568 px (or over ~1.15 MP) on its side, so
sending more only costs upload time; an image costs about width * height / 750 tokens.
"""

from __future__ import annotations

import base64
import io
import logging
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps

from shelfready_core.schemas import BoundingBox

logger = logging.getLogger(__name__)

MAX_LONG_EDGE = 1568
MAX_PIXELS = 1_150_000
# The API's 5 MB image limit is checked on the base64 text, which is 4/3 of the raw bytes:
# 3.75 MiB of JPEG is exactly 5 MiB of base64.
MAX_BASE64_BYTES = 5 * 1024 * 1024
MAX_JPEG_BYTES = MAX_BASE64_BYTES * 3 // 4
# Start high (product details matter); step down only for pathological (noisy) images.
JPEG_QUALITIES = (85, 75, 65, 55, 45, 35)


@dataclass(frozen=True)
class PreparedImage:
    """The JPEG sent to Claude, and how its pixels relate to the photo it came from."""

    data: bytes
    width: int
    height: int
    original_size: tuple[int, int]
    quality: int
    media_type: str = "image/jpeg"

    @property
    def scale(self) -> tuple[float, float]:
        """Prepared pixels per original pixel, per axis (1.0 when not reduced)."""
        return self.width / self.original_size[0], self.height / self.original_size[1]

    @property
    def base64_data(self) -> str:
        return base64.b64encode(self.data).decode("ascii")

    def content_block(self) -> dict[str, Any]:
        """The Messages API image block for this image."""
        return {
            "type": "image",
            "source": {"type": "base64", "media_type": self.media_type, "data": self.base64_data},
        }


def target_size(width: int, height: int) -> tuple[int, int]:
    """The largest size within both limits, keeping the aspect ratio."""
    factor = min(1.0, MAX_LONG_EDGE / max(width, height), math.sqrt(MAX_PIXELS / (width * height)))
    if factor >= 1.0:
        return width, height
    # The epsilon keeps 3000 * (1568 / 3000) at 1568, not 1567; then re-check the limits.
    new_width = min(MAX_LONG_EDGE, max(1, math.floor(width * factor + 1e-6)))
    new_height = min(MAX_LONG_EDGE, max(1, math.floor(height * factor + 1e-6)))
    while new_width * new_height > MAX_PIXELS:
        if new_width >= new_height:
            new_width -= 1
        else:
            new_height -= 1
    return new_width, new_height


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency flattened onto white (cut-out product shots are common)."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode(image: Image.Image) -> tuple[bytes, int]:
    for quality in JPEG_QUALITIES:
        buffer = io.BytesIO()
        image.save(buffer, format="JPEG", quality=quality, optimize=True)
        data = buffer.getvalue()
        if len(data) <= MAX_JPEG_BYTES:
            return data, quality
        logger.info("JPEG at quality %s is %s bytes; trying lower", quality, len(data))
    raise ValueError(
        f"cannot encode a {image.width}x{image.height} image under {MAX_JPEG_BYTES} bytes "
        f"even at JPEG quality {JPEG_QUALITIES[-1]}"
    )


def prepare_for_claude(image: Image.Image) -> PreparedImage:
    """EXIF-upright, RGB, within Claude's size limits, JPEG under the 5 MB base64 limit."""
    upright = ImageOps.exif_transpose(image)
    original_size = upright.size
    rgb = _to_rgb(upright)
    size = target_size(*original_size)
    if size != original_size:
        rgb = rgb.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    data, quality = _encode(rgb)
    prepared = PreparedImage(
        data=data, width=size[0], height=size[1], original_size=original_size, quality=quality
    )
    if len(prepared.base64_data) > MAX_BASE64_BYTES:  # cannot happen given MAX_JPEG_BYTES
        raise ValueError(f"prepared image is {len(prepared.base64_data)} base64 bytes, over 5 MB")
    return prepared


def scale_box(
    box: BoundingBox, factor: float | tuple[float, float], original_size: tuple[int, int]
) -> BoundingBox:
    """Map a box from prepared-image pixels (`factor` = prepared/original) to the original,
    clamped to the original image and at least one pixel wide and high."""
    fx, fy = (factor, factor) if isinstance(factor, int | float) else factor
    width, height = original_size
    left = min(max(round(box.x / fx), 0), width - 1)
    top = min(max(round(box.y / fy), 0), height - 1)
    right = min(max(round((box.x + box.width) / fx), left + 1), width)
    bottom = min(max(round((box.y + box.height) / fy), top + 1), height)
    return BoundingBox(x=left, y=top, width=right - left, height=bottom - top)
