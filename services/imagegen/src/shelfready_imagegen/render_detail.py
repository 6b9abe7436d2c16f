"""The detail image: a sharp close-up of the product's most informative region.

"Informative" is measured as Laplacian energy inside the product (texture, print, seams),
ignoring the silhouette itself; the best square window is found with an integral image on a
small copy, then cut from the full-resolution cut-out. It is never enlarged more than
MAX_UPSCALE (1.5x): a window too small to fill the canvas at that scale is shown centred on
the backdrop at 1.5x, rather than blown up into mush.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageFilter

from shelfready_imagegen.canvas import CANVAS_SIDE
from shelfready_imagegen.render_context import RenderContext

WINDOW_SHARE = 0.45  # window side as a share of the product's long side, at the least
MAX_UPSCALE = 1.5
MIN_COVERAGE = 0.6  # share of a window the product must cover: a detail, not background
SEARCH_SIDE = 400  # the energy map is searched at this size
DETAIL_BACKGROUND = (246, 246, 244)

Box = tuple[int, int, int, int]


def render_detail(context: RenderContext) -> Image.Image:
    product = context.cutout.image
    x0, y0, x1, y1 = detail_window(product)
    # The window may be wider than a slim product: pad with the backdrop colour around it.
    region = product.crop((max(0, x0), max(0, y0), min(product.width, x1), min(product.height, y1)))
    tile = Image.new("RGBA", (x1 - x0, y1 - y0), (*DETAIL_BACKGROUND, 255))
    tile.alpha_composite(region, dest=(max(0, x0) - x0, max(0, y0) - y0))
    crop = tile.convert("RGB")
    del tile, region
    shown = min(CANVAS_SIDE, round(crop.width * MAX_UPSCALE))
    crop = crop.resize((shown, shown), Image.Resampling.LANCZOS)
    if shown > x1 - x0:
        # Mild unsharp mask: restores the edge contrast Lanczos upscaling spreads out.
        crop = crop.filter(ImageFilter.UnsharpMask(radius=1.5, percent=50, threshold=2))
    if shown == CANVAS_SIDE:
        return crop
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), DETAIL_BACKGROUND)
    canvas.paste(crop, ((CANVAS_SIDE - shown) // 2, (CANVAS_SIDE - shown) // 2))
    return canvas


CLOSE_UP_SHARE = 0.8  # a window this share of the product or more is not a close-up


def close_up_note(product: Image.Image) -> str | None:
    """Why the detail image cannot be a close-up of this cut-out, or None when it is one."""
    long_side = max(product.size)
    side = max(long_side * WINDOW_SHARE, min(long_side, CANVAS_SIDE / MAX_UPSCALE))
    if side < CLOSE_UP_SHARE * long_side:
        return None
    needed = round(CANVAS_SIDE / MAX_UPSCALE / CLOSE_UP_SHARE)
    return (
        f"the detail image shows the whole product, not a close-up: the product is {long_side} "
        f"px across in the photo, and a close-up at no more than {MAX_UPSCALE}x enlargement "
        f"needs {needed} px or more; a higher-resolution photo gives a real detail image"
    )


def detail_window(product: Image.Image) -> Box:
    """The square (left, top, right, bottom) in product pixels with the most interior detail.

    For a slim product the square can stick out past its short sides (negative left/top).
    """
    width, height = product.size
    scale = min(1.0, SEARCH_SIDE / max(width, height))
    small = product.resize(
        (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BOX
    )
    rgba = np.asarray(small)
    grey = cv2.cvtColor(rgba[..., :3], cv2.COLOR_RGB2GRAY).astype(np.float32)
    energy = np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3))
    inside = cv2.erode((rgba[..., 3] > 240).astype(np.uint8), np.ones((7, 7), np.uint8))
    energy *= inside  # the outline against the background is not "detail"
    # At least the share, and at least what fills the canvas at MAX_UPSCALE if the product
    # is that big: native pixels, not an enlargement.
    native = min(max(width, height), CANVAS_SIDE / MAX_UPSCALE)
    side_small = max(2, round(max(max(width, height) * WINDOW_SHARE, native) * scale))
    side_small = min(side_small, max(small.size))
    sums = _window_sums(energy, side_small)
    coverage = _window_sums(inside.astype(np.float32), side_small) / float(side_small * side_small)
    sums[coverage < MIN_COVERAGE] = -1.0  # windows that are mostly background say little
    if sums.max() <= 0:
        top, left = np.unravel_index(np.argmax(coverage), coverage.shape)
    else:
        top, left = np.unravel_index(np.argmax(sums), sums.shape)
    side = round(side_small / scale)
    x0 = (width - side) // 2 if side > width else min(round(left / scale), width - side)
    y0 = (height - side) // 2 if side > height else min(round(top / scale), height - side)
    return (x0, y0, x0 + side, y0 + side)


def _window_sums(values: np.ndarray, side: int) -> np.ndarray:
    """Sum over every side x side window whose top-left corner is (row, col); pads short axes."""
    h, w = values.shape
    padded = np.zeros((max(h, side), max(w, side)), np.float32)
    padded[:h, :w] = values
    integral = cv2.integral(padded)
    return (
        integral[side:, side:]
        - integral[:-side, side:]
        - integral[side:, :-side]
        + integral[:-side, :-side]
    )
