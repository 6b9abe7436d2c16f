"""build_image_set end to end on the bundled samples and on a 24-megapixel photo."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from shelfready_core.schemas import BoundingBox, ListingDraft, ListingRequest, ProductAnalysis
from shelfready_imagegen.compliance import check_image
from shelfready_imagegen.imageset import IMAGE_KINDS, RenderedImage, build_image_set, render_set
from shelfready_imagegen.photo import load_photo

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PRODUCT = ProductAnalysis(
    product_type="mug",
    product_name="Ceramic Coffee Mug",
    category="Home & Kitchen > Mugs",
    confidence=0.9,
    description="A blue glazed mug.",
)
BULLETS = {
    "en": [
        "Keeps drinks hot: double-wall ceramic holds heat",
        "Dishwasher safe: the glaze resists stains",
        "Comfortable handle - fits four fingers",
        "Generous 350 ml capacity for your morning coffee",
        "Gift ready: arrives in a protective box",
    ],
    "ja": ["保温性：二重構造", "食洗機対応", "持ちやすいハンドル", "たっぷり350ml", "ギフトに最適"],
}
# Full sets for a white sweep, a transparent PNG and an EXIF-rotated phone photo; the main
# image alone for the other backgrounds (each full set costs a few seconds).
FULL_SETS = {
    "ceramic-coffee-mug.jpg": ("en", {"Dimensions": "12 x 9 x 10 cm"}),
    "wireless-headphones.png": ("ja", {}),
    "glass-scented-candle.jpg": ("ja", {"Height": "11 cm"}),
}
MAIN_ONLY = {
    "stainless-water-bottle.jpg": None,
    "running-sneaker.jpg": None,
    "brass-desk-lamp.jpg": BoundingBox(x=430, y=190, width=560, height=855),
}


def _listing(language: str) -> ListingDraft:
    return ListingDraft(
        title="Ceramic Coffee Mug",
        bullet_points=BULLETS[language],
        description="A mug.",
        keywords=["mug"],
        image_prompts=[f"prompt {i}" for i in range(1, 6)],
    )


def _render(
    photo: Image.Image, language: str = "en", specs: dict[str, str] | None = None, **kwargs
) -> list[RenderedImage]:
    return build_image_set(
        photo,
        bbox=kwargs.pop("bbox", None),
        product=PRODUCT,
        listing=_listing(language),
        request=ListingRequest(language=language, specifications=specs or {}),
        **kwargs,
    )


@pytest.fixture(scope="module")
def sample_sets() -> dict[str, list[RenderedImage]]:
    sets = {}
    for name, (language, specs) in FULL_SETS.items():
        sets[name] = _render(load_photo((SAMPLES / name).read_bytes()), language, specs)
    for name, bbox in MAIN_ONLY.items():
        photo = load_photo((SAMPLES / name).read_bytes())
        sets[name] = _render(photo, only_index=1, bbox=bbox)
    return sets


@pytest.fixture(scope="module")
def big_photo_bytes() -> bytes:
    """A 24-megapixel (6000x4000) phone-sized JPEG, made once for this module."""
    small = Image.open(SAMPLES / "running-sneaker.jpg").convert("RGB")
    big = small.resize((6000, 4000), Image.Resampling.BILINEAR)
    noise = np.random.default_rng(1).integers(-3, 4, (4000, 6000, 1), dtype=np.int16)
    pixels = np.clip(np.asarray(big, dtype=np.int16) + noise, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "JPEG", quality=88)
    return buffer.getvalue()


@pytest.mark.parametrize("name", [*FULL_SETS, *MAIN_ONLY])
def test_main_image_passes_compliance_on_every_sample(
    sample_sets: dict[str, list[RenderedImage]], name: str
) -> None:
    main = sample_sets[name][0]
    assert (main.index, main.kind, main.error) == (1, "main", None)
    report = main.compliance
    assert report["passed"], report["reasons"]
    assert report["background_white_ratio"] >= 0.995
    assert 0.85 <= report["fill_ratio"] <= 0.95
    assert (main.width, main.height) == (2000, 2000)
    assert main.content_type == "image/jpeg" and main.extension == "jpg"
    # The stored figures are what an independent check of the bytes finds.
    independent = check_image(main.data, "main", cutout_confidence=report["cutout_confidence"])
    assert {**independent.model_dump(), "review": report["review"]} == report


@pytest.mark.parametrize("name", list(FULL_SETS))
def test_full_set_has_five_good_images(
    sample_sets: dict[str, list[RenderedImage]], name: str
) -> None:
    images = sample_sets[name]
    assert [image.kind for image in images] == list(IMAGE_KINDS)
    assert [image.index for image in images] == [1, 2, 3, 4, 5]
    for image in images:
        assert image.error is None and image.data
        assert image.compliance["passed"], (image.kind, image.compliance["reasons"])
        decoded = Image.open(io.BytesIO(image.data))
        assert decoded.size == (2000, 2000) == (image.width, image.height)
        thumb = Image.open(io.BytesIO(image.thumbnail))
        assert thumb.format == "JPEG" and max(thumb.size) == 400


def test_main_image_has_no_text_and_a_pure_white_border(
    sample_sets: dict[str, list[RenderedImage]],
) -> None:
    pixels = np.asarray(Image.open(io.BytesIO(sample_sets["ceramic-coffee-mug.jpg"][0].data)))
    band = 40
    border = np.concatenate(
        [
            pixels[:band].reshape(-1, 3),
            pixels[-band:].reshape(-1, 3),
            pixels[:, :band].reshape(-1, 3),
            pixels[:, -band:].reshape(-1, 3),
        ]
    )
    assert (border == 255).all()


def test_only_index_regenerates_one_image() -> None:
    photo = load_photo((SAMPLES / "wireless-headphones.png").read_bytes())
    images = _render(photo, only_index=3)
    assert [(image.index, image.kind) for image in images] == [(3, "detail")]
    assert images[0].data and images[0].error is None
    with pytest.raises(ValueError, match="only_index"):
        _render(photo, only_index=6)


def test_failed_secondary_image_does_not_fail_the_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from shelfready_imagegen import imageset

    def broken(context):
        raise RuntimeError("scene renderer exploded")

    monkeypatch.setattr(imageset, "render_scene", broken)
    photo = load_photo((SAMPLES / "wireless-headphones.png").read_bytes())
    images = _render(photo)
    scene = images[1]
    assert scene.data is None and scene.thumbnail is None and scene.compliance == {}
    assert scene.error == "scene image failed: RuntimeError: scene renderer exploded"
    assert all(image.data for i, image in enumerate(images) if i != 1)


def test_no_product_fails_every_image_with_its_reason_but_never_raises() -> None:
    empty = Image.new("RGBA", (800, 800), (0, 0, 0, 0))
    result = render_set(
        empty, bbox=None, product=PRODUCT, listing=_listing("en"), request=ListingRequest()
    )
    assert [image.data for image in result.images] == [None] * 5
    assert all("could not be separated" in (image.error or "") for image in result.images)
    assert result.needs_review and result.cutout_box is None
    assert result.review_reasons[0].startswith("no product could be separated from the photo")
    [detail] = _render(empty, only_index=3)
    assert detail.data is None and "could not be separated" in (detail.error or "")


@pytest.mark.parametrize("mode", ["LA", "P", "CMYK"])
def test_odd_photo_modes_are_handled(mode: str) -> None:
    photo = Image.open(SAMPLES / "wireless-headphones.png").resize((600, 600))
    converted = photo.convert("LA") if mode == "LA" else photo.convert("RGB").convert(mode)
    [main] = _render(converted, only_index=1)
    assert main.compliance["passed"], main.compliance["reasons"]


def test_24_megapixel_photo(big_photo_bytes: bytes) -> None:
    photo = load_photo(big_photo_bytes)
    assert max(photo.size) <= 4000
    images = _render(photo, specs={"Size": "30 cm"})
    assert all(image.error is None for image in images)
    main = images[0]
    assert main.compliance["passed"], main.compliance["reasons"]
    assert 0.85 <= main.compliance["fill_ratio"] <= 0.95
