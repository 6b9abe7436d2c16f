"""The detail image: a close-up of the photo's own pixels, and where on the product it is.

The window comes from detail_crops (inside the product, on its texture or print, never through
a label's text; square, landscape or portrait as the product allows). It is shown at most 1.5x
its photo size in a panel of up to PANEL_MAX px, so the close-up is sharp rather than blown
up. Beside a portrait panel, or below any other, a locator shows the whole product with the
window marked, at most LOCATOR_ZOOM of the panel's scale, so the close-up always reads as
magnified (a locator as large as the panel would make the close-up look like a plain crop).
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter

from shelfready_imagegen.canvas import CANVAS_SIDE, clean_alpha, fit, paste
from shelfready_imagegen.detail_crops import PANEL_MAX
from shelfready_imagegen.render_context import RenderContext

DETAIL_BACKGROUND = (246, 246, 244)
MARGIN = 80
GAP = 60  # between the panel and the locator
LOCATOR_MIN, LOCATOR_MAX = 300, 640  # the locator's height below a panel: what it leaves
LOCATOR_ZOOM = 0.5  # the locator's scale at most this share of the panel's
FRAME = 6  # px of the accent frame around the panel and the marked window


def render_detail(context: RenderContext) -> Image.Image:
    choice = context.detail
    product = context.cutout.image
    x0, y0, x1, y1 = choice.window
    # The window may be wider than a slim product: the backdrop colour fills the rest, and any
    # sliver of background inside it is shown as backdrop too (the cut-out's alpha).
    tile = Image.new("RGBA", (x1 - x0, y1 - y0), (*DETAIL_BACKGROUND, 255))
    region = product.crop((max(0, x0), max(0, y0), min(product.width, x1), min(product.height, y1)))
    tile.alpha_composite(region, dest=(max(0, x0) - x0, max(0, y0) - y0))
    crop = tile.convert("RGB")
    del tile, region
    shown_w, shown_h = choice.shown_size
    if (shown_w, shown_h) != crop.size:
        crop = crop.resize((shown_w, shown_h), Image.Resampling.LANCZOS)
        # Mild unsharp mask: restores the edge contrast Lanczos upscaling spreads out.
        crop = crop.filter(ImageFilter.UnsharpMask(radius=1.5, percent=50, threshold=2))
    side_by_side = shown_h > shown_w
    if side_by_side:
        box_w, box_h = CANVAS_SIDE - 2 * MARGIN - GAP - shown_w, shown_h
    else:
        box_w = CANVAS_SIDE - 2 * MARGIN
        box_h = max(LOCATOR_MIN, min(LOCATOR_MAX, CANVAS_SIDE - 2 * MARGIN - GAP - shown_h))
    most = LOCATOR_ZOOM * choice.scale  # canvas px per photo px the locator may use
    box_w = min(box_w, max(1, round(product.width * most)))
    box_h = min(box_h, max(1, round(product.height * most)))
    locator = clean_alpha(fit(product, box_w, box_h))
    if side_by_side:
        left = (CANVAS_SIDE - (shown_w + GAP + locator.width)) // 2
        top = (CANVAS_SIDE - shown_h) // 2
        lx, ly = left + shown_w + GAP, (CANVAS_SIDE - locator.height) // 2
    else:
        left = (CANVAS_SIDE - shown_w) // 2
        top = (CANVAS_SIDE - (shown_h + GAP + locator.height)) // 2
        lx, ly = (CANVAS_SIDE - locator.width) // 2, top + shown_h + GAP
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), DETAIL_BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    accent = context.palette.accent
    draw.rectangle(
        (left - FRAME, top - FRAME, left + shown_w + FRAME - 1, top + shown_h + FRAME - 1),
        fill=accent,
    )
    canvas.paste(crop, (left, top))
    del crop
    paste(canvas, locator, (lx, ly))
    factor = locator.width / product.width
    draw.rectangle(
        (
            lx + round(max(0, x0) * factor),
            ly + round(max(0, y0) * factor),
            lx + round(min(product.width, x1) * factor),
            ly + round(min(product.height, y1) * factor),
        ),
        outline=accent,
        width=max(2, FRAME // 2),
    )
    return canvas


assert PANEL_MAX + GAP + LOCATOR_MIN + 2 * MARGIN <= CANVAS_SIDE  # the layout fits the canvas
