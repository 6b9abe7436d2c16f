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
    canvas = Image.fromarray(_backdrop(side, palette.backdrop_top, palette.backdrop_bottom))
    product = clean_alpha(fit(context.cutout.image, side * PRODUCT_BOX[0], side * PRODUCT_BOX[1]))
    base_y = int(side * BASELINE)
    left = (side - product.width) // 2
    shadow = contact_shadow(side, product.width, base_y, palette.backdrop_bottom)
    canvas = Image.composite(shadow[0], canvas, shadow[1])
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
    image += np.random.default_rng(7).normal(0.0, 1.2, image.shape).astype(np.float32)  # no banding
    return np.clip(image, 0, 255).astype(np.uint8)


def contact_shadow(
    side: int, product_width: int, base_y: int, surface: tuple[int, int, int]
) -> tuple[Image.Image, Image.Image]:
    """A wide soft ellipse plus a tight dark core where the product touches the surface."""
    dark = tuple(int(c * 0.45) for c in surface)
    mask = Image.new("L", (side, side), 0)
    cx = side // 2
    draw = ImageDraw.Draw(mask)
    half_w, half_h = product_width * 0.52, max(8, product_width * 0.06)
    draw.ellipse((cx - half_w, base_y - half_h, cx + half_w, base_y + half_h), fill=120)
    mask = mask.filter(ImageFilter.GaussianBlur(max(6, product_width * 0.035)))
    core = Image.new("L", (side, side), 0)
    ImageDraw.Draw(core).ellipse(
        (cx - half_w * 0.8, base_y - half_h * 0.35, cx + half_w * 0.8, base_y + half_h * 0.35),
        fill=150,
    )
    core = core.filter(ImageFilter.GaussianBlur(max(3, product_width * 0.01)))
    mask = Image.fromarray(np.maximum(np.asarray(mask), np.asarray(core)))
    return Image.new("RGB", (side, side), dark), mask
