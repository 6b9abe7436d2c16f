"""With an image API configured, only the scene goes to it, and the product stays the photo's
own pixels: the fake paints edge to edge over the product, as real models do with masks."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw
from pydantic import SecretStr

from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_imagegen.cutout import Cutout, cut_out
from shelfready_imagegen.fonts import BOLD, get_font
from shelfready_imagegen.image_api import OpenAIImagesProvider
from shelfready_imagegen.imageset import ImageSetResult, render_set
from shelfready_imagegen.photo import load_photo
from shelfready_imagegen.render_api_scene import (
    KEEP_PRODUCT,
    PaintedText,
    refuse_painted_text,
    render_api_scene,
)
from shelfready_imagegen.render_context import RenderContext
from shelfready_imagegen.render_scene import scene_layout
from tests.fakes.image_api_server import FakeImageAPI, serve_image_api

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
PROMPTS = [
    "white background product shot",
    "lifestyle scene on a desk",
    "close-up of the ear cushion",
    "dimensions diagram",
    "selling points infographic",
]
LISTING = ListingDraft(
    title="Wireless Headphones",
    bullet_points=["Comfort: soft cushions"] * 5,
    description="Over-ear headphones.",
    keywords=["headphones"],
    image_prompts=PROMPTS,
)
PRODUCT = ProductAnalysis(
    product_type="headphones",
    product_name="Headphones",
    category="Electronics",
    confidence=0.9,
    description="Over-ear headphones.",
)


def _photo() -> Image.Image:
    return load_photo((SAMPLES / "wireless-headphones.png").read_bytes())


def _provider(api: FakeImageAPI) -> OpenAIImagesProvider:
    return OpenAIImagesProvider(api.base_url, SecretStr(api.api_key), "m", sleep=lambda _: None)


def _set_through(api: FakeImageAPI, only_index: int | None = None) -> ImageSetResult:
    """The sample's image set with `api` as the scene's painter."""
    with serve_image_api(api):
        return render_set(
            _photo(),
            bbox=None,
            product=PRODUCT,
            listing=LISTING,
            request=ListingRequest(),
            provider=_provider(api),
            only_index=only_index,
        )


def test_the_product_pixels_survive_an_api_that_paints_over_them() -> None:
    context = RenderContext(cut_out(_photo(), None), PRODUCT, LISTING, ListingRequest())
    product, (left, top) = scene_layout(context)
    with serve_image_api() as api:
        scene = np.asarray(render_api_scene(context, _provider(api), "a desk").convert("RGB"))
    (request,) = [r for r in api.requests if r.method == "POST"]
    assert request.path == "/v1/images/edits"
    assert request.fields["prompt"] == f"a desk {KEEP_PRODUCT}"
    plate = np.asarray(Image.open(io.BytesIO(request.files["image"])))
    assert request.files["mask"] == request.files["image"]
    assert plate.shape == (1024, 1024, 4)
    # The plate is transparent where the API may paint and opaque where the product stands.
    opaque = plate[..., 3] > 200
    assert 0.02 < opaque.mean() < 0.5
    rows = np.nonzero(opaque)[0]
    assert rows.max() / 1024 == pytest.approx((top + product.height) / 2000, abs=0.01)
    # Wherever the cut-out is solid, the scene shows exactly its pixels, not the API's paint.
    solid = np.asarray(product)[..., 3] == 255
    region = scene[top : top + product.height, left : left + product.width]
    ours = np.asarray(product.convert("RGB"))
    assert solid.mean() > 0.2  # headphones: an open shape
    assert np.abs(region[solid].astype(int) - ours[solid]).max() == 0
    # ... and the setting around it is the API's (the fake's flat colour in the corners).
    painted = Image.open(io.BytesIO(api.image_for(request.fields["prompt"]))).getpixel((0, 0))
    assert scene[10, 10].tolist() == list(painted)


def test_only_the_scene_is_asked_of_the_api_the_rest_are_the_products_own_pixels() -> None:
    api = FakeImageAPI()
    images = _set_through(api).images
    posts = [r for r in api.requests if r.method == "POST"]
    assert [r.fields["prompt"].removesuffix(f" {KEEP_PRODUCT}") for r in posts] == [PROMPTS[1]]
    assert [image.kind for image in images] == [
        "main",
        "scene",
        "detail",
        "dimensions",
        "selling_points",
    ]
    assert all(image.data for image in images)
    scene = images[1]
    assert (scene.width, scene.height) == (2000, 2000)
    assert scene.compliance["passed"], scene.compliance["reasons"]


@pytest.mark.parametrize("mode", ["immediate", "async"])
def test_a_refused_scene_is_rendered_locally_and_flagged(mode: str) -> None:
    api = FakeImageAPI(mode=mode, fail_prompts={"desk"})
    result = _set_through(api)
    scene = result.images[1]
    assert scene.kind == "scene" and scene.data and scene.error is None
    assert any("image API's scene failed" in note for note in scene.review)
    assert any("image API's scene failed" in reason for reason in result.review_reasons)


class _ReflectingImageAPI(FakeImageAPI):
    """Paints what image models like to add: the label's reflection, upside down, on the
    surface below the product."""

    def image_for(self, prompt: str) -> bytes:
        image = Image.open(io.BytesIO(super().image_for(prompt))).convert("RGB")
        band = Image.new("RGB", (700, 120), image.getpixel((5, 5)))
        ImageDraw.Draw(band).text(
            (20, 10), "NORTHWIND", fill=(40, 40, 40), font=get_font(90, weight=BOLD)
        )
        image.paste(band.transpose(Image.Transpose.FLIP_TOP_BOTTOM), (160, 880))
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return buffer.getvalue()


def test_a_scene_painted_with_mirrored_text_is_rendered_locally_and_flagged() -> None:
    api = _ReflectingImageAPI()
    result = _set_through(api, only_index=2)
    [scene] = result.images
    assert scene.kind == "scene" and scene.data and scene.error is None
    [note] = [n for n in scene.review if "image API's scene failed" in n]
    assert "text into the setting" in note and note in result.review_reasons
    # What was delivered is the local scene: none of the API's paint (its corner colour).
    painted = Image.open(io.BytesIO(api.image_for("x"))).getpixel((5, 5))
    delivered = Image.open(io.BytesIO(scene.data)).convert("RGB").getpixel((10, 10))
    assert max(abs(a - b) for a, b in zip(delivered, painted, strict=True)) > 20


def test_the_product_s_own_label_is_no_painted_text() -> None:
    """Text on the product itself (whatever the API drew there) does not refuse the scene."""
    box = Image.new("RGBA", (900, 700), (214, 190, 150, 255))  # a solid carton
    context = RenderContext(
        Cutout(box, (0, 0, 900, 700), "alpha"), PRODUCT, LISTING, ListingRequest()
    )
    product, position = scene_layout(context)
    canvas = Image.new("RGB", (2000, 2000), (200, 190, 180))
    draw = ImageDraw.Draw(canvas)
    left, top = position
    draw.text(
        (left + 40, top + product.height // 2),
        "NORTHWIND",
        fill=(20, 20, 20),
        font=get_font(120, weight=BOLD),
    )
    refuse_painted_text(canvas, product, position)  # no PaintedText raised
    draw.text((120, 1800), "NORTHWIND", fill=(20, 20, 20), font=get_font(120, weight=BOLD))
    with pytest.raises(PaintedText):
        refuse_painted_text(canvas, product, position)
