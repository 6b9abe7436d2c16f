"""The workflow as JSON: what `shelfready status --json` prints and an HTTP API would return."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, col, func, select

from shelfready_core.media_urls import image_route, photo_route, shown_url
from shelfready_core.models import (
    ApiUsage,
    ImageSet,
    Listing,
    ListingImage,
    Product,
    Workflow,
    WorkflowEvent,
)


def workflow_json(session: Session, workflow: Workflow, *, events: bool = False) -> dict[str, Any]:
    product = session.exec(select(Product).where(Product.workflow_id == workflow.id)).first()
    listing = session.exec(select(Listing).where(Listing.workflow_id == workflow.id)).first()
    image_set = session.exec(select(ImageSet).where(ImageSet.workflow_id == workflow.id)).first()
    data: dict[str, Any] = {
        "id": workflow.id,
        "status": workflow.status,
        "current_step": workflow.current_step,
        "progress": workflow.progress,
        "version": workflow.version,
        "parent_id": workflow.parent_id,
        "source_name": workflow.source_name,
        "request": workflow.request,
        "error": workflow.error,
        "failed_step": workflow.failed_step,
        "created_at": workflow.created_at.isoformat(),
        "updated_at": workflow.updated_at.isoformat(),
        "completed_at": workflow.completed_at.isoformat() if workflow.completed_at else None,
        "product": _product(product),
        "listing": _listing(listing),
        "images": _images(session, image_set, workflow.id),
        "usage": usage_json(session, workflow),
    }
    if events:
        rows = session.exec(
            select(WorkflowEvent)
            .where(WorkflowEvent.workflow_id == workflow.id)
            .order_by(col(WorkflowEvent.id))
        ).all()
        data["events"] = [
            {"at": e.created_at.isoformat(), "stage": e.stage, "kind": e.kind, "message": e.message}
            for e in rows
        ]
    return data


def _product(product: Product | None) -> dict[str, Any] | None:
    if product is None:
        return None
    return {
        **(product.attributes or {}),
        "analyzer": product.analyzer,
        "original_url": shown_url(product.original_url, photo_route(product.workflow_id)),
        "width": product.width,
        "height": product.height,
        "sent_size": [product.sent_width, product.sent_height] if product.sent_width else None,
    }


def _listing(listing: Listing | None) -> dict[str, Any] | None:
    if listing is None:
        return None
    return {
        "title": listing.title,
        "bullet_points": listing.bullet_points,
        "description": listing.description,
        "keywords": listing.keywords,
        "search_terms": listing.search_terms,
        "image_prompts": listing.image_prompts,
        "quality": {
            "score": listing.quality_score,
            "reasons": listing.quality_reasons,
            "approved": listing.approved,
        },
        "score": listing.quality_score,
        "reasons": listing.quality_reasons,
        "fixes": listing.fixes or [],
        "needs_review": listing.needs_review,
        "review_reasons": listing.review_reasons or [],
        "approved": listing.approved,
        "writer": listing.writer,
        "version": listing.version,
        "approved_at": listing.approved_at.isoformat() if listing.approved_at else None,
        "calls": listing.calls,
    }


def _images(
    session: Session, image_set: ImageSet | None, workflow_id: str
) -> dict[str, Any] | None:
    if image_set is None:
        return None
    items = session.exec(
        select(ListingImage)
        .where(ListingImage.image_set_id == image_set.id)
        .order_by(col(ListingImage.index))
    ).all()
    return {
        "status": image_set.status,
        # [x0, y0, x1, y1] in the source photo's pixels after EXIF rotation (None: no cut-out).
        "cutout_box": image_set.cutout_box,
        "cutout_confidence": image_set.cutout_confidence,
        "needs_review": image_set.needs_review,
        "review_reasons": image_set.review_reasons or [],
        "items": [
            {
                "index": item.index,
                "kind": item.kind,
                "key": item.key,  # the storage key (not a path): what exports read
                "url": shown_url(item.url, image_route(workflow_id, item.index)),
                "thumbnail_url": shown_url(
                    item.thumbnail_url, image_route(workflow_id, item.index, thumbnail=True)
                ),
                "width": item.width,
                "height": item.height,
                "content_type": item.content_type,
                "file_bytes": item.file_bytes,
                "compliance": item.compliance,
                "error": item.error,
            }
            for item in items
        ],
    }


def usage_json(session: Session, workflow: Workflow) -> dict[str, Any]:
    # Seven columns: beyond what sqlmodel's typed select() covers, so plain SQLAlchemy.
    rows = session.execute(
        sa_select(
            col(ApiUsage.stage),
            func.count(),
            func.sum(ApiUsage.input_tokens),
            func.sum(ApiUsage.output_tokens),
            func.sum(ApiUsage.cache_read_tokens),
            func.sum(ApiUsage.cache_write_tokens),
            func.sum(ApiUsage.cost_usd),
        )
        .where(col(ApiUsage.workflow_id) == workflow.id)
        .group_by(col(ApiUsage.stage))
    ).all()
    stages = {
        stage: {
            "calls": calls,
            "input_tokens": int(inp or 0),
            "output_tokens": int(out or 0),
            "cache_read_tokens": int(cr or 0),
            "cache_write_tokens": int(cw or 0),
            "cost_usd": round(float(cost or 0), 6),
        }
        for stage, calls, inp, out, cr, cw, cost in rows
    }
    return {
        "total_cost_usd": round(workflow.cost_usd, 6),
        "calls": sum(s["calls"] for s in stages.values()),
        "input_tokens": sum(s["input_tokens"] for s in stages.values()),
        "output_tokens": sum(s["output_tokens"] for s in stages.values()),
        "stages": stages,
    }
