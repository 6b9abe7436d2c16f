"""Shared drawing helpers: fitting the product into a box, pasting it, encoding the result."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image

CANVAS_SIDE = 2000  # every rendered image is square at this size (Amazon recommends >= 1600)
THUMBNAIL_SIDE = 400
JPEG_QUALITY = 90


@dataclass
class Encoded:
    data: bytes
    content_type: str
    extension: str
    width: int
    height: int


def fit(product: Image.Image, max_width: float, max_height: float) -> Image.Image:
    """Scale so the product just fits the box (up or down), keeping its aspect ratio."""
    scale = min(max_width / product.width, max_height / product.height)
    size = (max(1, round(product.width * scale)), max(1, round(product.height * scale)))
    if size == product.size:
        return product
    return product.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def paste(base: Image.Image, layer: Image.Image, position: tuple[int, int]) -> None:
    """Alpha-composite an RGBA layer onto an RGB or RGBA base in place."""
    if base.mode == "RGBA":
        base.alpha_composite(layer, dest=position)
    else:
        base.paste(layer, position, layer)


def clean_alpha(product: Image.Image, floor: int = 8) -> Image.Image:
    """Zero faint alpha: resampling leaves near-invisible fringes that would tint a white border."""
    alpha = np.asarray(product.getchannel("A")).copy()
    alpha[alpha < floor] = 0
    cleaned = product.copy()
    cleaned.putalpha(Image.fromarray(alpha))
    return cleaned


def encode_jpeg(image: Image.Image, quality: int = JPEG_QUALITY) -> Encoded:
    buffer = io.BytesIO()
    # 4:4:4 chroma keeps colour edges crisp and flat areas exact.
    image.convert("RGB").save(buffer, "JPEG", quality=quality, subsampling=0)
    return Encoded(buffer.getvalue(), "image/jpeg", "jpg", image.width, image.height)


def encode_png(image: Image.Image) -> Encoded:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False, compress_level=6)
    return Encoded(buffer.getvalue(), "image/png", "png", image.width, image.height)


def thumbnail_jpeg(image: Image.Image, side: int = THUMBNAIL_SIDE) -> bytes:
    copy = image.convert("RGB")
    copy.thumbnail((side, side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    buffer = io.BytesIO()
    copy.save(buffer, "JPEG", quality=85, optimize=True)
    return buffer.getvalue()


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image
