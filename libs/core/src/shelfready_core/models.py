"""Database tables: the workflow state machine and the results each stage saves.

Every result table is keyed one-to-one on the workflow (unique constraints), so a retried or
re-delivered job updates the row it wrote before instead of adding a duplicate.

Each table a reader sees is split the SQLModel way: a `...Base` holds the fields shared with its
read model (views.py), the `table=True` class adds what only the database keeps.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, Session, SQLModel, select

from shelfready_core.stages import pipeline

# JSONB on Postgres (indexable, compact), plain JSON on SQLite for the demo.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json_column(nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(JSONType, nullable=nullable))


def _timestamp(nullable: bool = False) -> Any:
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable),
    )


def _enum_column(enum: type[StrEnum], length: int) -> Any:
    """A StrEnum column stored as its values in a VARCHAR(length), as the plain string columns
    were: no database enum type, so adding a member needs no migration."""
    return Column(
        SAEnum(
            enum,
            native_enum=False,
            length=length,
            values_callable=lambda members: [member.value for member in members],
            validate_strings=True,  # an unknown value fails when written, not when read
        ),
        nullable=False,
    )


class WorkflowStatus(StrEnum):
    PENDING = "PENDING"
    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


def first_step() -> str:
    """Where a new workflow starts: the first step of the pipeline's first stage."""
    return pipeline().first.steps[0]


class EventKind(StrEnum):
    """What a WorkflowEvent records. The one list of event kinds: a new kind is added here."""

    STARTED = "started"
    HANDED_OVER = "handed_over"
    COMPLETED = "completed"
    RETRYING = "retrying"
    DEFERRED = "deferred"
    FAILED = "failed"
    RESUMED = "resumed"  # the reconciler re-enqueued a stuck workflow's job
    CANCELLED = "cancelled"
    RETRY_REQUESTED = "retry_requested"
    IMAGE_REGENERATION_REQUESTED = "image_regeneration_requested"
    IMAGE_REGENERATED = "image_regenerated"
    IMAGE_FEEDBACK = "image_feedback"
    LISTING_EDITED = "listing_edited"
    LISTING_APPROVED = "listing_approved"


class ImageSetStatus(StrEnum):
    PENDING = "PENDING"
    COMPLETED = "COMPLETED"
    PARTIAL = "PARTIAL"  # some secondary images failed; see each image's error
    FAILED = "FAILED"


class WorkflowHead(SQLModel):
    """What every view of a workflow starts with: which one it is and where it stands."""

    id: str = Field(default_factory=lambda: str(uuid.uuid4()), primary_key=True, max_length=36)
    status: WorkflowStatus = Field(
        default=WorkflowStatus.PENDING, sa_column=_enum_column(WorkflowStatus, 16)
    )
    current_step: str = Field(default_factory=first_step, max_length=32)
    progress: int = Field(default=0, ge=0, le=100)
    version: int = Field(default=1, ge=1)
    parent_id: str | None = Field(default=None, foreign_key="workflow.id", max_length=36)
    source_name: str = Field(default="photo", max_length=255)


class WorkflowBase(WorkflowHead):
    """A workflow as a reader sees it (views.WorkflowPublic), in the order it is shown."""

    request: dict[str, Any] | None = _json_column()  # the full ListingRequest
    error: str | None = Field(default=None)
    failed_step: str | None = Field(default=None, max_length=32)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()
    completed_at: datetime | None = _timestamp(nullable=True)


class WorkflowMarket(SQLModel):
    """Where and for whom the listing is written (from the request; columns to filter on)."""

    brand: str | None = Field(default=None, max_length=200)
    category: str | None = Field(default=None, max_length=300)
    marketplace: str = Field(default="amazon", max_length=32)
    market: str = Field(default="US", max_length=8)
    language: str = Field(default="en", max_length=16)


class Workflow(WorkflowMarket, WorkflowBase, table=True):
    __tablename__ = "workflow"
    __table_args__ = (Index("ix_workflow_status_updated", "status", "updated_at"),)

    # Where the photo comes from: "storage:<key>" for uploads, or an http(s) URL.
    source: str = Field(max_length=2048)
    # The RQ job currently responsible for moving this workflow forward.
    job_id: str | None = Field(default=None, max_length=128)
    cost_usd: float = Field(default=0.0)
    # The name of the API key that created it; None for the CLI and keyless deployments.
    owner: str | None = Field(default=None, max_length=64, index=True)


class WorkflowEvent(SQLModel, table=True):
    """Append-only history: what happened to a workflow and why (attempts, retries, failures)."""

    __tablename__ = "workflow_event"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(foreign_key="workflow.id", index=True, max_length=36)
    stage: str = Field(max_length=32)
    kind: EventKind = Field(sa_column=_enum_column(EventKind, 32))
    message: str = Field(default="")
    created_at: datetime = _timestamp()


class Product(SQLModel, table=True):
    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(foreign_key="workflow.id", unique=True, max_length=36)
    product_type: str = Field(max_length=200)
    product_name: str = Field(max_length=300)
    category: str = Field(max_length=300)
    confidence: float = Field(default=0.0)
    description: str = Field(default="")
    attributes: dict[str, Any] | None = _json_column()  # the full ProductAnalysis
    original_key: str = Field(max_length=512)
    original_url: str = Field(max_length=2048)
    width: int
    height: int
    sent_width: int | None = None
    sent_height: int | None = None
    analyzer: str = Field(default="claude", max_length=32)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class ListingText(SQLModel):
    """The copy a seller reads, edits and exports."""

    title: str
    bullet_points: list[str] | None = _json_column()
    description: str
    keywords: list[str] | None = _json_column()
    search_terms: str = Field(default="")


class ListingBase(ListingText):
    image_prompts: list[str] | None = _json_column()


class ListingReviewState(SQLModel):
    """Where a listing stands: what the review fixed and flagged, the quality gate, the
    seller's edits and sign-off. Its own base so the read model can show the quality between
    the prompts and these (views.ListingPublic)."""

    # What the listing review changed, and why a person must look before it is published.
    fixes: list[str] | None = _json_column()
    needs_review: bool = Field(default=True)
    review_reasons: list[str] | None = _json_column()
    approved: bool = Field(default=False)  # the quality gate
    writer: str = Field(default="claude", max_length=32)
    # The seller's edits: `version` is the newest ListingVersion; approved_at is the seller's
    # sign-off, cleared by every edit.
    version: int = Field(default=1, ge=1)
    approved_at: datetime | None = _timestamp(nullable=True)
    calls: int = Field(default=0)  # Messages calls the listing stage made, all attempts


class Listing(ListingReviewState, ListingBase, table=True):
    __tablename__ = "listing"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(foreign_key="workflow.id", unique=True, max_length=36)
    quality_score: int = Field(default=0)
    quality_reasons: list[str] | None = _json_column()
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class ListingVersion(SQLModel, table=True):
    """Append-only history of a listing's text: version 1 as generated, then one per edit."""

    __tablename__ = "listing_version"
    __table_args__ = (UniqueConstraint("workflow_id", "version", name="uq_listing_version_number"),)

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(foreign_key="workflow.id", index=True, max_length=36)
    version: int = Field(ge=1)
    source: str = Field(max_length=16)  # "generated" or "edit"
    fields: dict[str, Any] | None = _json_column()  # title, bullet_points, description, ...
    quality_score: int = Field(default=0)
    quality_reasons: list[str] | None = _json_column()
    findings: list[dict[str, Any]] | None = _json_column()  # rule violations at this version
    created_at: datetime = _timestamp()


class ImageSetBase(SQLModel):
    status: ImageSetStatus = Field(
        default=ImageSetStatus.PENDING, sa_column=_enum_column(ImageSetStatus, 16)
    )
    # The cut-out behind every image: its box [x0, y0, x1, y1] in the source photo's pixels
    # (after EXIF rotation), its confidence (0..1), and whether a person should look, and why.
    cutout_box: list[int] | None = _json_column()
    cutout_confidence: float | None = Field(default=None)
    needs_review: bool = Field(default=False)
    review_reasons: list[str] | None = _json_column()


class ImageSet(ImageSetBase, table=True):
    __tablename__ = "image_set"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(foreign_key="workflow.id", unique=True, max_length=36)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class ListingImageBase(SQLModel):
    index: int = Field(ge=1, le=5)
    kind: str = Field(max_length=32)
    key: str | None = Field(default=None, max_length=512)  # the storage key: what exports read
    url: str | None = Field(default=None, max_length=2048)
    thumbnail_url: str | None = Field(default=None, max_length=2048)
    width: int | None = None
    height: int | None = None
    content_type: str | None = Field(default=None, max_length=64)
    file_bytes: int | None = None
    compliance: dict[str, Any] | None = _json_column()
    error: str | None = None


class ListingImage(ListingImageBase, table=True):
    __tablename__ = "listing_image"
    __table_args__ = (UniqueConstraint("image_set_id", "index", name="uq_listing_image_slot"),)

    id: int | None = Field(default=None, primary_key=True)
    image_set_id: int = Field(foreign_key="image_set.id", index=True)
    thumbnail_key: str | None = Field(default=None, max_length=512)
    updated_at: datetime = _timestamp()


class UsageBase(SQLModel):
    """One paid API call, as recorded for cost accounting (schemas.CallUsage carries it)."""

    stage: str = Field(max_length=32)
    provider: str = Field(default="anthropic", max_length=32)
    model: str = Field(max_length=100)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    latency_ms: int = 0
    request_id: str | None = Field(default=None, max_length=200)
    cost_usd: float = 0.0


class ApiUsage(UsageBase, table=True):
    """One paid API call. Append-only: failed attempts cost money too."""

    __tablename__ = "api_usage"

    id: int | None = Field(default=None, primary_key=True)
    workflow_id: str = Field(foreign_key="workflow.id", index=True, max_length=36)
    created_at: datetime = _timestamp()


class ApiKey(SQLModel, table=True):
    """An API key managed with `shelfready api-key`. Only a SHA-256 digest of the key is
    stored: the key itself is shown once, when it is created."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64, unique=True)
    key_digest: str = Field(max_length=64, unique=True)
    created_at: datetime = _timestamp()


ResultT = TypeVar("ResultT", Product, Listing, ImageSet)


def upsert_by_workflow(
    session: Session, model: type[ResultT], workflow_id: str, fields: dict[str, Any]
) -> ResultT:
    """Update the workflow's one row of `model`, or insert it: a retry never duplicates it."""
    row = session.exec(select(model).where(model.workflow_id == workflow_id)).first()
    if row is None:
        row = model(workflow_id=workflow_id, **fields)
    else:
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_at = utcnow()
    session.add(row)
    return row


class StageRecord(SQLModel, table=True):
    """A stage's declaration as its own image registered it (stage_records.py): how an image
    that installs one stage knows the others, e.g. which queue the next stage serves."""

    __tablename__ = "stage_record"

    name: str = Field(primary_key=True, max_length=64)
    declaration: dict[str, Any] | None = _json_column(nullable=False)
    updated_at: datetime = _timestamp()
