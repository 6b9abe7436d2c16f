"""The listing stage: product record in, scored marketplace copy out, the next stage after it."""

from __future__ import annotations

import logging

from sqlmodel import Session, col, select

from shelfready_core.errors import InvalidInput
from shelfready_core.models import Listing, Product, upsert_by_workflow
from shelfready_core.schemas import ListingRequest, ListingReview, ProductAnalysis
from shelfready_core.stage import StageContext, run_stage
from shelfready_listing.quality import APPROVAL_SCORE, bullet_key, score_listing
from shelfready_listing.rules import rules_for
from shelfready_listing.writer import get_listing_writer

log = logging.getLogger(__name__)

# How many recent listings of other products a new one is compared with for reused bullets.
REUSE_WINDOW = 200


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
        others = other_products_bullets(session, ctx.workflow_id, analysis)
    try:
        rules = rules_for(request.marketplace, request.market)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc

    writer = get_listing_writer(ctx.settings, ctx.redis, workflow_id=ctx.workflow_id)
    result = writer.write(analysis, request)
    draft = result.value
    review = result.notes.get("review")
    if not isinstance(review, ListingReview):  # a writer outside this package
        review = ListingReview(writer=str(result.notes.get("writer", "claude")), needs_review=True)
    quality = score_listing(
        draft,
        rules,
        product=analysis,
        brand=request.brand,
        language=request.language,
        request=request,
        writer=review.writer,
        other_bullets=others,
    )
    # Never approve what a person still has to judge: the review's reasons block approval too.
    approved = quality.approved and not review.needs_review
    reasons = list(review.review_reasons)
    if not approved and quality.score < APPROVAL_SCORE:
        reasons.append(f"quality score {quality.score} is below {APPROVAL_SCORE}")
    if not approved and not reasons:
        reasons.append("breaks a marketplace rule; see the quality reasons")

    fields = {
        "title": draft.title,
        "bullet_points": list(draft.bullet_points),
        "description": draft.description,
        "keywords": list(draft.keywords),
        "search_terms": draft.search_terms,
        "image_prompts": list(draft.image_prompts),
        "quality_score": quality.score,
        "quality_reasons": list(quality.reasons),
        "approved": approved,
        "writer": review.writer,
        "fixes": list(review.fixes),
        "needs_review": not approved,
        "review_reasons": reasons,
        "calls": review.calls,
    }
    with ctx.session() as session:
        upsert_by_workflow(session, Listing, ctx.workflow_id, fields)
        ctx.record_usage(session, result.usage)
        ctx.finish(session, f"quality {quality.score}")
    log.info("[listing] generated listing: %s (%s)", draft.title, ctx.workflow_id)
    return f"listing: {draft.title} (quality {quality.score})"


def other_products_bullets(
    session: Session, workflow_id: str, product: ProductAnalysis
) -> frozenset[str]:
    """Normalised bullets of recent listings for OTHER products (a regenerated version of the
    same product may keep its bullets)."""
    rows = session.exec(
        select(Listing.bullet_points, Product.product_name, Product.product_type)
        .join(Product, col(Product.workflow_id) == col(Listing.workflow_id))
        .where(Listing.workflow_id != workflow_id)
        .order_by(col(Listing.id).desc())
        .limit(REUSE_WINDOW)
    ).all()
    same = {product.product_name.casefold(), product.product_type.casefold()}
    keys: set[str] = set()
    for bullets, name, kind in rows:
        if name.casefold() in same and kind.casefold() in same:
            continue
        keys.update(bullet_key(b) for b in bullets or [])
    return frozenset(keys)
