"""The image stage: the original photo plus the listing in, the stored image set out."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, select

from shelfready_core.errors import InvalidInput
from shelfready_core.models import (
    ImageSet,
    ImageSetStatus,
    Listing,
    ListingImage,
    Product,
    upsert_by_workflow,
    utcnow,
)
from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_core.stage import StageContext, event, run_stage
from shelfready_core.storage import workflow_key
from shelfready_imagegen import saliency, text_detect
from shelfready_imagegen.image_api import provider_from_settings
from shelfready_imagegen.imageset import IMAGE_KINDS, ImageSetResult, RenderedImage, render_set
from shelfready_imagegen.photo import PhotoError, load_photo, scale_bbox

log = logging.getLogger(__name__)

PROGRESS_RENDERING = 70
MIN_BOX_CONFIDENCE = 0.5
PHOTO_MAX_SIDE = 3000


def preload() -> None:
    """Called by the worker pool before it forks (worker.load_service): both models once."""
    saliency.preload()
    text_detect.preload()


def run(workflow_id: str) -> str:
    """RQ entry point (queue `image-generation`)."""
    return run_stage("imagegen", workflow_id, render_image_set)


def run_single(workflow_id: str, index: int) -> str:
    """RQ entry point (`regenerate_image` jobs): regenerate one image (1-5) of a COMPLETED
    workflow's set, under the stage lifecycle; its failure never fails the workflow."""

    def regenerate(ctx: StageContext) -> str:
        result, version = _render(ctx, only_index=index)
        stored = [_store(ctx, version, image) for image in result.images]
        with ctx.session() as session:
            status = _save(session, workflow_id, stored, result)
            session.add(
                event(workflow_id, ctx.service, "image_regenerated", f"image {index}: {status}")
            )
        return f"image {index} regenerated; set {status}"

    return run_stage("imagegen", workflow_id, regenerate, kind="regenerate_image")


def render_image_set(ctx: StageContext) -> str:
    """The images never fail the workflow: the listing is written and paid for, so a photo
    with no separable product still completes, its image set FAILED or PARTIAL, marked for
    review, each image with its reason (and any image can be regenerated later)."""
    ctx.set_progress(PROGRESS_RENDERING)
    result, version = _render(ctx)
    stored = [_store(ctx, version, image) for image in result.images]
    with ctx.session() as session:
        status = _save(session, ctx.workflow_id, stored, result)
        ctx.finish(session, f"image set {status}")
    failed = sum(1 for item in stored if item.image.error)
    log.info("[imagegen] image set %s for %s (%d failed)", status, ctx.workflow_id, failed)
    return f"image set {status}"


@dataclass
class _Inputs:
    version: int
    request: ListingRequest
    product: ProductAnalysis
    listing: ListingDraft
    original_key: str
    full_width: int  # after EXIF rotation, as recognition measured it
    full_height: int


def _load_inputs(ctx: StageContext) -> _Inputs:
    with ctx.session() as session:
        workflow = ctx.workflow(session)
        product = session.exec(
            select(Product).where(Product.workflow_id == ctx.workflow_id)
        ).first()
        listing = session.exec(
            select(Listing).where(Listing.workflow_id == ctx.workflow_id)
        ).first()
        if product is None or listing is None:
            raise InvalidInput(
                "the product or listing record is missing: earlier stages must run first"
            )
        return _Inputs(
            version=workflow.version,
            request=ListingRequest.model_validate(workflow.request or {}),
            product=ProductAnalysis.model_validate(product.attributes),
            listing=ListingDraft(
                title=listing.title,
                bullet_points=listing.bullet_points or [],
                description=listing.description,
                keywords=listing.keywords or [],
                search_terms=listing.search_terms,
                image_prompts=listing.image_prompts or [],
            ),
            original_key=product.original_key,
            full_width=product.width,
            full_height=product.height,
        )


def _render(ctx: StageContext, only_index: int | None = None) -> tuple[ImageSetResult, int]:
    inputs = _load_inputs(ctx)
    # A box the recogniser is unsure of (the offline estimate) does worse than the cut-out's
    # own focus-aware detection, so only a confident box seeds the cut-out.
    box = inputs.product.bounding_box
    trusted = box if inputs.product.confidence >= MIN_BOX_CONFIDENCE else None
    # load_photo shrinks the long side to PHOTO_MAX_SIDE, so the box shrinks by the same factor.
    full = (inputs.full_width, inputs.full_height)
    scale = min(1.0, PHOTO_MAX_SIDE / max(full))
    bbox = trusted and scale_bbox(trusted, full, (round(full[0] * scale), round(full[1] * scale)))
    # The provider shares the circuit breaker of every worker through Redis.
    provider = provider_from_settings(ctx.redis)
    data = ctx.storage.get(inputs.original_key)
    try:
        result = render_set(
            # Decoded inside the call so no frame here keeps the photo alive: render_set
            # drops it after the cut-out. 3000 px is enough for the 2000 px canvas and the
            # cut-out; libjpeg then decodes a 24 MP JPEG at half size (docs/memory.md).
            _decode(data),
            bbox=bbox,
            product=inputs.product,
            listing=inputs.listing,
            request=inputs.request,
            provider=provider,
            only_index=only_index,
        )
    except PhotoError as exc:
        result = _undecodable(exc, only_index)
    finally:
        if provider is not None:
            provider.close()
    if result.cutout_box is not None:
        # Back to the source photo's pixels (after EXIF rotation), as the status JSON gives it.
        x0, y0, x1, y1 = result.cutout_box
        result.cutout_box = (
            max(0, int(x0 / scale)),
            max(0, int(y0 / scale)),
            min(full[0], round(x1 / scale)),
            min(full[1], round(y1 / scale)),
        )
    return result, inputs.version


def _decode(data: bytes):  # type: ignore[no-untyped-def]
    return load_photo(data, max_side=PHOTO_MAX_SIDE)


def _undecodable(exc: PhotoError, only_index: int | None) -> ImageSetResult:
    """Every image failed with the photo's own reason (recognition read it; now it does not)."""
    reason = f"the photo could not be decoded for the images: {exc}"
    indices = [only_index] if only_index else range(1, len(IMAGE_KINDS) + 1)
    images = [
        RenderedImage(i, IMAGE_KINDS[i - 1], None, "image/jpeg", "jpg", 0, 0, None, {}, reason)
        for i in indices
    ]
    return ImageSetResult(images, None, None, [reason], [reason])


@dataclass
class _Stored:
    """Where one rendered image (and its thumbnail) went; all None when it failed."""

    image: RenderedImage
    key: str | None = None
    url: str | None = None
    thumbnail_key: str | None = None
    thumbnail_url: str | None = None


def _store(ctx: StageContext, version: int, image: RenderedImage) -> _Stored:
    """Write an image and its thumbnail under deterministic keys (a retry overwrites them)."""
    stored = _Stored(image)
    if image.data is None:
        return stored
    name = f"{image.index}-{image.kind}"
    key = workflow_key(ctx.workflow_id, version, f"images/{name}.{image.extension}")
    stored.key, stored.url = key, ctx.storage.put(key, image.data, image.content_type)
    if image.thumbnail is not None:
        thumb_key = workflow_key(ctx.workflow_id, version, f"thumbs/{name}.jpg")
        stored.thumbnail_key = thumb_key
        stored.thumbnail_url = ctx.storage.put(thumb_key, image.thumbnail, "image/jpeg")
    return stored


def _save(session: Session, workflow_id: str, stored: list[_Stored], result: ImageSetResult) -> str:
    """Upsert the set and its image slots (unique per set and index), return the set status.

    FAILED when no image of the set exists, PARTIAL when some failed; review reasons are the
    cut-out's plus each stored image's error and notes, so regenerating one image updates them.
    """
    image_set = upsert_by_workflow(session, ImageSet, workflow_id, {})
    session.flush()  # assigns the id of a new set
    assert image_set.id is not None
    existing = {
        row.index: row
        for row in session.exec(
            select(ListingImage).where(ListingImage.image_set_id == image_set.id)
        ).all()
    }
    for item in stored:
        image = item.image
        row = existing.get(image.index) or ListingImage(
            image_set_id=image_set.id, index=image.index, kind=image.kind
        )
        row.kind = image.kind
        row.key, row.url = item.key, item.url
        row.thumbnail_key, row.thumbnail_url = item.thumbnail_key, item.thumbnail_url
        row.content_type = image.content_type if image.data else None
        row.width, row.height = image.width, image.height
        row.file_bytes = len(image.data) if image.data else None
        row.compliance = image.compliance
        row.error = image.error
        row.updated_at = utcnow()
        session.add(row)
        existing[image.index] = row
    rows = sorted(existing.values(), key=lambda row: row.index)
    produced = [row for row in rows if row.key is not None]
    if not produced:
        image_set.status = ImageSetStatus.FAILED
    elif len(produced) < len(rows) or len(rows) < len(IMAGE_KINDS):
        image_set.status = ImageSetStatus.PARTIAL
    else:
        image_set.status = ImageSetStatus.COMPLETED
    reasons = list(result.cutout_reasons)
    for row in rows:
        reasons.extend([row.error] if row.error else (row.compliance or {}).get("review", []))
    image_set.cutout_box = list(result.cutout_box) if result.cutout_box else None
    image_set.cutout_confidence = result.cutout_confidence
    image_set.review_reasons = list(dict.fromkeys(reasons))
    image_set.needs_review = bool(reasons)
    image_set.updated_at = utcnow()
    return image_set.status
