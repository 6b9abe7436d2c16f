"""The five marketplace images of one listing: main (always local) plus four secondary images."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image

from shelfready_core.errors import CredentialRejected
from shelfready_core.schemas import BoundingBox, ListingDraft, ListingRequest, ProductAnalysis
from shelfready_imagegen.canvas import (
    Encoded,
    encode_jpeg,
    thumbnail_jpeg,
)
from shelfready_imagegen.compliance import check_image
from shelfready_imagegen.cutout import Cutout, cut_out
from shelfready_imagegen.dimensions import parse_dimensions
from shelfready_imagegen.image_api import SecondaryImageProvider
from shelfready_imagegen.photo import to_rgb_or_rgba
from shelfready_imagegen.render_api_scene import render_api_scene
from shelfready_imagegen.render_context import RenderContext
from shelfready_imagegen.render_detail import render_detail
from shelfready_imagegen.render_dimensions import render_dimensions
from shelfready_imagegen.render_main import encode_main, render_main
from shelfready_imagegen.render_scene import render_scene
from shelfready_imagegen.render_selling_points import render_selling_points

logger = logging.getLogger(__name__)

IMAGE_KINDS = ("main", "scene", "detail", "dimensions", "selling_points")  # index 1..5


class ImageSetError(RuntimeError):
    """Kept for callers that catch it: render_set itself never raises it (a failed main image
    comes back as a failed image with its reason)."""


@dataclass
class RenderedImage:
    index: int  # 1..5
    kind: str
    data: bytes | None  # encoded image, None when this image failed
    content_type: str  # "image/jpeg" or "image/png"
    extension: str  # "jpg" / "png"
    width: int
    height: int
    thumbnail: bytes | None  # JPEG, long edge 400
    compliance: dict  # ComplianceReport.model_dump() (+ "review" notes); {} when it failed
    error: str | None = None
    review: list[str] = field(default_factory=list)  # why a person should look at this image


@dataclass
class ImageSetResult:
    images: list[RenderedImage]
    cutout_box: tuple[int, int, int, int] | None  # in the pixels of the photo given
    cutout_confidence: float | None
    review_reasons: list[str]  # [] when nothing needs a person
    cutout_reasons: list[str] = field(default_factory=list)  # the cut-out's own share of them

    @property
    def needs_review(self) -> bool:
        return bool(self.review_reasons)


Renderer = Callable[[RenderContext], Image.Image]


def _renderers() -> dict[str, Renderer]:
    return {
        "scene": render_scene,
        "detail": render_detail,
        "dimensions": render_dimensions,
        "selling_points": render_selling_points,
    }


def build_image_set(
    photo: Image.Image,
    *,
    bbox: BoundingBox | None,
    product: ProductAnalysis,
    listing: ListingDraft,
    request: ListingRequest,
    provider: SecondaryImageProvider | None = None,
    only_index: int | None = None,
) -> list[RenderedImage]:
    """The rendered images only; see render_set."""
    return render_set(
        photo,
        bbox=bbox,
        product=product,
        listing=listing,
        request=request,
        provider=provider,
        only_index=only_index,
    ).images


NO_SIZES = (
    "the dimensions image shows the product without sizes: add the product's "
    "dimensions to the specifications (e.g. 'Size: 12 x 8 x 10 cm') for measurement lines"
)


def render_set(
    photo: Image.Image,
    *,
    bbox: BoundingBox | None,
    product: ProductAnalysis,
    listing: ListingDraft,
    request: ListingRequest,
    provider: SecondaryImageProvider | None = None,
    only_index: int | None = None,
) -> ImageSetResult:
    """Render the set (or only image `only_index`, 1..5) for an EXIF-transposed photo.

    `bbox` is the product's box in `photo` pixels, or None to find it. Nothing here raises for
    a bad photo: an image that fails comes back with `data=None` and `error` set (the main
    image too, when no product can be separated), and everything a person should look at is
    in `review_reasons`. With a provider, the scene's setting is painted by it around the
    product's own pixels; every other image is rendered here from the cut-out.
    """
    if only_index is not None and not 1 <= only_index <= len(IMAGE_KINDS):
        raise ValueError(f"only_index must be 1..{len(IMAGE_KINDS)}, got {only_index}")
    indices = [only_index] if only_index else list(range(1, len(IMAGE_KINDS) + 1))
    photo = to_rgb_or_rgba(photo)
    review: list[str] = []
    try:
        cutout: Cutout | None = cut_out(photo, bbox)
    except Exception as exc:
        logger.warning("cut-out failed: %s", exc)
        review.append(f"no product could be separated from the photo: {exc}")
        cutout = None
    if cutout is not None:
        review.extend(cutout.reasons)
    cutout_reasons = list(review)
    # Everything below works from the cut-out: let the full photo go before the renders
    # (the caller hands it over without keeping a reference; see docs/memory.md).
    del photo
    context = RenderContext(cutout, product, listing, request) if cutout else None
    results = []
    for index in indices:
        kind = IMAGE_KINDS[index - 1]
        try:
            image, encoded, notes = _render_one(kind, index, context, listing, provider)
        except CredentialRejected:
            # A rejected key is the deployment's outage, not this image's fault: the stage
            # defers the whole set until the key works (issue 9), rather than delivering it
            # without the API's images.
            raise
        except Exception as exc:
            logger.warning("%s image failed: %s", kind, exc)
            failed = _failed(index, kind, exc)
            review.append(failed.error or f"{kind} image failed")
            results.append(failed)
            continue
        report = check_image(
            encoded.data,
            kind,
            cutout_confidence=cutout.confidence if cutout and kind == "main" else None,
            cutout_reasons=cutout.reasons if cutout and kind == "main" else None,
        )
        notes += _review_notes(kind, request, context)
        if not report.passed:
            logger.warning("%s image fails compliance: %s", kind, "; ".join(report.reasons))
            if kind == "main":
                own = [r for r in report.reasons if not cutout or r not in cutout.reasons]
                if own:
                    notes.append("main image not compliant: " + "; ".join(own))
        review.extend(notes)
        results.append(
            RenderedImage(
                index=index,
                kind=kind,
                data=encoded.data,
                content_type=encoded.content_type,
                extension=encoded.extension,
                width=encoded.width,
                height=encoded.height,
                thumbnail=thumbnail_jpeg(image),
                compliance={
                    **report.model_dump(),
                    **_quality(kind, context),
                    "review": notes,
                },
                review=notes,
            )
        )
        del image
    return ImageSetResult(
        results,
        cutout.box if cutout else None,
        cutout.confidence if cutout else None,
        list(dict.fromkeys(review)),
        cutout_reasons,
    )


def _review_notes(kind: str, request: ListingRequest, context: RenderContext | None) -> list[str]:
    """What a person should know about a secondary image."""
    if context is None:
        return []
    if kind == "dimensions" and not parse_dimensions(request.specifications):
        return [NO_SIZES]
    if kind == "detail":
        return list(context.detail.reasons)
    return []


def _quality(kind: str, context: RenderContext | None) -> dict[str, object]:
    """The measured figures behind a rendered image, for its compliance entry."""
    if kind == "detail" and context is not None:
        return {"detail": context.detail.report()}
    return {}


def _render_one(
    kind: str,
    index: int,
    context: RenderContext | None,
    listing: ListingDraft,
    provider: SecondaryImageProvider | None,
) -> tuple[Image.Image, Encoded, list[str]]:
    """One image and what a person should know about how it was made."""
    if context is None:
        raise RuntimeError("the product could not be separated from its background")
    if kind == "main":
        image = render_main(context.cutout)
        return image, encode_main(image), []
    if kind == "scene" and provider is not None:
        prompt = listing.image_prompts[index - 1] if len(listing.image_prompts) >= index else ""
        try:
            image = render_api_scene(context, provider, prompt or listing.title)
            return image, encode_jpeg(image), []
        except CredentialRejected:
            raise
        except Exception as exc:  # deliver the local scene rather than none, and say so
            logger.warning("image API scene failed, rendering it locally: %s", exc)
            image = render_scene(context)
            note = f"the image API's scene failed ({exc}); the scene was rendered locally"
            return image, encode_jpeg(image), [note]
    renderer = _renderers().get(kind)
    if renderer is None:
        raise NotImplementedError(f"no local renderer for {kind} images yet")
    image = renderer(context)
    return image, encode_jpeg(image), []


def _failed(index: int, kind: str, exc: Exception) -> RenderedImage:
    return RenderedImage(
        index=index,
        kind=kind,
        data=None,
        content_type="image/jpeg",
        extension="jpg",
        width=0,
        height=0,
        thumbnail=None,
        compliance={},
        error=f"{kind} image failed: {exc.__class__.__name__}: {exc}",
    )
