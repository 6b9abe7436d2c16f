"""The lifestyle/scene image: the product standing on a styled surface with a contact shadow."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from shelfready_imagegen.canvas import CANVAS_SIDE, clean_alpha, fit, paste
from shelfready_imagegen.render_context import RenderContext

HORIZON = 0.62  # share of the height where the wall meets the surface
BASELINE = 0.82  # where the product stands
PRODUCT_BOX = (0.64, 0.62)  # max width, max height as shares of the side


def render_scene(context: RenderContext) -> Image.Image:
    side = CANVAS_SIDE
    palette = context.palette
    # Smooth gradients: compute at a quarter size, then upscale (a tenth of the time).
    backdrop = _backdrop(side // 4, palette.backdrop_top, palette.backdrop_bottom)
    canvas = Image.fromarray(backdrop).resize((side, side), Image.Resampling.BICUBIC)
    product = clean_alpha(fit(context.cutout.image, side * PRODUCT_BOX[0], side * PRODUCT_BOX[1]))
    base_y = int(side * BASELINE)
    left = (side - product.width) // 2
    shadow = contact_shadow(product.width, palette.backdrop_bottom)
    paste_shadow(canvas, shadow, (left + product.width // 2, base_y))
    paste(canvas, product, (left, base_y - product.height))
    return canvas


def _backdrop(side: int, wall: tuple[int, int, int], surface: tuple[int, int, int]) -> np.ndarray:
    """A softly lit wall over a surface plane that darkens towards the camera."""
    y = np.linspace(0.0, 1.0, side, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, side, dtype=np.float32)[None, :]
    wall_c = np.asarray(wall, np.float32)
    surface_c = np.asarray(surface, np.float32)
    # Smooth step across the horizon instead of a hard line (a photographer's sweep).
    blend = np.clip((y - HORIZON) / 0.06 + 0.5, 0.0, 1.0)
    blend = blend * blend * (3 - 2 * blend)
    light = 1.04 - 0.10 * (x * x) - 0.05 * np.abs(y - 0.45)  # a soft key light from the front
    depth = 1.0 - 0.12 * np.clip((y - HORIZON) / (1 - HORIZON), 0.0, 1.0)
    image = (wall_c * (1 - blend)[..., None] + surface_c * (blend * depth)[..., None]) * light[
        ..., None
    ]
    return np.clip(image, 0, 255).astype(np.uint8)


def contact_shadow(product_width: int, surface: tuple[int, int, int]) -> Image.Image:
    """An RGBA patch, centred on the product's base point: a wide soft ellipse plus a tight
    dark core where the product touches the surface. Drawn small, not on a full canvas."""
    half_w, half_h = product_width * 0.52, max(8.0, product_width * 0.06)
    blur = max(6.0, product_width * 0.035)
    margin = int(blur * 3) + 2
    size = (int(2 * half_w) + 2 * margin, int(2 * half_h) + 2 * margin)
    cx, cy = size[0] / 2, size[1] / 2
    soft = Image.new("L", size, 0)
    ImageDraw.Draw(soft).ellipse((cx - half_w, cy - half_h, cx + half_w, cy + half_h), fill=120)
    soft = soft.filter(ImageFilter.GaussianBlur(blur))
    core = Image.new("L", size, 0)
    ImageDraw.Draw(core).ellipse(
        (cx - half_w * 0.8, cy - half_h * 0.35, cx + half_w * 0.8, cy + half_h * 0.35), fill=150
    )
    core = core.filter(ImageFilter.GaussianBlur(max(3.0, product_width * 0.01)))
    dark = tuple(int(c * 0.45) for c in surface)
    patch = Image.new("RGBA", size, (*dark, 0))
    patch.putalpha(Image.fromarray(np.maximum(np.asarray(soft), np.asarray(core))))
    return patch


def paste_shadow(canvas: Image.Image, shadow: Image.Image, centre: tuple[int, int]) -> None:
    paste(canvas, shadow, (centre[0] - shadow.width // 2, centre[1] - shadow.height // 2))
