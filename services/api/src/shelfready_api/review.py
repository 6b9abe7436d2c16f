"""The seller's review of a finished workflow: edits as listing versions, and approval.

Every edit is re-checked by the listing service's rules and score (listing_check) and saved
as a new ListingVersion; the listing row holds the newest text, which exports read. An edit
clears the seller's approval: what was approved is no longer what would be exported.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlmodel import Session, col, select

from shelfready_api.listing_check import CheckResult, check_draft
from shelfready_core.errors import InvalidInput
from shelfready_core.models import (
    ImageSet,
    Listing,
    ListingImage,
    ListingText,
    ListingVersion,
    Product,
    Workflow,
    WorkflowStatus,
    utcnow,
)
from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_core.stage import event

log = logging.getLogger(__name__)

EDITABLE = tuple(ListingText.model_fields)  # what a seller edits: the listing's text
MAIN_IMAGE = 1


class NotReviewable(InvalidInput):
    """The workflow has no finished listing to edit or approve (a 409)."""


def _rows(session: Session, workflow: Workflow, *, lock: bool = False) -> tuple[Listing, Product]:
    if workflow.status != WorkflowStatus.COMPLETED:
        raise NotReviewable(
            f"workflow {workflow.id} is {workflow.status}; its listing can be edited and "
            "approved once it has COMPLETED"
        )
    query = select(Listing).where(Listing.workflow_id == workflow.id)
    listing = session.exec(query.with_for_update() if lock else query).first()
    product = session.exec(select(Product).where(Product.workflow_id == workflow.id)).first()
    if listing is None or product is None:
        raise NotReviewable(f"workflow {workflow.id} has no listing")
    return listing, product


def _draft(listing: Listing, changes: dict[str, Any] | None = None) -> ListingDraft:
    fields = {name: getattr(listing, name) for name in EDITABLE}
    fields.update(changes or {})
    return ListingDraft(image_prompts=listing.image_prompts or [""] * 5, **fields)


def check_listing(session: Session, workflow: Workflow) -> tuple[Listing, CheckResult]:
    listing, product = _rows(session, workflow)
    request = ListingRequest.model_validate(workflow.request or {})
    analysis = ProductAnalysis.model_validate(product.attributes)
    return listing, check_draft(_draft(listing), request, analysis)


def _version_row(
    workflow_id: str, number: int, source: str, draft: ListingDraft, result: CheckResult
) -> ListingVersion:
    return ListingVersion(
        workflow_id=workflow_id,
        version=number,
        source=source,
        fields=draft.model_dump(include=set(EDITABLE)),
        quality_score=result.score,
        quality_reasons=result.reasons,
        findings=result.findings,
    )


def edit_listing(session: Session, workflow: Workflow, changes: dict[str, Any]) -> CheckResult:
    """Apply the seller's changes as a new version, re-checked and re-scored."""
    listing, product = _rows(session, workflow, lock=True)  # one edit at a time per listing
    request = ListingRequest.model_validate(workflow.request or {})
    analysis = ProductAnalysis.model_validate(product.attributes)
    has_history = session.exec(
        select(ListingVersion.id).where(ListingVersion.workflow_id == workflow.id)
    ).first()
    if has_history is None:
        # The generated text becomes version 1, so the first edit never loses it.
        original = _draft(listing)
        session.add(
            _version_row(
                workflow.id, 1, "generated", original, check_draft(original, request, analysis)
            )
        )
    draft = _draft(listing, changes)
    result = check_draft(draft, request, analysis)
    listing.version += 1
    session.add(_version_row(workflow.id, listing.version, "edit", draft, result))
    for name in EDITABLE:
        setattr(listing, name, getattr(draft, name))
    listing.quality_score = result.score
    listing.quality_reasons = result.reasons
    listing.approved = result.quality_approved
    listing.approved_at = None
    listing.updated_at = utcnow()
    session.add(listing)
    session.add(
        event(
            workflow.id,
            "review",
            "listing_edited",
            f"version {listing.version}: {', '.join(sorted(changes))} (score {result.score})",
        )
    )
    log.info("listing of %s edited to version %d", workflow.id, listing.version)
    return result


def versions(session: Session, workflow_id: str) -> list[dict[str, Any]]:
    rows = session.exec(
        select(ListingVersion)
        .where(ListingVersion.workflow_id == workflow_id)
        .order_by(col(ListingVersion.version))
    ).all()
    return [
        {
            "version": row.version,
            "source": row.source,
            "fields": row.fields,
            "quality_score": row.quality_score,
            "findings": row.findings,
            "created_at": row.created_at.isoformat(),
        }
        for row in rows
    ]


def approval_blockers(session: Session, workflow: Workflow, result: CheckResult) -> list[str]:
    """Why this listing cannot be approved; empty when it can. A broken marketplace rule or a
    main image that fails its checks is never approved, whatever the score says."""
    blockers = [f["message"] for f in result.findings]
    image_set = session.exec(select(ImageSet).where(ImageSet.workflow_id == workflow.id)).first()
    main = (
        image_set
        and session.exec(
            select(ListingImage).where(
                ListingImage.image_set_id == image_set.id, ListingImage.index == MAIN_IMAGE
            )
        ).first()
    )
    if not main or not main.key:
        blockers.append("the main image is missing: regenerate image 1")
    elif not (main.compliance or {}).get("passed"):
        reasons = "; ".join((main.compliance or {}).get("reasons") or ["not checked"])
        blockers.append(f"the main image fails its checks ({reasons}): regenerate image 1")
    return blockers


def approve(session: Session, workflow: Workflow) -> Listing:
    listing, result = check_listing(session, workflow)
    blockers = approval_blockers(session, workflow, result)
    if blockers:
        raise NotReviewable("cannot approve: " + " | ".join(blockers))
    if listing.approved_at is None:
        listing.approved_at = utcnow()
        session.add(listing)
        session.add(event(workflow.id, "review", "listing_approved", f"version {listing.version}"))
    return listing
