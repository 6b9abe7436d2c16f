"""The dimensions image: measurement lines with the seller's own figures, or, when the
specifications give none, the front view between unlabelled guides: no text, no invented
numbers, no mirrored copy."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw, ImageFont

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
MARGIN = 110  # canvas edge to the outermost line or label
DEPTH_LENGTH, DEPTH_ANGLE = 260, math.radians(35)  # the receding depth line
# Without sizes: the product area between the unlabelled guides (left, top, right, bottom).
AREA = (430, 170, 1600, 1540)


def render_dimensions(context: RenderContext) -> Image.Image:
    dimensions = parse_dimensions(context.request.specifications)
    if dimensions:
        return render_measured(context, dimensions)
    return render_views(context)


def render_measured(context: RenderContext, dimensions: Dimensions) -> Image.Image:
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), BACKGROUND)
    source = context.cutout.image
    width, height, depth = dimensions.width, dimensions.height, dimensions.depth
    if dimensions.longest and not (width or height):
        if source.width >= source.height:
            width = dimensions.longest
        else:
            height = dimensions.longest
    font = get_font(LABEL_SIZE, weight=BOLD, language=context.request.language)
    before, after, below = label_room(font, width, height, depth)
    product = clean_alpha(
        fit(
            source,
            CANVAS_SIDE - 2 * MARGIN - before - after,
            CANVAS_SIDE - 2 * MARGIN - LABEL_SIZE - below,
        )
    )
    # The product with its lines and labels, centred as one group.
    x0 = (CANVAS_SIDE - (before + product.width + after)) // 2 + before
    y0 = (CANVAS_SIDE - (product.height + below)) // 2
    paste(canvas, product, (x0, y0))
    x1, y1 = x0 + product.width, y0 + product.height
    draw = ImageDraw.Draw(canvas)
    if width:
        _horizontal(draw, x0, x1, y1 + GAP, width, font)
    if height:
        _vertical(draw, y0, y1, x0 - GAP, height, font)
    if depth:
        _diagonal(draw, x1 + GAP // 2, y1, depth, font)
    return canvas


def label_room(
    font: ImageFont.FreeTypeFont,
    width: Measure | None,
    height: Measure | None,
    depth: Measure | None,
) -> tuple[int, int, int]:
    """Canvas px the lines and labels need left of, right of and below the product; the
    product gets the rest, so a wide sneaker or a tall bottle is as large as its labels allow
    (a fixed box left it small)."""
    before = round(font.getlength(height.label)) + TICK + GAP if height else 0
    after = GAP // 2 + round(DEPTH_LENGTH * math.cos(DEPTH_ANGLE)) if depth else 0
    below = GAP + TICK + LABEL_SIZE if width else 0
    return before, after, below


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
    length, angle = DEPTH_LENGTH, DEPTH_ANGLE
    x_end, y_end = x + length * math.cos(angle), y - length * math.sin(angle)
    draw.line((x, y, x_end, y_end), fill=LINE, width=LINE_WIDTH)
    for px, py in ((x, y), (x_end, y_end)):
        dx, dy = math.sin(angle) * TICK / 2, math.cos(angle) * TICK / 2
        draw.line((px - dx, py - dy, px + dx, py + dy), fill=LINE, width=LINE_WIDTH)
    label_x = min(CANVAS_SIDE - 20, x_end + 20)
    draw.text((label_x, y_end - 20), m.label, font=font, fill=LINE, anchor="rb")


def render_views(context: RenderContext) -> Image.Image:
    """No sizes known: the product's own front view, large, between unlabelled extent guides
    (where measurement lines will go), and no text or invented numbers. Never a mirrored
    copy: a flipped photo would print its text backwards and show a side that does not exist.
    The image set asks the seller for the dimensions (imageset.NO_SIZES)."""
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), BACKGROUND)
    left, top, right, bottom = AREA
    product = clean_alpha(fit(context.cutout.image, right - left, bottom - top))
    x0 = left + (right - left - product.width) // 2
    y0 = top + (bottom - top - product.height) // 2
    x1, y1 = x0 + product.width, y0 + product.height
    shadow = contact_shadow(product.width, context.palette.backdrop_bottom)
    paste_shadow(canvas, shadow, (x0 + product.width // 2, y1))
    paste(canvas, product, (x0, y0))
    draw = ImageDraw.Draw(canvas)
    guide = (170, 174, 182)
    y = y1 + GAP
    draw.line((x0, y, x1, y), fill=guide, width=LINE_WIDTH // 2)
    for x in (x0, x1):
        draw.line((x, y - TICK // 2, x, y + TICK // 2), fill=guide, width=LINE_WIDTH // 2)
    x = x0 - GAP
    draw.line((x, y0, x, y1), fill=guide, width=LINE_WIDTH // 2)
    for yy in (y0, y1):
        draw.line((x - TICK // 2, yy, x + TICK // 2, yy), fill=guide, width=LINE_WIDTH // 2)
    return canvas
