"""The cut-out on every kind of background in samples/, checked against where the painter put
the product (scripts/make_samples.py)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shelfready_core.schemas import BoundingBox
from shelfready_imagegen.cutout import Cutout, CutoutError, cut_out
from shelfready_imagegen.photo import load_photo

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
# Product extents (left, top, right, bottom) in the upright photo, from make_samples.py.
PRODUCT_BOXES = {
    "ceramic-coffee-mug.jpg": (510, 254, 1191, 992),  # white sweep
    "stainless-water-bottle.jpg": (395, 127, 805, 1400),  # plain colour
    "running-sneaker.jpg": (200, 300, 1425, 850),  # gradient
    "wireless-headphones.png": (100, 132, 1100, 890),  # transparent PNG
    "glass-scented-candle.jpg": (320, 540, 880, 1210),  # EXIF-rotated, linen texture
}
LAMP = "brass-desk-lamp.jpg"  # cluttered background
LAMP_BOX = (420, 180, 1000, 1052)


def _iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    left, top = max(a[0], b[0]), max(a[1], b[1])
    right, bottom = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0, right - left) * max(0, bottom - top)
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area


def _photo(name: str) -> Image.Image:
    return load_photo((SAMPLES / name).read_bytes())


@cache
def _cutout_of(name: str) -> Cutout:
    """Each sample is cut out once per test run (GrabCut costs about a second)."""
    return cut_out(_photo(name))


@pytest.mark.parametrize("name", sorted(PRODUCT_BOXES))
def test_product_found_without_a_bbox(name: str) -> None:
    cutout = _cutout_of(name)
    assert cutout.image.mode == "RGBA"
    assert _iou(cutout.box, PRODUCT_BOXES[name]) > 0.93, cutout.box
    alpha = np.asarray(cutout.image.getchannel("A"))
    # Cropped to its extent: every edge of the cut-out touches the product.
    assert alpha[0].max() > 0 and alpha[-1].max() > 0
    assert alpha[:, 0].max() > 0 and alpha[:, -1].max() > 0
    # The product is solid, not a speckle: most of its bounding box is opaque.
    assert (alpha > 200).mean() > 0.25


def test_transparent_png_uses_its_own_alpha() -> None:
    cutout = _cutout_of("wireless-headphones.png")
    assert cutout.method == "alpha"


def test_mug_handle_opening_stays_background_and_candle_label_stays_product() -> None:
    mug = _cutout_of("ceramic-coffee-mug.jpg")
    # The handle's opening, centred near (1050, 600) in the photo.
    x, y = 1050 - mug.box[0], 600 - mug.box[1]
    assert mug.image.getchannel("A").getpixel((x, y)) == 0
    candle = _cutout_of("glass-scented-candle.jpg")
    # The cream label is close to the linen colour but is part of the jar.
    x, y = 600 - candle.box[0], 830 - candle.box[1]
    assert candle.image.getchannel("A").getpixel((x, y)) == 255


def test_cluttered_background_with_the_recognition_bbox() -> None:
    bbox = BoundingBox(x=430, y=190, width=560, height=855)  # a slightly tight model box
    cutout = cut_out(_photo(LAMP), bbox)
    assert _iou(cutout.box, LAMP_BOX) > 0.85, cutout.box
    alpha = cutout.image.getchannel("A")
    # Blurred shelf clutter right of the lamp shade stays out.
    assert alpha.getpixel((950 - cutout.box[0], 600 - cutout.box[1])) == 0


def test_a_short_recognition_bbox_grows_to_the_whole_product() -> None:
    shade_only = BoundingBox(x=430, y=190, width=460, height=270)  # the base is cut off
    cutout = cut_out(_photo(LAMP), shade_only)
    assert _iou(cutout.box, LAMP_BOX) > 0.9, cutout.box


def test_a_bbox_off_the_detected_object_is_respected() -> None:
    """A box mostly off the detected object is not swapped for it: here it holds nothing."""
    empty_corner = BoundingBox(x=1260, y=80, width=300, height=300)
    with pytest.raises(CutoutError):
        cut_out(_photo("ceramic-coffee-mug.jpg"), empty_corner)


def test_cluttered_background_without_a_bbox() -> None:
    """Only the in-focus lamp: the blurred shelf objects around it, even touching it, stay out."""
    cutout = _cutout_of(LAMP)
    assert _iou(cutout.box, LAMP_BOX) > 0.9, cutout.box
    alpha = cutout.image.getchannel("A")
    assert alpha.getpixel((700 - cutout.box[0], 300 - cutout.box[1])) == 255  # the shade
    assert alpha.getpixel((930 - cutout.box[0], 400 - cutout.box[1])) == 0  # shelf behind


def test_big_photo_cutout_is_limited_to_max_side() -> None:
    photo = _photo("stainless-water-bottle.jpg").resize((3000, 4000), Image.Resampling.BILINEAR)
    cutout = cut_out(photo, max_side=1200)
    assert max(cutout.image.size) <= 1200
    expected = tuple(round(v * 2.5) for v in PRODUCT_BOXES["stainless-water-bottle.jpg"])
    assert _iou(cutout.box, expected) > 0.9  # type: ignore[arg-type]


def test_empty_transparent_image_is_a_cutout_error() -> None:
    with pytest.raises(CutoutError):
        cut_out(Image.new("RGBA", (400, 400), (0, 0, 0, 0)))
