"""How much memory decoding a photo takes, checked before the pixels are decoded.

A small compressed file can decode huge (a 47 KB 7000x7000 PNG is 147 MB of RGB). JPEG can be
draft-decoded at 1/2, 1/4 or 1/8 scale; PNG and WebP cannot, so their full decoded size counts.
Shared by every service that decodes seller photos (recognition now, imagegen when it wants).
"""

from __future__ import annotations

from PIL import Image

from shelfready_core import defaults
from shelfready_core.errors import InvalidInput

# Bytes per pixel of the modes a photo is decoded to.
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "LA": 2, "RGB": 3, "RGBA": 4, "CMYK": 4, "I;16": 2}


def decoded_bytes(width: int, height: int, mode: str, *, scale: int = 1) -> int:
    """The size of the decoded pixels at 1/`scale` (JPEG draft scales), in the working mode
    (pictures are converted to RGB or RGBA for analysis)."""
    per_pixel = max(_BYTES_PER_PIXEL.get(mode, 4), 4 if "A" in mode or mode == "P" else 3)
    return -(-width // scale) * -(-height // scale) * per_pixel


def check_decode_budget(
    image: Image.Image,
    name: str,
    *,
    target: tuple[int, int] | None = None,
    budget: int = defaults.MAX_DECODED_PHOTO_BYTES,
) -> int:
    """The decoded size of `image` (opened, not loaded), or InvalidInput naming the problem.

    `target` is the size a JPEG will be draft-decoded to (the smallest 1/2^n scale still at
    or above it); other formats decode at full size whatever the target."""
    width, height = image.size
    scale = 1
    if target is not None and image.format == "JPEG":
        while (
            scale < 8 and width // (scale * 2) >= target[0] and height // (scale * 2) >= target[1]
        ):
            scale *= 2
    size = decoded_bytes(width, height, image.mode, scale=scale)
    if size > budget:
        raise InvalidInput(
            f"{name!r} is a {width}x{height} {image.format} image: decoding it would take "
            f"{size / 2**20:.0f} MB, over the {budget / 2**20:.0f} MB one photo may use. "
            "Send it as a JPEG, or at most "
            f"{_max_megapixels(image.mode, budget):.0f} megapixels"
        )
    return size


def _max_megapixels(mode: str, budget: int) -> float:
    return budget / decoded_bytes(1, 1, mode) / 1e6
