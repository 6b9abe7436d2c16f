"""The selling-points image: the product with up to five numbered callouts from the listing's
bullets (callouts.py: the seller's features where the bullets quote them, else the headings).

Tall and square products stand on the left with the callouts in a column on the right, each
with a leader line to the product; wide products sit on top with the callouts listed below.
CJK text uses Noto Sans CJK (see fonts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from shelfready_imagegen.callouts import callouts
from shelfready_imagegen.canvas import CANVAS_SIDE, clean_alpha, fit, paste
from shelfready_imagegen.fonts import BOLD, get_font
from shelfready_imagegen.render_context import RenderContext
from shelfready_imagegen.text import wrap

WIDE_PRODUCT = 1.4  # width / height from which the stacked layout is used
MARKER_RADIUS = 46
MAX_LINES = 3
ONE_LINE_MIN_SIZE = 60  # prefer one line per title down to this size before wrapping
FONT_SIZES = (72, 66, 60, 54, 48, 42)
TEXT_COLOUR = (34, 38, 46)


@dataclass(frozen=True)
class Layout:
    product_area: tuple[int, int, int, int]  # left, top, right, bottom
    marker_x: int
    text_left: int
    text_right: int
    top: int
    bottom: int
    leader_lines: bool


SIDE = Layout((80, 140, 1000, 1860), 1130, 1220, 1930, 150, 1850, leader_lines=True)
STACKED = Layout((120, 110, 1880, 900), 190, 280, 1880, 980, 1900, leader_lines=False)
TEXT_LEFT = SIDE.text_left  # where the callout text column starts in the usual layout


def render_selling_points(context: RenderContext) -> Image.Image:
    palette = context.palette
    source = context.cutout.image
    layout = STACKED if source.width >= WIDE_PRODUCT * source.height else SIDE
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), palette.backdrop_top)
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = layout.product_area
    product = clean_alpha(fit(source, right - left, bottom - top))
    px = left + (right - left - product.width) // 2
    py = top + (bottom - top - product.height) // 2
    language = context.request.language
    titles = callouts(context.listing.bullet_points, context.request.features, language)
    font, blocks = _fit_text(titles, language, layout)
    slot = (layout.bottom - layout.top) / max(1, len(blocks))
    alpha = np.asarray(product.getchannel("A"))
    number_font = get_font(52, weight=BOLD, language=language)
    for number, lines in enumerate(blocks, start=1):
        centre_y = layout.top + slot * (number - 0.5)
        anchor = _silhouette_point(alpha, int(centre_y - py)) if layout.leader_lines else None
        if anchor is not None:
            ax, ay = px + anchor[0], py + anchor[1]
            end = (layout.marker_x - MARKER_RADIUS, centre_y)
            draw.line((ax, ay, *end), fill=palette.accent, width=4)
            draw.ellipse((ax - 11, ay - 11, ax + 11, ay + 11), fill=palette.accent)
        mx, r = layout.marker_x, MARKER_RADIUS
        draw.ellipse((mx - r, centre_y - r, mx + r, centre_y + r), fill=palette.accent)
        draw.text((mx, centre_y), str(number), font=number_font, fill="white", anchor="mm")
        line_height = font.size * 1.25
        y = centre_y - line_height * len(lines) / 2
        for line in lines:
            draw.text((layout.text_left, y), line, font=font, fill=TEXT_COLOUR, anchor="la")
            y += line_height
    paste(canvas, product, (px, py))  # over the leader lines' ends
    return canvas


def _fit_text(
    titles: list[str], language: str, layout: Layout
) -> tuple[ImageFont.FreeTypeFont, list[list[str]]]:
    """The largest font size at which the titles fit: one line each if that stays readable,
    else at most MAX_LINES lines within each callout's slot."""
    slot = (layout.bottom - layout.top) / max(1, len(titles))
    width = layout.text_right - layout.text_left
    for size in FONT_SIZES:
        if size < ONE_LINE_MIN_SIZE:
            break
        font = get_font(size, weight=BOLD, language=language)
        if all(font.getlength(title) <= width for title in titles) and size * 1.25 <= slot:
            return font, [[title] for title in titles]
    for size in FONT_SIZES:
        font = get_font(size, weight=BOLD, language=language)
        blocks = [wrap(title, font, width, language) for title in titles]
        if all(len(lines) <= MAX_LINES for lines in blocks) and all(
            len(lines) * size * 1.25 <= slot * 0.9 for lines in blocks
        ):
            return font, blocks
    font = get_font(FONT_SIZES[-1], weight=BOLD, language=language)
    return font, [wrap(title, font, width, language)[:MAX_LINES] for title in titles]


def _silhouette_point(alpha: np.ndarray, row: int) -> tuple[int, int] | None:
    """A point just inside the product's right edge on `row` (or the nearest row it covers)."""
    rows = np.flatnonzero((alpha > 128).any(axis=1))
    if rows.size == 0:
        return None
    row = int(rows[np.argmin(np.abs(rows - row))])
    cols = np.flatnonzero(alpha[row] > 128)
    return int(cols[-1]) - 12, row
