"""The dimensions image: measurement lines with the seller's own figures, or, when the
specifications give none, a clean multi-view layout with no text and no invented numbers."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw, ImageOps

from shelfready_imagegen.canvas import CANVAS_SIDE, clean_alpha, fit, paste
from shelfready_imagegen.dimensions import Dimensions, Measure, parse_dimensions
from shelfready_imagegen.fonts import BOLD, get_font
from shelfready_imagegen.render_context import RenderContext
from shelfready_imagegen.render_scene import contact_shadow, paste_shadow

BACKGROUND = (250, 250, 250)
LINE = (52, 56, 64)
LINE_WIDTH = 6
TICK = 44
GAP = 70  # between the product and a measurement line
LABEL_SIZE = 76
# Product area leaves room for the height label on the left, width below, depth on the right.
AREA = (430, 170, 1600, 1540)  # left, top, right, bottom


def render_dimensions(context: RenderContext) -> Image.Image:
    dimensions = parse_dimensions(context.request.specifications)
    if dimensions:
        return render_measured(context, dimensions)
    return render_views(context)


def render_measured(context: RenderContext, dimensions: Dimensions) -> Image.Image:
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), BACKGROUND)
    left, top, right, bottom = AREA
    product = clean_alpha(fit(context.cutout.image, right - left, bottom - top))
    x0 = left + (right - left - product.width) // 2
    y0 = top + (bottom - top - product.height) // 2
    paste(canvas, product, (x0, y0))
    x1, y1 = x0 + product.width, y0 + product.height
    width, height, depth = dimensions.width, dimensions.height, dimensions.depth
    if dimensions.longest and not (width or height):
        if product.width >= product.height:
            width = dimensions.longest
        else:
            height = dimensions.longest
    draw = ImageDraw.Draw(canvas)
    font = get_font(LABEL_SIZE, weight=BOLD, language=context.request.language)
    if width:
        _horizontal(draw, x0, x1, y1 + GAP, width, font)
    if height:
        _vertical(draw, y0, y1, x0 - GAP, height, font)
    if depth:
        _diagonal(draw, x1 + GAP // 2, y1, depth, font)
    return canvas


def _horizontal(draw: ImageDraw.ImageDraw, x0: int, x1: int, y: int, m: Measure, font) -> None:
    draw.line((x0, y, x1, y), fill=LINE, width=LINE_WIDTH)
    for x in (x0, x1):
        draw.line((x, y - TICK // 2, x, y + TICK // 2), fill=LINE, width=LINE_WIDTH)
    draw.text(((x0 + x1) / 2, y + TICK), m.label, font=font, fill=LINE, anchor="mt")


def _vertical(draw: ImageDraw.ImageDraw, y0: int, y1: int, x: int, m: Measure, font) -> None:
    draw.line((x, y0, x, y1), fill=LINE, width=LINE_WIDTH)
    for y in (y0, y1):
        draw.line((x - TICK // 2, y, x + TICK // 2, y), fill=LINE, width=LINE_WIDTH)
    draw.text((x - TICK, (y0 + y1) / 2), m.label, font=font, fill=LINE, anchor="rm")


def _diagonal(draw: ImageDraw.ImageDraw, x: int, y: int, m: Measure, font) -> None:
    """Depth as a receding line at 35° from the bottom-right corner."""
    length = 260
    angle = math.radians(35)
    x_end, y_end = x + length * math.cos(angle), y - length * math.sin(angle)
    draw.line((x, y, x_end, y_end), fill=LINE, width=LINE_WIDTH)
    for px, py in ((x, y), (x_end, y_end)):
        dx, dy = math.sin(angle) * TICK / 2, math.cos(angle) * TICK / 2
        draw.line((px - dx, py - dy, px + dx, py + dy), fill=LINE, width=LINE_WIDTH)
    label_x = min(CANVAS_SIDE - 20, x_end + 20)
    draw.text((label_x, y_end - 20), m.label, font=font, fill=LINE, anchor="rb")


def render_views(context: RenderContext) -> Image.Image:
    """Front view large on the left; mirrored and smaller views on the right. No text."""
    palette = context.palette
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    cards = [(60, 60, 1240, 1940), (1300, 60, 1940, 980), (1300, 1020, 1940, 1940)]
    for card in cards:
        draw.rounded_rectangle(card, radius=48, fill=palette.backdrop_top)
    source = context.cutout.image
    views = [source, ImageOps.mirror(source), source]
    shares = [0.86, 0.78, 0.6]  # the last view is smaller: a sense of scale, not a new angle
    for (left, top, right, bottom), view, share in zip(cards, views, shares, strict=True):
        box_w, box_h = (right - left) * share, (bottom - top) * share
        product = clean_alpha(fit(view, box_w, box_h))
        x = left + (right - left - product.width) // 2
        base = bottom - int((bottom - top) * (1 - share) / 2)
        shadow = contact_shadow(product.width, palette.backdrop_bottom)
        paste_shadow(canvas, shadow, (x + product.width // 2, base))
        paste(canvas, product, (x, base - product.height))
    return canvas
