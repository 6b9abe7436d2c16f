"""The lifestyle/scene image: the product standing on a surface chosen for its category (wood,
marble, linen, concrete; backdrops.py), with a contact shadow and, on glossy surfaces, a faint
reflection of the base's colours (never a flipped copy: no printed text reads mirrored)."""

from __future__ import annotations

import zlib

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from shelfready_imagegen.backdrops import backdrop, surface_for
from shelfready_imagegen.canvas import CANVAS_SIDE, clean_alpha, fit, paste
from shelfready_imagegen.render_context import RenderContext

HORIZON = 0.62  # share of the height where the wall meets the surface
BASELINE = 0.82  # where the product stands
PRODUCT_BOX = (0.64, 0.62)  # max width, max height as shares of the side
REFLECTION_DEPTH = 0.3  # of the product's height
BASE_BAND = 0.1  # the bottom share of the product whose colours the surface reflects
REFLECTION_SPREAD = 0.04  # of the product's width: how far a column's colour spreads sideways


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
    """What a glossy surface shows below the product: each column of the product's base
    colours, drawn straight down and fading out over REFLECTION_DEPTH of its height.

    Not a flipped copy: however much a flipped copy is blurred, large print near the base
    still reads backwards in it (a 130 px "SERUM" did at the old blur). A column of one colour
    has no shape that could be read at all."""
    depth = max(1, round(product.height * REFLECTION_DEPTH))
    band_rows = max(2, round(product.height * BASE_BAND))
    band = np.asarray(product, np.float32)[-band_rows:]
    alpha = band[..., 3:4] / 255.0
    weight = alpha.sum(axis=0)  # per column
    paint = (band[..., :3] * alpha).sum(axis=0)
    # Spread each column's colour over its neighbours: a dark letter's column is no streak.
    spread = (max(3, round(product.width * REFLECTION_SPREAD)) | 1, 1)
    weight = cv2.blur(weight[None], spread)[0][:, None]
    paint = cv2.blur(paint[None], spread)[0]
    colour = paint / np.maximum(weight, 1e-6)
    coverage = alpha.max(axis=0)[:, 0]  # the base's outline: where the product meets the floor
    fade = np.linspace(opacity, 0.0, depth, dtype=np.float32)[:, None] ** 1.3
    rgba = np.empty((depth, product.width, 4), np.float32)
    rgba[..., :3] = colour[None]
    rgba[..., 3] = fade * coverage[None] * 255
    layer = Image.fromarray(np.clip(rgba, 0, 255).astype(np.uint8), "RGBA")
    # Soft sides, as a real reflection on a slightly rough surface has; rows stay uniform.
    return layer.filter(ImageFilter.BoxBlur(max(2, product.width // 200)))


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
