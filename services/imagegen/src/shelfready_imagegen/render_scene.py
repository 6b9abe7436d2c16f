"""The lifestyle/scene image: the product standing on a surface chosen for its category (wood,
marble, linen, concrete; backdrops.py), with a contact shadow and, on glossy surfaces, a faint
blurred reflection (blurred so that printed text never reads mirrored)."""

from __future__ import annotations

import zlib

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from shelfready_imagegen.backdrops import backdrop, surface_for
from shelfready_imagegen.canvas import CANVAS_SIDE, clean_alpha, fit, paste
from shelfready_imagegen.render_context import RenderContext

HORIZON = 0.62  # share of the height where the wall meets the surface
BASELINE = 0.82  # where the product stands
PRODUCT_BOX = (0.64, 0.62)  # max width, max height as shares of the side


def scene_layout(context: RenderContext) -> tuple[Image.Image, tuple[int, int]]:
    """The cut-out at scene scale and its top-left corner on the canvas (standing on BASELINE)."""
    side = CANVAS_SIDE
    product = clean_alpha(fit(context.cutout.image, side * PRODUCT_BOX[0], side * PRODUCT_BOX[1]))
    left = (side - product.width) // 2
    return product, (left, int(side * BASELINE) - product.height)


def render_scene(context: RenderContext) -> Image.Image:
    side = CANVAS_SIDE
    palette = context.palette
    surface = surface_for(context.product.category, context.product.product_type)
    seed = zlib.crc32(f"{context.product.product_name}|{surface.name}".encode())
    canvas = Image.fromarray(backdrop(surface.name, side, HORIZON, palette.backdrop_top, seed))
    product, (left, top) = scene_layout(context)
    base_y = top + product.height
    if surface.gloss > 0:
        paste(canvas, reflection(product, surface.gloss), (left, base_y))
    surface_colour = canvas.getpixel((side // 2, min(side - 1, base_y + 20)))
    shadow = contact_shadow(product.width, surface_colour)  # type: ignore[arg-type]
    paste_shadow(canvas, shadow, (left + product.width // 2, base_y))
    paste(canvas, product, (left, base_y - product.height))
    return canvas


def reflection(product: Image.Image, opacity: float) -> Image.Image:
    """The product flipped below its base, fading out over a third of its height and blurred
    so that no printed text on it can be read backwards."""
    depth = max(1, round(product.height * 0.35))
    flipped = product.transpose(Image.Transpose.FLIP_TOP_BOTTOM).crop((0, 0, product.width, depth))
    blur = max(4.0, product.width * 0.012)
    flipped = flipped.filter(ImageFilter.GaussianBlur(blur))
    fade = np.linspace(opacity, 0.0, depth, dtype=np.float32)[:, None] ** 1.3
    alpha = np.asarray(flipped.getchannel("A"), np.float32) * fade
    flipped.putalpha(Image.fromarray(alpha.astype(np.uint8)))
    return flipped


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
