"""The offline recognizer: deterministic, labelled, and honest about what it can tell."""

from __future__ import annotations

import pytest
from PIL import Image, ImageDraw

from shelfready_core.schemas import ListingRequest
from shelfready_recognition.offline import (
    OFFLINE_LABEL,
    OfflineRecognizer,
    colour_name,
    name_from_filename,
)


def red_bottle_photo() -> Image.Image:
    """A red product with a navy cap on a light grey backdrop, 3000x2000."""
    photo = Image.new("RGB", (3000, 2000), (238, 238, 238))
    draw = ImageDraw.Draw(photo)
    draw.rectangle((1200, 400, 1799, 1799), fill=(200, 30, 30))
    draw.rectangle((1300, 250, 1699, 399), fill=(20, 30, 90))
    return photo


def test_same_photo_gives_the_same_labelled_low_confidence_answer():
    recognizer = OfflineRecognizer()
    first = recognizer.recognize(
        red_bottle_photo(), filename="red-water-bottle.jpg", request=ListingRequest()
    )
    second = recognizer.recognize(
        red_bottle_photo(), filename="red-water-bottle.jpg", request=ListingRequest()
    )

    assert first.value == second.value
    assert first.usage == []
    assert first.notes["offline"] is True
    analysis = first.value
    assert analysis.description.startswith(OFFLINE_LABEL)
    assert analysis.confidence == 0.35
    assert analysis.product_name == "Red Water Bottle"
    assert analysis.product_type == "water bottle"
    assert analysis.colors[0] == "red" and "navy" in analysis.colors


def test_box_surrounds_what_differs_from_the_backdrop():
    result = OfflineRecognizer().recognize(
        red_bottle_photo(), filename="bottle.jpg", request=ListingRequest()
    )

    box = result.value.bounding_box
    assert box is not None
    # The product spans x 1200-1799 and y 250-1799 (cap included).
    assert box.x == pytest.approx(1200, abs=20) and box.y == pytest.approx(250, abs=20)
    assert box.x + box.width == pytest.approx(1800, abs=20)
    assert box.y + box.height == pytest.approx(1800, abs=20)


def test_a_blank_photo_has_no_box_and_no_name():
    result = OfflineRecognizer().recognize(
        Image.new("RGB", (800, 600), "white"), filename="IMG_0042.JPG", request=ListingRequest()
    )

    assert result.value.bounding_box is None
    assert result.value.product_name == "Unidentified product"
    assert result.value.product_type == "product"


def test_the_sellers_notes_win_over_the_file_name():
    request = ListingRequest(product_name="Trail Flask", category="Sports > Bottles")
    result = OfflineRecognizer().recognize(
        red_bottle_photo(), filename="red-water-bottle.jpg", request=request
    )
    assert result.value.product_name == "Trail Flask"
    assert result.value.category == "Sports > Bottles"


@pytest.mark.parametrize(
    ("filename", "name"),
    [
        ("red-water-bottle.jpg", "Red Water Bottle"),
        ("leather_wallet_v2.PNG", "Leather Wallet V2"),
        ("IMG_1234.JPG", None),
        ("PXL_20240101_123456.jpg", None),
        ("1234.jpg", None),
    ],
)
def test_name_from_filename(filename, name):
    assert name_from_filename(filename) == name


@pytest.mark.parametrize(
    ("rgb", "name"),
    [((250, 250, 250), "white"), ((10, 10, 10), "black"), ((30, 80, 210), "blue")],
)
def test_colour_names(rgb, name):
    assert colour_name(rgb) == name
