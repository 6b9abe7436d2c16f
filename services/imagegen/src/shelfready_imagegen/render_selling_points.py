"""The selling-points image: the product on the left, the five bullet titles as numbered
callouts on the right, each with a leader line to the product. CJK text uses Noto Sans CJK."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from shelfready_imagegen.canvas import CANVAS_SIDE, clean_alpha, fit, paste
from shelfready_imagegen.fonts import BOLD, get_font
from shelfready_imagegen.render_context import RenderContext
from shelfready_imagegen.text import bullet_title, wrap

PRODUCT_AREA = (80, 140, 1000, 1860)  # left, top, right, bottom
COLUMN_LEFT = 1130  # marker centre x
TEXT_LEFT = 1220
TEXT_RIGHT = 1930
TOP, BOTTOM = 150, 1850
MARKER_RADIUS = 46
MAX_LINES = 3
FONT_SIZES = (72, 66, 60, 54, 48, 42)
TEXT_COLOUR = (34, 38, 46)


def render_selling_points(context: RenderContext) -> Image.Image:
    palette = context.palette
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), palette.backdrop_top)
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = PRODUCT_AREA
    product = clean_alpha(fit(context.cutout.image, right - left, bottom - top))
    px = left + (right - left - product.width) // 2
    py = top + (bottom - top - product.height) // 2
    titles = [bullet_title(b) for b in context.listing.bullet_points if b.strip()][:5]
    language = context.request.language
    font, blocks = _fit_text(titles, language)
    slot = (BOTTOM - TOP) / max(1, len(blocks))
    alpha = np.asarray(product.getchannel("A"))
    for number, lines in enumerate(blocks, start=1):
        centre_y = TOP + slot * (number - 0.5)
        anchor = _silhouette_point(alpha, int(centre_y - py))
        if anchor is not None:
            ax, ay = px + anchor[0], py + anchor[1]
            draw.line((ax, ay, COLUMN_LEFT - MARKER_RADIUS, centre_y), fill=palette.accent, width=4)
            draw.ellipse((ax - 11, ay - 11, ax + 11, ay + 11), fill=palette.accent)
        draw.ellipse(
            (
                COLUMN_LEFT - MARKER_RADIUS,
                centre_y - MARKER_RADIUS,
                COLUMN_LEFT + MARKER_RADIUS,
                centre_y + MARKER_RADIUS,
            ),
            fill=palette.accent,
        )
        number_font = get_font(52, weight=BOLD, language=language)
        draw.text((COLUMN_LEFT, centre_y), str(number), font=number_font, fill="white", anchor="mm")
        line_height = font.size * 1.25
        y = centre_y - line_height * len(lines) / 2
        for line in lines:
            draw.text((TEXT_LEFT, y), line, font=font, fill=TEXT_COLOUR, anchor="la")
            y += line_height
    paste(canvas, product, (px, py))  # over the leader lines' ends
    return canvas


def _fit_text(titles: list[str], language: str):
    """The largest font size at which every title fits its slot in at most MAX_LINES lines."""
    slot = (BOTTOM - TOP) / max(1, len(titles))
    for size in FONT_SIZES:
        font = get_font(size, weight=BOLD, language=language)
        blocks = [wrap(title, font, TEXT_RIGHT - TEXT_LEFT) for title in titles]
        if all(len(lines) <= MAX_LINES for lines in blocks) and all(
            len(lines) * size * 1.25 <= slot * 0.9 for lines in blocks
        ):
            return font, blocks
    font = get_font(FONT_SIZES[-1], weight=BOLD, language=language)
    blocks = [wrap(title, font, TEXT_RIGHT - TEXT_LEFT)[:MAX_LINES] for title in titles]
    return font, blocks


def _silhouette_point(alpha: np.ndarray, row: int) -> tuple[int, int] | None:
    """A point just inside the product's right edge on `row` (or the nearest row it covers)."""
    rows = np.flatnonzero((alpha > 128).any(axis=1))
    if rows.size == 0:
        return None
    row = int(rows[np.argmin(np.abs(rows - row))])
    cols = np.flatnonzero(alpha[row] > 128)
    return int(cols[-1]) - 12, row
