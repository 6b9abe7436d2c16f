"""The recognition stage: photo in, validated product record out, the next stage after it."""

from __future__ import annotations

import logging
from typing import cast

from shelfready_core.fetch_guard import policy_from_settings
from shelfready_core.models import Product, upsert_by_workflow
from shelfready_core.schemas import ListingRequest, ProductAnalysis
from shelfready_core.stage import StageContext, run_stage
from shelfready_core.storage import workflow_key
from shelfready_recognition.analyze import get_recognizer
from shelfready_recognition.image_input import Photo, fetch_source, open_photo
from shelfready_recognition.prepare import scale_box
from shelfready_recognition.sanitize import clean_original
from shelfready_recognition.stage import RecognitionStep

log = logging.getLogger(__name__)

PROGRESS_DOWNLOADING = 2
PROGRESS_DOWNLOADED = 10


def run(workflow_id: str) -> str:
    """RQ entry point (queue `image-recognition`)."""
    return run_stage("recognition", workflow_id, recognise)


def recognise(ctx: StageContext) -> str:
    with ctx.session() as session:
        workflow = ctx.workflow(session)
        source, name, version = workflow.source, workflow.source_name, workflow.version
        request = ListingRequest.model_validate(workflow.request or {})

    ctx.set_progress(PROGRESS_DOWNLOADING, RecognitionStep.IMAGE_DOWNLOAD)
    data = fetch_source(source, ctx.storage, name, policy_from_settings(ctx.settings))
    photo = open_photo(data, name)
    # What we keep is re-written: no metadata (GPS, serials), nothing appended to the image.
    original = clean_original(data, photo.format, name)
    del data
    original_key = workflow_key(ctx.workflow_id, version, f"original.{original.extension}")
    original_url = ctx.storage.put(original_key, original.data, original.content_type)
    del original
    ctx.set_progress(PROGRESS_DOWNLOADED, RecognitionStep.IMAGE_RECOGNITION)

    recognizer = get_recognizer(ctx.settings, ctx.redis)
    result = recognizer.recognize(photo.image, filename=name, request=request)
    analysis = _in_full_size_pixels(result.value, photo)
    sent = cast(list[int | None] | None, result.notes.get("sent_size")) or [None, None]

    fields = {
        "product_type": analysis.product_type,
        "product_name": analysis.product_name,
        "category": request.category or analysis.category,
        "confidence": analysis.confidence,
        "description": analysis.description,
        "attributes": analysis.model_dump(mode="json"),
        "original_key": original_key,
        "original_url": original_url,
        "width": photo.width,
        "height": photo.height,
        "sent_width": sent[0],
        "sent_height": sent[1],
        "analyzer": type(recognizer).__name__,
    }
    with ctx.session() as session:
        upsert_by_workflow(session, Product, ctx.workflow_id, fields)
        ctx.record_usage(session, result.usage)
        ctx.finish(session, f"recognised: {analysis.product_name}")
    log.info("[recognition] recognised: %s (%s)", analysis.product_name, ctx.workflow_id)
    return f"recognised: {analysis.product_name}"


def _in_full_size_pixels(analysis: ProductAnalysis, photo: Photo) -> ProductAnalysis:
    """The recogniser saw the reduced image; the image stage works on the full-size original."""
    box = analysis.bounding_box
    if box is None or photo.scale_to_full == 1:
        return analysis
    # The same mapping (clamped to the image) that maps Claude's box back from the sent JPEG.
    scaled = scale_box(box, 1 / photo.scale_to_full, (photo.width, photo.height))
    return analysis.model_copy(update={"bounding_box": scaled})
