"""Bodies of the seller's workspace routes: list, edit, approve, regenerate, export."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shelfready_core.export import FORMATS
from shelfready_core.models import ListingText, WorkflowHead
from shelfready_core.views import ShownTime

# Caps on what a request may carry (hostile input is refused at the edge). They are far above
# any marketplace's limit on purpose: an over-long title is a finding to show, not a 422.
FieldText = Annotated[str, Field(max_length=5000)]
LongText = Annotated[str, Field(max_length=50_000)]
MAX_EXPORT_IDS = 100

ExportFormat = Literal["amazon", "shopify", "csv"]
assert set(FORMATS) == {"amazon", "shopify", "csv"}  # one list of formats: the export package's


class WorkflowSummary(WorkflowHead):
    """One row of the workspace's list."""

    sku: str | None
    brand: str | None
    marketplace: str
    market: str
    title: str | None
    quality_score: int | None
    needs_review: bool
    approved: bool
    error: str | None
    thumbnail_url: str | None
    created_at: ShownTime
    updated_at: ShownTime


class WorkflowPage(BaseModel):
    items: list[WorkflowSummary]
    total: int = Field(description="Workflows matching the filters, on every page")
    limit: int
    offset: int


class ListingEdit(BaseModel):
    """The fields to change; those left out keep their text."""

    model_config = ConfigDict(extra="forbid")

    title: FieldText | None = None
    bullet_points: list[FieldText] | None = Field(None, min_length=5, max_length=5)
    description: LongText | None = None
    keywords: list[Annotated[str, Field(max_length=200)]] | None = Field(None, max_length=100)
    search_terms: FieldText | None = None

    @model_validator(mode="after")
    def _something_changes(self) -> ListingEdit:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null; leave it out to keep it")
        return self


# A seller edits exactly the copy the listing table declares as its text.
assert list(ListingEdit.model_fields) == list(ListingText.model_fields)


class Review(BaseModel):
    """The listing as the rules see it: findings, score, the limits to count against."""

    workflow_id: str
    listing_version: int
    quality_score: int
    quality_reasons: list[str]
    quality_approved: bool
    findings: list[dict[str, str]]
    approved: bool
    approved_at: str | None
    approval_blockers: list[str]
    limits: dict[str, Any]
    versions: list[dict[str, Any]]


class RegenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: Literal["listing", "image"] = "listing"
    image: int | None = Field(None, ge=1, le=5, description="Which image (1-5), for target=image")
    feedback: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _image_for_image(self) -> RegenerateRequest:
        if self.target == "image" and self.image is None:
            raise ValueError("image: give the number (1-5) of the image to regenerate")
        if self.target == "listing" and self.image is not None:
            raise ValueError("image: only for target=image")
        return self


class RegenerateAccepted(BaseModel):
    workflow_id: str = Field(description="The workflow to watch: a new version for a listing")
    target: str
    image: int | None = None
    status_url: str


class BatchExport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[Annotated[str, Field(min_length=1, max_length=128)]] = Field(
        min_length=1, max_length=MAX_EXPORT_IDS
    )
    format: ExportFormat = "amazon"
    include_unapproved: bool = False
