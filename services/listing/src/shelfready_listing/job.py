"""The listing stage: product record in, scored marketplace copy out, image stage next."""

from __future__ import annotations

import logging

from sqlmodel import select

from shelfready_core import defaults
from shelfready_core.errors import InvalidInput
from shelfready_core.models import Listing, Product, upsert_by_workflow
from shelfready_core.schemas import ListingRequest, ProductAnalysis
from shelfready_core.stage import StageContext, run_stage
from shelfready_listing.quality import score_listing
from shelfready_listing.rules import rules_for
from shelfready_listing.writer import get_listing_writer

log = logging.getLogger(__name__)


def run(workflow_id: str) -> str:
    """RQ entry point (queue `listing-generation`)."""
    return run_stage("listing", workflow_id, write_listing)


def write_listing(ctx: StageContext) -> str:
    with ctx.session() as session:
        workflow = ctx.workflow(session)
        request = ListingRequest.model_validate(workflow.request or {})
        product = session.exec(
            select(Product).where(Product.workflow_id == ctx.workflow_id)
        ).first()
        if product is None:
            raise InvalidInput("no product record: recognition has not saved one")
        analysis = ProductAnalysis.model_validate(product.attributes)
    try:
        rules = rules_for(request.marketplace, request.market)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc

    writer = get_listing_writer(ctx.settings, ctx.redis)
    result = writer.write(analysis, request)
    draft = result.value
    quality = score_listing(
        draft, rules, product=analysis, brand=request.brand, language=request.language
    )

    fields = {
        "title": draft.title,
        "bullet_points": list(draft.bullet_points),
        "description": draft.description,
        "keywords": list(draft.keywords),
        "search_terms": draft.search_terms,
        "image_prompts": list(draft.image_prompts),
        "quality_score": quality.score,
        "quality_reasons": list(quality.reasons),
        "approved": quality.approved,
        "writer": type(writer).__name__,
    }
    with ctx.session() as session:
        upsert_by_workflow(session, Listing, ctx.workflow_id, fields)
        ctx.record_usage(session, result.usage)
        ctx.advance(session, "imagegen", defaults.PROGRESS_LISTED)
    log.info("[listing] generated listing: %s (%s)", draft.title, ctx.workflow_id)
    return f"listing: {draft.title} (quality {quality.score})"
