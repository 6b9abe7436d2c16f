"""The detail window on painted photos whose product, texture and label regions are known."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_imagegen.cutout import cut_out
from shelfready_imagegen.detail_crops import (
    MAX_UPSCALE,
    MIN_COVERAGE,
    PANEL_MIN,
    choose_detail,
)
from shelfready_imagegen.fonts import BOLD, get_font
from shelfready_imagegen.imageset import render_set

Box = tuple[int, int, int, int]
BACKGROUND = (236, 234, 228)
BODY = (176, 84, 52)  # a terracotta tin
PRODUCT_BOX: Box = (300, 150, 1300, 1150)  # in photo px
TEXTURE_BOX: Box = (400, 260, 640, 500)  # a woven patch on the body
LABEL_BOX: Box = (690, 300, 1180, 430)  # a cream label with one line of text


def _contains(outer: Box, inner: Box) -> bool:
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and outer[2] >= inner[2]
        and outer[3] >= inner[3]
    )


def _disjoint(a: Box, b: Box) -> bool:
    return a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]


def _shift(box: Box, dx: int, dy: int) -> Box:
    return (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)


def _textured_tin() -> tuple[Image.Image, np.ndarray, Box]:
    """A 1600x1200 photo: a flat tin with a woven patch and a text label, on a plain backdrop.

    Returns the photo, the product's true mask and the true box of the label's text.
    """
    photo = Image.new("RGB", (1600, 1200), BACKGROUND)
    draw = ImageDraw.Draw(photo)
    draw.rounded_rectangle(PRODUCT_BOX, radius=60, fill=BODY)
    left, top, right, bottom = TEXTURE_BOX
    for y in range(top, bottom, 12):  # a basket weave: alternating dark and light bars
        for x in range(left, right, 12):
            shade = (90, 40, 24) if (x // 12 + y // 12) % 2 else (226, 170, 120)
            horizontal = (x // 12 + y // 12) % 2
            bar = (x, y + 3, x + 11, y + 8) if horizontal else (x + 3, y, x + 8, y + 11)
            draw.rectangle(bar, fill=shade)
    draw.rectangle(LABEL_BOX, fill=(244, 238, 222))
    font = get_font(64, weight=BOLD)
    text = "ORGANIC TEA"
    tx, ty = LABEL_BOX[0] + 30, LABEL_BOX[1] + 30
    draw.text((tx, ty), text, fill=(40, 34, 30), font=font)
    text_box = draw.textbbox((tx, ty), text, font=font)
    product_mask = Image.new("L", (1600, 1200), 0)
    ImageDraw.Draw(product_mask).rounded_rectangle(PRODUCT_BOX, radius=60, fill=255)
    noise = np.random.default_rng(7).normal(0, 2.0, (1200, 1600, 3))
    pixels = np.clip(np.asarray(photo, np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels), np.asarray(product_mask) > 0, text_box


@pytest.fixture(scope="module")
def tin() -> tuple[Image.Image, np.ndarray, Box]:
    return _textured_tin()


def test_window_is_inside_the_product_on_its_texture_and_leaves_the_label_whole(
    tin: tuple[Image.Image, np.ndarray, Box],
) -> None:
    photo, product_mask, text_box = tin
    cutout = cut_out(photo)
    choice = choose_detail(cutout.image)
    dx, dy = cutout.box[0], cutout.box[1]
    window = _shift(choice.window, dx, dy)  # back to photo px, where the truth is known
    x0, y0, x1, y1 = window
    assert choice.reasons == [], choice.reasons
    # Inside the product: the true mask covers the window (not just the cut-out's alpha).
    assert product_mask[y0:y1, x0:x1].mean() >= MIN_COVERAGE, window
    # On the woven patch, whole; and the label's text is either wholly in view or not at all.
    assert _contains(window, TEXTURE_BOX), window
    assert _contains(window, text_box) or _disjoint(window, text_box), (window, text_box)
    # A close-up (at most 0.6 of the 1000 px product), of photo pixels at no more than 1.5x,
    # filling at least the smallest panel's area.
    assert max(x1 - x0, y1 - y0) <= 0.6 * (PRODUCT_BOX[2] - PRODUCT_BOX[0]) + 5
    assert choice.scale <= MAX_UPSCALE
    assert choice.shown_size == (round((x1 - x0) * choice.scale), round((y1 - y0) * choice.scale))
    assert choice.shown_size[0] * choice.shown_size[1] >= PANEL_MIN**2
    assert choice.detail_share >= 0.04


def test_a_window_never_slices_a_text_block_it_is_given() -> None:
    """Texture everywhere and a wide text line across the middle: no window can hold the
    line whole, so the chosen one stays off it."""
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 255, (900, 900, 3), dtype=np.uint8)
    product = Image.fromarray(pixels).convert("RGBA")
    line: Box = (60, 420, 840, 480)  # wider than the largest window (0.6 x 900 = 540)
    choice = choose_detail(product, text_boxes=[line])
    assert choice.text_cut == 0
    _, y0, _, y1 = choice.window
    # The line lies wholly above or below the window, with a margin of 0.3 line heights.
    assert y1 <= 420 - 18 or y0 >= 480 + 18, choice.window
    # A narrower line fits: then the window may hold it, but only whole.
    short: Box = (300, 420, 520, 480)
    choice = choose_detail(product, text_boxes=[short])
    guard = (282, 402, 538, 498)
    assert _contains(choice.window, short) or _disjoint(choice.window, guard), choice.window


PRODUCT = ProductAnalysis(
    product_type="tin",
    product_name="Tea Tin",
    category="Grocery",
    confidence=0.9,
    description="A tin.",
)
LISTING = ListingDraft(
    title="Tea Tin",
    bullet_points=["Airtight lid", "Food-safe", "Stackable", "Gift ready", "Recyclable"],
    description="A tin.",
    keywords=["tin"],
    image_prompts=["p"] * 5,
)


def _detail_of(photo: Image.Image):  # type: ignore[no-untyped-def]
    result = render_set(
        photo, bbox=None, product=PRODUCT, listing=LISTING, request=ListingRequest(), only_index=3
    )
    [detail] = result.images
    return result, detail


def _transparent_product(size: tuple[int, int], paint) -> Image.Image:  # type: ignore[no-untyped-def]
    photo = Image.new("RGBA", (size[0] + 200, size[1] + 200), (0, 0, 0, 0))
    product = Image.new("RGBA", size, (0, 0, 0, 255))
    paint(product)
    photo.paste(product, (100, 100))
    return photo


def test_a_flat_product_is_delivered_and_flagged_with_its_measured_detail() -> None:
    def flat(image: Image.Image) -> None:
        image.paste((120, 150, 190, 255), (0, 0, *image.size))

    result, detail = _detail_of(_transparent_product((1100, 1300), flat))
    assert detail.data and detail.error is None  # delivered
    entry = detail.compliance["detail"]
    assert entry["detail_share"] < 0.04 and entry["upscale"] <= MAX_UPSCALE
    shown_w, shown_h = entry["shown_size"]
    assert shown_w * shown_h >= PANEL_MIN**2  # big enough: flatness is the only problem
    [reason] = [r for r in result.review_reasons if "detail" in r]
    assert "mostly flat" in reason and f"{entry['detail_share']:.1%}" in reason
    assert result.needs_review and detail.review == [reason]


def test_a_small_product_is_delivered_and_flagged_with_the_upscale_it_would_need() -> None:
    rng = np.random.default_rng(2)

    def textured(image: Image.Image) -> None:
        noise = rng.integers(0, 255, (image.height, image.width, 3), dtype=np.uint8)
        image.paste(Image.fromarray(noise).convert("RGBA"))

    result, detail = _detail_of(_transparent_product((420, 500), textured))
    assert detail.data and detail.error is None
    entry = detail.compliance["detail"]
    w, h = entry["window_size"]
    assert max(w, h) <= 0.6 * 500 and entry["upscale"] == MAX_UPSCALE
    shown_w, shown_h = entry["shown_size"]
    assert (shown_w, shown_h) == (round(w * MAX_UPSCALE), round(h * MAX_UPSCALE))
    assert shown_w * shown_h < PANEL_MIN**2
    [reason] = [r for r in result.review_reasons if "detail" in r]
    assert f"shown at only {shown_w}x{shown_h} px" in reason
    assert f"{w}x{h} px in the photo" in reason
    assert f"{PANEL_MIN / (w * h) ** 0.5:.2f}x" in reason
    assert "mostly flat" not in reason and not any("flat" in r for r in detail.review)


def _textured(size: tuple[int, int], seed: int = 11) -> Image.Image:
    """An opaque cut-out with detail everywhere: any window inside it is a good close-up."""
    noise = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(noise).convert("RGBA")


def _slim(size: tuple[int, int], bar: Box) -> Image.Image:
    """A transparent cut-out holding one textured bar (a lamp's stem, a bottle, a rail)."""
    product = Image.new("RGBA", size, (0, 0, 0, 0))
    product.paste(_textured((bar[2] - bar[0], bar[3] - bar[1])), bar[:2])
    return product


@pytest.mark.parametrize(
    ("size", "bar", "portrait"),
    [((900, 1500), (300, 0, 600, 1500), True), ((1500, 900), (0, 300, 1500, 600), False)],
)
def test_a_slim_product_gets_a_window_of_its_own_shape(
    size: tuple[int, int], bar: Box, portrait: bool
) -> None:
    """A 300 px bar holds no 400 px square, but a tall (or wide) window of that area fits."""
    choice = choose_detail(_slim(size, bar), text_boxes=[])
    x0, y0, x1, y1 = choice.window
    w, h = x1 - x0, y1 - y0
    assert (h > w) == portrait, choice.window
    truth = np.zeros((size[1], size[0]), bool)
    truth[bar[1] : bar[3], bar[0] : bar[2]] = True
    assert truth[max(0, y0) : y1, max(0, x0) : x1].sum() >= MIN_COVERAGE * w * h  # product
    assert choice.scale <= MAX_UPSCALE
    # More product in view than the largest square inside the bar could show, and enough of
    # it for a full panel: no review reason.
    assert w * h > 1.5 * 300**2
    assert choice.reasons == [], choice.reasons


def test_a_square_product_keeps_a_close_up_not_the_whole_of_it() -> None:
    choice = choose_detail(_textured((1000, 1000)), text_boxes=[])
    x0, y0, x1, y1 = choice.window
    assert max(x1 - x0, y1 - y0) <= 0.6 * 1000 + 5
