"""Preparing photos for Claude vision, and mapping boxes back to the photo."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from shelfready_core.schemas import BoundingBox
from shelfready_recognition import prepare
from shelfready_recognition.prepare import prepare_for_claude, scale_box, target_size


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((800, 600), (800, 600)),  # small: untouched
        ((4032, 3024), (1238, 928)),  # 12 MP phone photo: the pixel limit binds
        ((3000, 500), (1568, 261)),  # panorama: the long-edge limit binds
        ((1568, 1568), (1072, 1072)),
    ],
)
def test_target_size_respects_both_limits(size, expected):
    width, height = target_size(*size)
    assert (width, height) == expected
    assert max(width, height) <= prepare.MAX_LONG_EDGE
    assert width * height <= prepare.MAX_PIXELS


def test_prepared_image_is_a_jpeg_of_the_reduced_size_with_its_scale():
    photo = Image.new("RGB", (4032, 3024), (10, 120, 200))

    prepared = prepare_for_claude(photo)

    decoded = Image.open(io.BytesIO(prepared.data))
    assert decoded.format == "JPEG" and decoded.mode == "RGB"
    assert decoded.size == (prepared.width, prepared.height) == (1238, 928)
    assert prepared.original_size == (4032, 3024)
    assert prepared.scale == pytest.approx((1238 / 4032, 928 / 3024))
    assert prepared.quality == 85
    block = prepared.content_block()
    assert block["source"]["media_type"] == "image/jpeg"
    assert base64.b64decode(block["source"]["data"]) == prepared.data


def test_exif_orientation_is_applied_before_sizing():
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees: portrait
    Image.new("RGB", (400, 200), "white").save(buffer, format="JPEG", exif=exif)

    prepared = prepare_for_claude(Image.open(io.BytesIO(buffer.getvalue())))

    assert (prepared.width, prepared.height) == (200, 400)
    assert prepared.original_size == (200, 400)


def test_transparency_is_flattened_onto_white():
    cut_out = Image.new("RGBA", (300, 300), (0, 0, 0, 0))

    prepared = prepare_for_claude(cut_out)

    pixel = Image.open(io.BytesIO(prepared.data)).getpixel((150, 150))
    assert all(channel >= 250 for channel in pixel)


def test_quality_steps_down_until_the_jpeg_fits(monkeypatch):
    noise = Image.merge("RGB", [Image.effect_noise((600, 400), 80) for _ in range(3)])
    at_85 = len(prepare_for_claude(noise).data)
    monkeypatch.setattr(prepare, "MAX_JPEG_BYTES", at_85 - 1)

    prepared = prepare_for_claude(noise)

    assert prepared.quality < 85
    assert len(prepared.data) <= at_85 - 1


def test_an_image_that_cannot_fit_raises_a_clear_error(monkeypatch):
    monkeypatch.setattr(prepare, "MAX_JPEG_BYTES", 10)
    with pytest.raises(ValueError, match="cannot encode a 300x200 image under 10 bytes"):
        prepare_for_claude(Image.new("RGB", (300, 200), "red"))


def test_jpeg_limit_keeps_the_base64_payload_within_5_mb():
    assert 4 * -(-prepare.MAX_JPEG_BYTES // 3) <= 5 * 1024 * 1024


def test_scale_box_maps_prepared_pixels_back_to_the_original():
    box = BoundingBox(x=10, y=20, width=30, height=40)
    assert scale_box(box, 0.5, (1000, 1000)) == BoundingBox(x=20, y=40, width=60, height=80)
    assert scale_box(box, (0.5, 0.25), (1000, 1000)) == BoundingBox(
        x=20, y=80, width=60, height=160
    )


def test_scale_box_clamps_to_the_original_image():
    overshooting = BoundingBox(x=90, y=95, width=50, height=50)
    assert scale_box(overshooting, 0.1, (1000, 1000)) == BoundingBox(
        x=900, y=950, width=100, height=50
    )
    outside = BoundingBox(x=500, y=500, width=10, height=10)
    clamped = scale_box(outside, 1.0, (100, 100))
    assert clamped == BoundingBox(x=99, y=99, width=1, height=1)
