"""The detail image: a close-up of the photo's own pixels, and where on the product it is.

The window comes from detail_crops (inside the product, on its texture or print, never through
a label's text). It is shown at most 1.5x its photo size in a panel of up to PANEL_MAX px, so
the close-up is sharp rather than blown up; below the panel a locator shows the whole product
with the window marked, which also fills the canvas when the photo only allows a small panel.
"""

from __future__ import annotations

from PIL import Image, ImageDraw, ImageFilter

from shelfready_imagegen.canvas import CANVAS_SIDE, clean_alpha, fit, paste
from shelfready_imagegen.detail_crops import PANEL_MAX
from shelfready_imagegen.render_context import RenderContext

DETAIL_BACKGROUND = (246, 246, 244)
MARGIN = 80
GAP = 60  # between the panel and the locator
LOCATOR_MIN, LOCATOR_MAX = 300, 640  # the locator's height: what the panel leaves, within these
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
    shown = choice.shown_side
    if shown != crop.width:
        crop = crop.resize((shown, shown), Image.Resampling.LANCZOS)
        # Mild unsharp mask: restores the edge contrast Lanczos upscaling spreads out.
        crop = crop.filter(ImageFilter.UnsharpMask(radius=1.5, percent=50, threshold=2))
    accent = context.palette.accent
    locator_height = max(LOCATOR_MIN, min(LOCATOR_MAX, CANVAS_SIDE - 2 * MARGIN - GAP - shown))
    locator = clean_alpha(fit(product, CANVAS_SIDE - 2 * MARGIN, locator_height))
    top = (CANVAS_SIDE - (shown + GAP + locator.height)) // 2
    canvas = Image.new("RGB", (CANVAS_SIDE, CANVAS_SIDE), DETAIL_BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    left = (CANVAS_SIDE - shown) // 2
    draw.rectangle(
        (left - FRAME, top - FRAME, left + shown + FRAME - 1, top + shown + FRAME - 1), fill=accent
    )
    canvas.paste(crop, (left, top))
    del crop
    lx, ly = (CANVAS_SIDE - locator.width) // 2, top + shown + GAP
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
