"""Which finished workflows a person should look at: one definition for the API and the CLI."""

from __future__ import annotations

from sqlalchemy import and_, exists, false, or_
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from shelfready_core.models import (
    ImageSet,
    ImageSetStatus,
    Listing,
    ListingImage,
    Workflow,
    WorkflowStatus,
)


def needs_review_clause() -> ColumnElement[bool]:
    """SQL: a finished workflow the seller has not approved whose listing or images were
    flagged (score below the gate or a broken rule, an image missing or failing its checks)."""
    failing_image = exists().where(
        col(ListingImage.image_set_id) == col(ImageSet.id),
        or_(
            col(ListingImage.key).is_(None),
            ListingImage.compliance["passed"].as_boolean() == false(),  # type: ignore[index]
        ),
    )
    flagged_images = exists().where(
        col(ImageSet.workflow_id) == col(Workflow.id),
        or_(col(ImageSet.status) != ImageSetStatus.COMPLETED, failing_image),
    )
    return and_(
        col(Workflow.status) == WorkflowStatus.COMPLETED,
        col(Listing.approved_at).is_(None),
        or_(col(Listing.approved) == false(), flagged_images),
    )
