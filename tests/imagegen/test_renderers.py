"""Each renderer on a synthetic cut-out (no GrabCut needed): what each image must show."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_imagegen.canvas import CANVAS_SIDE
from shelfready_imagegen.cutout import Cutout
from shelfready_imagegen.detail_crops import MAX_UPSCALE, choose_detail
from shelfready_imagegen.render_context import RenderContext
from shelfready_imagegen.render_detail import FRAME, render_detail
from shelfready_imagegen.render_dimensions import AREA, LINE, render_dimensions
from shelfready_imagegen.render_main import encode_main, render_main
from shelfready_imagegen.render_scene import render_scene
from shelfready_imagegen.render_selling_points import TEXT_LEFT, render_selling_points

PRODUCT = ProductAnalysis(
    product_type="storage box",
    product_name="Storage Box",
    category="Home",
    confidence=0.9,
    description="A box.",
)
BULLETS_EN = [
    "Stackable: saves shelf space",
    "Sturdy walls: holds heavy items",
    "Easy grip handles for carrying",
    "Wipe clean surface",
    "Fits standard shelves",
]
BULLETS_ZH = ["可堆叠：节省空间", "坚固耐用：承重强", "便携把手", "易清洁表面", "适配标准层架"]


def _box_product() -> Image.Image:
    """A flat sand-coloured box with a finely printed patch in its lower-right corner."""
    image = Image.new("RGBA", (900, 700), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, 899, 699), fill=(214, 190, 150, 255))
    for i in range(0, 200, 8):  # the "print": dense stripes in one corner
        draw.line((640 + i, 460, 640 + i, 660), fill=(40, 40, 40, 255), width=3)
    return image


def _context(language: str = "en", specs: dict[str, str] | None = None) -> RenderContext:
    bullets = BULLETS_ZH if language == "zh" else BULLETS_EN
    listing = ListingDraft(
        title="Storage Box",
        bullet_points=bullets,
        description="A box.",
        keywords=["box"],
        image_prompts=["p"] * 5,
    )
    request = ListingRequest(language=language, specifications=specs or {})
    product = _box_product()
    return RenderContext(Cutout(product, (0, 0, *product.size), "alpha"), PRODUCT, listing, request)


def _laplacian_variance(image: Image.Image) -> float:
    grey = np.asarray(image.convert("L"), dtype=np.float32)
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def test_main_is_centred_on_pure_white_at_ninety_percent() -> None:
    image = render_main(_context().cutout)
    pixels = np.asarray(image)
    assert image.size == (CANVAS_SIDE, CANVAS_SIDE)
    product = np.any(pixels != 255, axis=-1)
    cols = np.flatnonzero(product.any(axis=0))
    rows = np.flatnonzero(product.any(axis=1))
    assert (cols[-1] - cols[0] + 1) / CANVAS_SIDE == pytest.approx(0.9, abs=0.005)
    assert abs((cols[0] + cols[-1]) / 2 - CANVAS_SIDE / 2) < 2
    assert abs((rows[0] + rows[-1]) / 2 - CANVAS_SIDE / 2) < 2
    encoded = encode_main(image)
    assert encoded.content_type == "image/jpeg"  # the white border survives JPEG exactly


def test_detail_window_finds_the_printed_corner() -> None:
    left, top, right, bottom = choose_detail(_box_product()).window
    assert left <= 660 and right >= 820 and top <= 480 and bottom >= 640


def _detail_panel(image: Image.Image, accent: tuple[int, int, int]) -> tuple[int, int, int, int]:
    """The close-up panel's box inside its accent frame (the frame: the largest accent area)."""
    frame = np.all(np.asarray(image).astype(int) == accent, axis=-1).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(frame, connectivity=8)
    x, y, w, h, _ = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))]
    return (x + FRAME, y + FRAME, x + w - FRAME, y + h - FRAME)


def test_detail_is_a_sharp_close_up() -> None:
    context = _context()
    detail = render_detail(context)
    assert detail.size == (CANVAS_SIDE, CANVAS_SIDE)
    # The panel shows the window at its scale; sharper than the same region taken from a
    # quarter-size copy and enlarged, and with real stripe edges in it (a blurred or flat crop
    # has a Laplacian variance near zero).
    panel = detail.crop(_detail_panel(detail, context.palette.accent))
    assert panel.size == context.detail.shown_size
    left, top, right, bottom = context.detail.window
    soft = context.cutout.image.crop((left, top, right, bottom)).convert("RGB")
    soft = soft.resize(((right - left) // 4,) * 2, Image.Resampling.BILINEAR)
    soft = soft.resize(panel.size, Image.Resampling.BILINEAR)
    assert _laplacian_variance(panel) > 3 * _laplacian_variance(soft)
    assert _laplacian_variance(panel) > 20


def test_dimensions_with_specs_draws_lines_and_labels() -> None:
    image = render_dimensions(_context(specs={"Dimensions": "40 x 30 x 31 cm"}))
    pixels = np.asarray(image)
    line = np.all(np.abs(pixels.astype(int) - LINE) < 30, axis=-1)
    # A horizontal measurement line below the product area and a vertical one left of it.
    assert line[AREA[3] - 200 : CANVAS_SIDE].sum(axis=1).max() > 600
    assert line[:, : AREA[0]].sum(axis=0).max() > 300
    # Labels: dark glyph pixels in the band under the width line.
    assert line.sum() > 10_000


def test_dimensions_without_specs_shows_one_unmirrored_view_and_no_text() -> None:
    context = _context(specs={"Material": "polypropylene"})
    product = Image.new("RGBA", (400, 800), (214, 190, 150, 255))
    product.paste((180, 30, 30, 255), (0, 0, 120, 800))  # a red strip on its left side only
    context.cutout = Cutout(product, (0, 0, 400, 800), "alpha")
    pixels = np.asarray(render_dimensions(context)).astype(int)
    red = np.all(np.abs(pixels - (180, 30, 30)) < 20, axis=-1)
    sand = np.all(np.abs(pixels - (214, 190, 150)) < 12, axis=-1)
    red_cols, sand_cols = np.flatnonzero(red.any(axis=0)), np.flatnonzero(sand.any(axis=0))
    # One view, the right way round: the red strip is left of the rest, and appears once.
    assert red_cols.max() < sand_cols.min() + 10
    assert 1 + int((np.diff(red_cols) > 5).sum()) == 1
    assert 1 + int((np.diff(sand_cols) > 5).sum()) == 1
    # No labels: nothing drawn in the measurement-line colour.
    assert np.all(np.abs(pixels - LINE) < 30, axis=-1).sum() == 0


@pytest.mark.parametrize("language", ["en", "zh"])
def test_selling_points_render_five_callouts(language: str) -> None:
    image = render_selling_points(_context(language))
    text_column = np.asarray(image.convert("L"))[:, TEXT_LEFT:] < 90
    rows_with_ink = np.flatnonzero(text_column.any(axis=1))
    # Five separate blocks of text down the column.
    blocks = 1 + int((np.diff(rows_with_ink) > 40).sum())
    assert blocks == 5
    assert text_column.sum() > 5_000


def test_scene_has_backdrop_shadow_and_product() -> None:
    image = render_scene(_context())
    pixels = np.asarray(image).astype(int)
    assert image.size == (CANVAS_SIDE, CANVAS_SIDE)
    assert not np.all(pixels[5, 5] == 255)  # a styled backdrop, not white
    base_row = int(CANVAS_SIDE * 0.82)
    # The contact shadow darkens the surface right under the product's base...
    under = pixels[base_row + 15, CANVAS_SIDE // 2].sum()
    aside = pixels[base_row + 15, 60].sum()
    assert under < aside - 60
    # ... and the product stands above it.
    assert np.abs(pixels[base_row - 300, CANVAS_SIDE // 2] - (214, 190, 150)).max() < 10


def test_wide_product_gets_callouts_below_it() -> None:
    context = _context()
    wide = Image.new("RGBA", (1200, 500), (214, 190, 150, 255))
    context.cutout = Cutout(wide, (0, 0, 1200, 500), "alpha")
    image = np.asarray(render_selling_points(context).convert("L"))
    ink = image < 90
    assert ink[:950].sum() == 0  # no text over or beside the product
    rows = np.flatnonzero(ink.any(axis=1))
    assert 1 + int((np.diff(rows) > 40).sum()) == 5


def test_main_falls_back_to_png_when_jpeg_would_touch_the_white_border() -> None:
    image = render_main(_context().cutout)
    pixels = np.asarray(image).copy()
    pixels[5:30:2, 100:1900:2] = (180, 20, 20)  # fine red dots inside the border band
    encoded = encode_main(Image.fromarray(pixels))
    assert encoded.content_type == "image/png" and encoded.extension == "png"
    decoded = np.asarray(Image.open(io.BytesIO(encoded.data)).convert("RGB"))
    assert np.array_equal(decoded, pixels)


def test_detail_never_enlarges_more_than_one_and_a_half_times() -> None:
    context = _context()
    rng = np.random.default_rng(3)
    texture = rng.integers(0, 255, (600, 500, 3), dtype=np.uint8)  # detail everywhere
    product = Image.fromarray(texture).convert("RGBA")
    context.cutout = Cutout(product, (0, 0, 500, 600), "alpha")
    image = render_detail(context)
    left, top, right, bottom = context.detail.window
    x0, y0, x1, y1 = _detail_panel(image, context.palette.accent)
    # The panel on the canvas is at most 1.5x the window in the photo, each way.
    assert (x1 - x0, y1 - y0) == context.detail.shown_size
    assert x1 - x0 <= MAX_UPSCALE * (right - left) and y1 - y0 <= MAX_UPSCALE * (bottom - top)


def test_scene_surface_follows_the_category_and_its_reflection_is_blurred() -> None:
    from shelfready_imagegen.backdrops import surface_for
    from shelfready_imagegen.render_scene import reflection

    assert surface_for("Beauty > Fragrance").name == "marble"
    assert surface_for("Sports & Outdoors > Running Shoes").name == "concrete"
    assert surface_for("Home & Kitchen > Mugs").name == "wood"
    assert surface_for("Home > Bedding > Pillows").name == "linen"
    sharp = Image.new("RGBA", (600, 600), (255, 255, 255, 255))
    ImageDraw.Draw(sharp).text((50, 500), "READ ME", fill=(0, 0, 0, 255), font_size=80)
    mirrored = np.asarray(reflection(sharp, 0.3).convert("L"), np.float32)
    flipped = np.asarray(
        sharp.transpose(Image.Transpose.FLIP_TOP_BOTTOM).crop((0, 0, 600, 210)).convert("L"),
        np.float32,
    )
    # The letters' crisp strokes are gone from the reflection: no text reads backwards.
    assert (
        cv2.Laplacian(mirrored, cv2.CV_32F).var() < 0.05 * cv2.Laplacian(flipped, cv2.CV_32F).var()
    )


def _accent_boxes(image: Image.Image, accent: tuple[int, int, int]) -> list[tuple[int, ...]]:
    """Boxes (x0, y0, x1, y1) of the accent-coloured shapes, largest first: the panel's frame,
    then the window marked on the locator."""
    mask = np.all(np.asarray(image).astype(int) == accent, axis=-1).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    found = sorted(stats[1:], key=lambda s: -s[cv2.CC_STAT_AREA])
    return [(x, y, x + w, y + h) for x, y, w, h, _ in found]


@pytest.mark.parametrize(("size", "beside"), [((260, 1500), True), ((1500, 260), False)])
def test_detail_panel_follows_the_product_and_is_magnified_against_the_locator(
    size: tuple[int, int], beside: bool
) -> None:
    """A tall product's portrait panel stands beside the locator, a wide one's above it; on
    the locator the marked window is at most half the panel's size, so it reads as a close-up."""
    context = _context()
    rng = np.random.default_rng(4)
    texture = rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    context.cutout = Cutout(Image.fromarray(texture).convert("RGBA"), (0, 0, *size), "alpha")
    image = render_detail(context)
    accent = context.palette.accent
    panel, marked = _accent_boxes(image, accent)[:2]
    shown_w, shown_h = context.detail.shown_size
    assert (shown_h > shown_w) == beside
    if beside:
        assert marked[0] > panel[2]  # the locator stands to the right of the panel
    else:
        assert marked[1] > panel[3]  # ... or below it
    panel_w, panel_h = panel[2] - panel[0], panel[3] - panel[1]
    marked_w, marked_h = marked[2] - marked[0], marked[3] - marked[1]
    assert marked_w <= 0.5 * panel_w + 8 and marked_h <= 0.5 * panel_h + 8


def test_selling_points_show_the_features_the_bullets_quote() -> None:
    """An offline-style listing: one bullet quotes the seller's three features behind a generic
    lead-in; the image shows those three, not five lead-ins."""
    context = _context()
    features = ["Stackable lid", "Sturdy walls", "Easy grip handles"]
    context.request = ListingRequest(features=features)
    context.listing = context.listing.model_copy(
        update={
            "bullet_points": [
                "Easy everyday use: Stackable lid, Sturdy walls and Easy grip handles.",
                "Considered finish: a sand storage box that suits your space.",
                "Ready when you need it: a storage box suited to daily use.",
                "Made for everyday users: a practical storage box.",
                "Clear details: check the product images for the size.",
            ]
        }
    )
    image = render_selling_points(context)
    text_column = np.asarray(image.convert("L"))[:, TEXT_LEFT:] < 90
    rows_with_ink = np.flatnonzero(text_column.any(axis=1))
    assert 1 + int((np.diff(rows_with_ink) > 40).sum()) == 3


def test_scene_reflection_is_no_flipped_copy_so_print_never_reads_backwards() -> None:
    """Large print at the product's very base: a flipped copy, blurred, still showed it
    backwards. The reflection carries the base's colours straight down, so no column of it
    changes on the way down except in strength: there is no shape in it to read."""
    from shelfready_imagegen.fonts import BOLD, get_font
    from shelfready_imagegen.render_scene import reflection

    product = Image.new("RGBA", (700, 900), (240, 236, 228, 255))
    ImageDraw.Draw(product).text(
        (40, 740), "SERUM", fill=(20, 20, 20, 255), font=get_font(130, weight=BOLD)
    )
    layer = np.asarray(reflection(product, 0.3)).astype(int)
    assert layer.shape[0] >= 0.2 * 900 and layer[..., 3].max() > 40  # it is there
    for column in range(0, 700, 7):
        rows = layer[:, column]
        seen = rows[rows[:, 3] > 10]
        assert len(seen) == 0 or np.ptp(seen[:, :3], axis=0).max() <= 2, column
    # Fading out: strongest at the base, gone at the far end.
    assert layer[0, 350, 3] > layer[len(layer) // 2, 350, 3] > layer[-1, 350, 3]


def test_wood_planks_run_along_their_grain_and_narrow_towards_the_horizon() -> None:
    from shelfready_imagegen.backdrops import backdrop, texture

    seam_darkness = 4  # grey levels a seam row lies below the rows around it

    grey = texture("wood", (600, 1000), seed=3).mean(axis=2)
    # Grain and seams both run across the picture: the picture changes down it, not along.
    assert grey.mean(axis=1).std() > 3 * grey.mean(axis=0).std()
    image = backdrop("wood", 2000, 0.62, (235, 235, 240), seed=3).mean(axis=2)
    surface = image[int(2000 * 0.62) + 20 :, 200:1800].mean(axis=1)
    # Seams: rows clearly darker than the rows around them.
    around = np.convolve(surface, np.ones(15) / 15, mode="same")
    seams = np.flatnonzero(surface < around - seam_darkness)
    starts = seams[np.concatenate([[True], np.diff(seams) > 3])]
    assert len(starts) >= 3, starts
    gaps = np.diff(starts)
    assert (np.diff(gaps) > 0).all(), gaps  # nearer, wider


@pytest.mark.parametrize("size", [(1500, 420), (420, 1500)])
def test_dimensions_labels_stay_on_the_canvas_and_the_group_is_centred(
    size: tuple[int, int],
) -> None:
    """Long figures ("210.75 cm") take the room they need: nothing is drawn near the edge, and
    the product with its lines and labels stands in the middle."""
    context = _context(specs={"Dimensions": "120.5 x 35.25 x 210.75 cm"})
    product = Image.new("RGBA", size, (214, 190, 150, 255))
    context.cutout = Cutout(product, (0, 0, *size), "alpha")
    pixels = np.asarray(render_dimensions(context)).astype(int)
    ink = np.all(np.abs(pixels - LINE) < 30, axis=-1)
    drawn = ink | np.all(np.abs(pixels - (214, 190, 150)) < 12, axis=-1)
    rows, cols = np.flatnonzero(drawn.any(axis=1)), np.flatnonzero(drawn.any(axis=0))
    assert rows.min() >= 60 and cols.min() >= 60
    assert rows.max() <= CANVAS_SIDE - 60 and cols.max() <= CANVAS_SIDE - 60
    assert abs((cols.min() + cols.max()) / 2 - CANVAS_SIDE / 2) <= 40
    assert abs((rows.min() + rows.max()) / 2 - CANVAS_SIDE / 2) <= 60
    # ... and the product is large: its long side at least half the canvas.
    sand = np.all(np.abs(pixels - (214, 190, 150)) < 12, axis=-1)
    assert (
        max(np.ptp(np.flatnonzero(sand.any(axis=0))), np.ptp(np.flatnonzero(sand.any(axis=1))))
        >= 1000
    )
