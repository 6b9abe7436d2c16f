"""Reading what a pack needs from the database and storage, as plain records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Field, Session, SQLModel, col, select

from shelfready_core.errors import InvalidInput
from shelfready_core.models import (
    ImageSet,
    Listing,
    ListingImage,
    ListingText,
    Workflow,
    WorkflowMarket,
    WorkflowStatus,
)
from shelfready_core.storage import Storage

# Image slot -> Amazon's variant code: 1 is the main image, the others PT01..PT04.
AMAZON_VARIANTS = {1: "MAIN", 2: "PT01", 3: "PT02", 4: "PT03", 5: "PT04"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


class NotApproved(InvalidInput):
    """Some requested workflows have no approved listing, and unapproved ones were not asked for."""

    def __init__(self, workflow_ids: Sequence[str]) -> None:
        super().__init__(
            "not approved yet (approve them on the web page or with POST "
            "/api/workflows/{id}/approve, or include unapproved listings): "
            + ", ".join(workflow_ids)
        )
        self.workflow_ids = list(workflow_ids)


@dataclass
class ExportImage:
    index: int
    kind: str
    data: bytes
    extension: str
    public_url: str | None  # a URL a marketplace can fetch, when storage has one
    passed: bool | None  # the compliance verdict, when checked


class _ExportKey(SQLModel):
    workflow_id: str
    sku: str


class _ExportState(SQLModel):
    quality_score: int
    approved: bool  # the seller signed this version off
    listing_version: int
    images: list[ExportImage] = Field(default_factory=list)


class ExportItem(_ExportState, ListingText, WorkflowMarket, _ExportKey):
    """One workflow's listing as a pack writes it: the key, the workflow's market and the
    listing's text as the tables declare them, then its state (pydantic orders the fields of
    the bases listed last first)."""

    bullet_points: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)

    def fields(self) -> dict[str, Any]:
        """Every listing field as plain data (no image bytes), for the CSV/JSON pack."""
        return {
            **self.model_dump(exclude={"images"}),
            "images": [
                {"index": i.index, "kind": i.kind, "url": i.public_url, "passed": i.passed}
                for i in self.images
            ],
        }


def one_line(text: str) -> str:
    """Tabs and line breaks would split a cell of a flat file; a space keeps the words."""
    return " ".join(text.split())


def default_sku(workflow_id: str) -> str:
    """A stable SKU for a workflow submitted without one (periods would break image names)."""
    return "SR-" + workflow_id.replace("-", "")[:12].upper()


def public_url(storage: Storage, key: str) -> str | None:
    """The object's URL when anyone can fetch it for good (a public bucket); presigned URLs
    expire and file:// paths name this server's disk, so neither belongs in an import file."""
    url = storage.url(key)
    if not url.startswith(("http://", "https://")) or "X-Amz-Signature" in url:
        return None
    return url


def gather_items(
    session: Session,
    storage: Storage,
    workflows: Sequence[Workflow],
    *,
    include_unapproved: bool = False,
) -> list[ExportItem]:
    """One ExportItem per workflow, in the order given; refuses what has no listing, and
    what the seller has not approved unless `include_unapproved`."""
    rows: list[tuple[Workflow, Listing]] = []
    missing, unapproved = [], []
    for workflow in workflows:
        listing = session.exec(select(Listing).where(Listing.workflow_id == workflow.id)).first()
        if listing is None or workflow.status != WorkflowStatus.COMPLETED:
            missing.append(workflow.id)
            continue
        if listing.approved_at is None and not include_unapproved:
            unapproved.append(workflow.id)
        rows.append((workflow, listing))
    if missing:
        raise InvalidInput("no finished listing to export yet: " + ", ".join(missing))
    if unapproved:
        raise NotApproved(unapproved)
    return [_item(session, storage, workflow, listing) for workflow, listing in rows]


def _item(session: Session, storage: Storage, workflow: Workflow, listing: Listing) -> ExportItem:
    request = workflow.request or {}
    item = ExportItem.model_validate(
        {
            **WorkflowMarket.model_validate(workflow).model_dump(),
            **ListingText.model_validate(listing).model_dump(),
            "workflow_id": workflow.id,
            "sku": request.get("sku") or default_sku(workflow.id),
            "bullet_points": list(listing.bullet_points or []),
            "keywords": list(listing.keywords or []),
            "quality_score": listing.quality_score,
            "approved": listing.approved_at is not None,
            "listing_version": listing.version,
        }
    )
    image_set = session.exec(select(ImageSet).where(ImageSet.workflow_id == workflow.id)).first()
    if image_set is None:
        return item
    for image in session.exec(
        select(ListingImage)
        .where(ListingImage.image_set_id == image_set.id)
        .order_by(col(ListingImage.index))
    ).all():
        if image.key is None:  # this slot failed to render: nothing to ship
            continue
        compliance = image.compliance or {}
        item.images.append(
            ExportImage(
                index=image.index,
                kind=image.kind,
                data=storage.get(image.key),
                extension=EXTENSIONS.get(image.content_type or "", "jpg"),
                public_url=public_url(storage, image.key),
                passed=compliance.get("passed"),
            )
        )
    return item
