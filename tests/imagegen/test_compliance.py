"""Compliance verdicts: good main images pass; grey, small-product and captioned ones fail."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from shelfready_imagegen.compliance import (
    MAX_FILE_BYTES,
    check_image,
    has_text_outside_product,
)
from shelfready_imagegen.fonts import BOLD, get_font


def _jpeg(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92, subsampling=0, **options)
    return buffer.getvalue()


def _main_like(
    background: tuple[int, int, int] = (255, 255, 255), product_share: float = 0.9, side: int = 2000
) -> Image.Image:
    image = Image.new("RGB", (side, side), background)
    size = side * product_share
    left = (side - size) / 2
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(
        (left, left + size * 0.1, left + size, left + size * 0.9), 60, (30, 80, 160)
    )
    draw.ellipse(
        (left + size * 0.3, left + size * 0.3, left + size * 0.7, left + size * 0.7), (230, 200, 60)
    )
    return image


def test_good_main_image_passes_with_figures() -> None:
    report = check_image(_jpeg(_main_like()), "main")
    assert report.passed, report.reasons
    assert report.format == "JPEG" and (report.width, report.height) == (2000, 2000)
    assert report.background_white_ratio == 1.0
    assert report.fill_ratio == pytest.approx(0.9, abs=0.01)


def test_grey_background_fails() -> None:
    report = check_image(_jpeg(_main_like(background=(235, 235, 235))), "main")
    assert not report.passed
    assert report.background_white_ratio == 0.0
    assert any("not pure white" in reason for reason in report.reasons)
    # Fill is measured against the backdrop's own colour, so it is still right.
    assert report.fill_ratio == pytest.approx(0.9, abs=0.01)


def test_near_white_background_fails_too() -> None:
    report = check_image(_jpeg(_main_like(background=(252, 252, 252))), "main")
    assert any("not pure white" in reason for reason in report.reasons)


def test_small_product_fails_fill() -> None:
    report = check_image(_jpeg(_main_like(product_share=0.6)), "main")
    assert not report.passed
    assert report.fill_ratio == pytest.approx(0.6, abs=0.01)
    assert any("fills 60%" in reason for reason in report.reasons)


def test_caption_outside_the_product_fails() -> None:
    image = _main_like(product_share=0.86)
    font = get_font(64, weight=BOLD)
    ImageDraw.Draw(image).text((120, 1895), "FREE SHIPPING 50% OFF", font=font, fill=(200, 0, 0))
    report = check_image(_jpeg(image), "main")
    assert not report.passed
    assert any(reason.startswith("text or a watermark") for reason in report.reasons)
    assert report.text_regions == 1


def test_all_three_faults_are_reported_together() -> None:
    image = _main_like(background=(200, 200, 200), product_share=0.5)
    ImageDraw.Draw(image).text(
        (150, 1850), "BEST SELLER", font=get_font(80, weight=BOLD), fill="black"
    )
    reasons = check_image(_jpeg(image), "main").reasons
    assert len(reasons) == 3, reasons


def test_text_heuristic_ignores_a_single_multi_part_product() -> None:
    mask = np.zeros((500, 500), bool)
    mask[100:400, 50:200] = True  # a pair of earrings: two large parts
    mask[100:400, 300:450] = True
    assert not has_text_outside_product(mask)


def test_size_format_and_weight_rules() -> None:
    small = check_image(_jpeg(_main_like(side=800)), "scene")
    assert any("at least 1000 px" in reason for reason in small.reasons)
    assert small.background_white_ratio is None and small.fill_ratio is None
    buffer = io.BytesIO()
    _main_like(side=1200).save(buffer, "BMP")
    bmp = check_image(buffer.getvalue(), "detail")
    assert any("format BMP is not allowed" in reason for reason in bmp.reasons)
    noise = np.random.default_rng(0).integers(0, 256, (1900, 1900, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noise).save(buffer, "PNG", compress_level=1)
    assert len(buffer.getvalue()) > MAX_FILE_BYTES
    heavy = check_image(buffer.getvalue(), "scene")
    assert any("10 MB" in reason for reason in heavy.reasons)


def test_png_with_transparency_is_judged_over_white() -> None:
    image = _main_like().convert("RGBA")
    pixels = np.asarray(image).copy()
    white = np.all(pixels[..., :3] == 255, axis=-1)
    pixels[white, 3] = 0
    pixels[white, :3] = 0  # transparent black must still count as white on the page
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    report = check_image(buffer.getvalue(), "main")
    assert report.passed, report.reasons


def test_undecodable_data_fails_cleanly() -> None:
    report = check_image(b"nope", "main")
    assert not report.passed and report.format == "unknown"


def _text_reasons(report) -> list[str]:
    return [reason for reason in report.reasons if reason.startswith("text or a watermark")]


@pytest.mark.parametrize(
    ("text", "language", "where"),
    [
        ("SALE", "en", (1480, 60)),  # a short word in a corner, off the product
        ("送料無料", "ja", (80, 1900)),  # Japanese, along the bottom margin
        ("©SHOP", "en", (700, 960)),  # a watermark across the product's right edge
    ],
)
def test_detected_text_off_the_product_fails_in_any_script(
    text: str, language: str, where: tuple[int, int]
) -> None:
    image = _main_like(product_share=0.86)
    font = get_font(56, weight=BOLD, language=language)
    draw = ImageDraw.Draw(image)
    if where == (700, 960):
        # Across the product's right edge onto the white: half on, half off.
        draw.text((1800, 960), text, font=font, fill=(120, 120, 120))
    else:
        draw.text(where, text, font=font, fill=(60, 60, 60))
    report = check_image(_png(image), "main")
    assert _text_reasons(report), report.reasons
    assert not report.passed


def test_a_label_printed_on_the_product_is_allowed() -> None:
    image = _main_like()
    font = get_font(80, weight=BOLD)
    ImageDraw.Draw(image).text((700, 700), "AQUA 750", font=font, fill=(255, 255, 255))
    report = check_image(_png(image), "main")
    assert report.passed, report.reasons
    assert report.text_regions == 0


def test_a_product_cut_at_the_frame_fails() -> None:
    image = Image.new("RGB", (2000, 2000), (255, 255, 255))
    ImageDraw.Draw(image).rectangle((-50, 300, 1800, 1700), fill=(30, 80, 160))
    report = check_image(_png(image), "main")
    assert any("cut at the image's edge (left" in reason for reason in report.reasons)


def test_an_untrusted_cutout_never_passes() -> None:
    reason = "the cut-out may have missed part of the product: 30% of it looks like background"
    report = check_image(
        _jpeg(_main_like()), "main", cutout_confidence=0.2, cutout_reasons=[reason]
    )
    assert not report.passed
    assert reason in report.reasons and report.cutout_confidence == 0.2


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
