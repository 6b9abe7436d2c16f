"""The main image: the cut-out centred on pure white, its long side ~90% of the frame, no text."""

from __future__ import annotations

import logging

import numpy as np
from PIL import Image

from shelfready_imagegen.canvas import (
    CANVAS_SIDE,
    Encoded,
    clean_alpha,
    decode,
    encode_jpeg,
    encode_png,
    fit,
    paste,
)
from shelfready_imagegen.compliance import border_band
from shelfready_imagegen.cutout import Cutout

logger = logging.getLogger(__name__)

MAIN_FILL = 0.90  # Amazon asks for >= 85%; 90% leaves a margin for JPEG and edge feathering
MAIN_JPEG_QUALITY = 92
WHITE = (255, 255, 255)


def render_main(cutout: Cutout) -> Image.Image:
    side = CANVAS_SIDE * MAIN_FILL
    product = clean_alpha(fit(cutout.image, side, side))
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), WHITE)
    position = ((CANVAS_SIDE - product.width) // 2, (CANVAS_SIDE - product.height) // 2)
    paste(canvas, product, position)
    return canvas


def encode_main(image: Image.Image) -> Encoded:
    """JPEG (q92, 4:4:4) when its decoded white stays exactly white; otherwise lossless PNG.

    libjpeg reproduces flat 255 blocks exactly, and at 90% fill every 8x8 block of the border
    band is flat, so JPEG is the normal outcome; the check (every white pixel of the compliance
    border band still exactly white after decoding) makes that a guarantee.
    """
    encoded = encode_jpeg(image, quality=MAIN_JPEG_QUALITY)
    if _white_preserved(image, decode(encoded.data)):
        return encoded
    logger.info("JPEG changed pure-white pixels of the main image; encoding it as PNG")
    return encode_png(image.convert("RGB"))


def _white_preserved(original: Image.Image, decoded: Image.Image) -> bool:
    """Every pure-white pixel of the compliance border band is still pure white after decoding."""
    before = np.all(np.asarray(original.convert("RGB")) == 255, axis=-1)
    after = np.all(np.asarray(decoded.convert("RGB")) == 255, axis=-1)
    band = border_band(*before.shape)
    return bool(np.array_equal(after[band & before], before[band & before]))
