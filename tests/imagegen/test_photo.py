"""load_photo: EXIF orientation, draft decoding of big JPEGs, every image mode to RGB/RGBA."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shelfready_core.schemas import BoundingBox
from shelfready_imagegen.photo import PhotoError, load_photo, scale_bbox, to_rgb_or_rgba

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def test_exif_rotated_phone_photo_comes_out_upright() -> None:
    data = (SAMPLES / "glass-scented-candle.jpg").read_bytes()
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (1600, 1200)  # pixels stored sideways ...
    assert stored.getexif()[0x0112] == 6  # ... with orientation 6
    photo = load_photo(data)
    assert photo.size == (1200, 1600)
    assert photo.mode == "RGB"
    # Upright: the jar's dark lid is above its amber body.
    grey = np.asarray(photo.convert("L"), dtype=np.float32)
    lid_row, body_row = grey[580, 450:750].mean(), grey[900, 350:420].mean()
    assert lid_row < 90 < body_row


def test_big_jpeg_is_decoded_in_draft_mode_within_max_side() -> None:
    big = Image.new("RGB", (6000, 4000), (200, 30, 30))
    photo = load_photo(_encode(big, "JPEG", quality=80), max_side=1500)
    assert max(photo.size) <= 1500
    assert photo.size == (1500, 1000)
    assert photo.getpixel((10, 10))[0] > 150


def test_decompression_bomb_is_refused_before_decoding() -> None:
    huge = Image.new("1", (8000, 8000))  # 64 MP, above the 50 MP limit
    with pytest.raises(PhotoError, match="above the"):
        load_photo(_encode(huge, "PNG"))


def test_garbage_bytes_are_a_clear_error() -> None:
    with pytest.raises(PhotoError, match="not a decodable image"):
        load_photo(b"definitely not an image")


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("L", "RGB"), ("LA", "RGBA"), ("CMYK", "RGB"), ("1", "RGB"), ("RGBA", "RGBA")],
)
def test_modes_become_rgb_or_rgba(mode: str, expected: str) -> None:
    assert to_rgb_or_rgba(Image.new(mode, (8, 8))).mode == expected


def test_palette_with_transparency_keeps_it() -> None:
    image = Image.new("P", (8, 8), 0)
    image.info["transparency"] = 0
    assert to_rgb_or_rgba(image).mode == "RGBA"
    assert to_rgb_or_rgba(Image.new("P", (8, 8))).mode == "RGB"


def test_16_bit_grey_is_stretched_not_clipped() -> None:
    values = np.array([[0, 1000], [2000, 4000]], dtype=np.uint16)
    image = Image.frombytes("I;16", (2, 2), values.astype("<u2").tobytes())
    rgb = np.asarray(to_rgb_or_rgba(image))
    assert rgb[0, 0, 0] == 0 and rgb[1, 1, 0] == 255
    assert 100 < rgb[1, 0, 0] < 150  # 2000/4000 of the range, not clipped at 255


def test_scale_bbox_follows_a_resize() -> None:
    box = scale_bbox(BoundingBox(x=600, y=400, width=3000, height=2000), (6000, 4000), (3000, 2000))
    assert (box.x, box.y, box.width, box.height) == (300, 200, 1500, 1000)


def _phone_photo(fmt: str) -> bytes:
    """A 300x200 photo, blue on its left third, saved with EXIF orientation 6 (turn 90° CW)."""
    image = Image.new("RGB", (300, 200), (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, 100, 200))
    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = io.BytesIO()
    image.save(buffer, fmt, exif=exif.tobytes(), quality=90)
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", ["HEIF", "AVIF"])
def test_heic_and_avif_photos_load_upright(fmt: str) -> None:
    photo = load_photo(_phone_photo(fmt))
    assert photo.size == (200, 300)  # turned once, not twice
    top = photo.getpixel((100, 20))
    bottom = photo.getpixel((100, 280))
    assert top[2] > 150 > top[0]  # the blue left third is now at the top
    assert bottom[0] > 150 > bottom[2]
