"""The workflow as a reader sees it: typed read models built on the tables' bases, what
`shelfready status --json` prints and the HTTP API returns."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, model_serializer
from pydantic.functional_serializers import SerializerFunctionWrapHandler
from sqlalchemy import select as sa_select
from sqlmodel import Field, Session, SQLModel, col, func, select

from shelfready_core.media_urls import image_route, photo_route, shown_url
from shelfready_core.models import (
    ApiUsage,
    EventKind,
    ImageSet,
    ImageSetBase,
    Listing,
    ListingBase,
    ListingImage,
    ListingImageBase,
    ListingReviewState,
    Product,
    Workflow,
    WorkflowBase,
    WorkflowEvent,
)

# Times are shown as datetime.isoformat() writes them ("+00:00", not pydantic's "Z").
ShownTime = Annotated[datetime, PlainSerializer(datetime.isoformat, return_type=str)]


class ProductPublic(BaseModel):
    """What recognition saw (the saved ProductAnalysis, passed through as stored) and the photo."""

    model_config = ConfigDict(extra="allow")

    analyzer: str
    original_url: str | None
    width: int
    height: int
    sent_size: list[int] | None = Field(description="[width, height] sent to the model")

    @model_serializer(mode="wrap")
    def _analysis_first(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = handler(self)
        analysis = self.__pydantic_extra__ or {}
        return {**{key: data[key] for key in analysis}, **data}


class ListingQuality(SQLModel):
    score: int
    reasons: list[str] | None
    approved: bool


class ListingQualityShown(SQLModel):
    quality: ListingQuality
    # The same score and reasons at the top level, where older clients read them.
    score: int
    reasons: list[str] | None


class ListingPublic(ListingReviewState, ListingQualityShown, ListingBase):
    """The listing: its text and prompts, then its quality, then where it stands (pydantic
    orders the fields of the bases listed last first)."""

    fixes: list[str] = Field(default_factory=list)
    review_reasons: list[str] = Field(default_factory=list)
    approved_at: ShownTime | None = None


class ListingImagePublic(ListingImageBase):
    pass


class ImageSetPublic(ImageSetBase):
    # cutout_box: [x0, y0, x1, y1] in the source photo's pixels after EXIF rotation (None: no
    # cut-out).
    review_reasons: list[Any] = Field(default_factory=list)
    items: list[ListingImagePublic]


class StageUsage(SQLModel):
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float


class UsagePublic(SQLModel):
    total_cost_usd: float
    calls: int
    input_tokens: int
    output_tokens: int
    stages: dict[str, StageUsage]


class EventPublic(SQLModel):
    at: ShownTime
    stage: str
    kind: EventKind
    message: str


class WorkflowPublic(WorkflowBase):
    """The workflow as `shelfready status --json` prints it and GET /api/workflows/{id} returns."""

    created_at: ShownTime
    updated_at: ShownTime
    completed_at: ShownTime | None = None
    product: ProductPublic | None
    listing: ListingPublic | None
    images: ImageSetPublic | None
    usage: UsagePublic
    events: list[EventPublic] | None = Field(
        default=None, description="The history, oldest first, when asked for"
    )


def workflow_view(session: Session, workflow: Workflow, *, events: bool = False) -> WorkflowPublic:
    product = session.exec(select(Product).where(Product.workflow_id == workflow.id)).first()
    listing = session.exec(select(Listing).where(Listing.workflow_id == workflow.id)).first()
    image_set = session.exec(select(ImageSet).where(ImageSet.workflow_id == workflow.id)).first()
    return WorkflowPublic.model_validate(
        workflow,
        update={
            "product": _product(product),
            "listing": _listing(listing),
            "images": _images(session, image_set, workflow.id),
            "usage": usage_view(session, workflow),
            "events": _events(session, workflow.id) if events else None,
        },
    )


def workflow_json(session: Session, workflow: Workflow, *, events: bool = False) -> dict[str, Any]:
    """workflow_view as JSON data; "events" only when asked for."""
    view = workflow_view(session, workflow, events=events)
    return view.model_dump(mode="json", exclude=None if events else {"events"})


def _events(session: Session, workflow_id: str) -> list[EventPublic]:
    rows = session.exec(
        select(WorkflowEvent)
        .where(WorkflowEvent.workflow_id == workflow_id)
        .order_by(col(WorkflowEvent.id))
    ).all()
    return [
        EventPublic(at=e.created_at, stage=e.stage, kind=e.kind, message=e.message) for e in rows
    ]


def _product(product: Product | None) -> ProductPublic | None:
    if product is None:
        return None
    return ProductPublic.model_validate(
        {
            **(product.attributes or {}),
            "analyzer": product.analyzer,
            "original_url": shown_url(product.original_url, photo_route(product.workflow_id)),
            "width": product.width,
            "height": product.height,
            "sent_size": [product.sent_width, product.sent_height] if product.sent_width else None,
        }
    )


def _listing(listing: Listing | None) -> ListingPublic | None:
    if listing is None:
        return None
    quality = ListingQuality(
        score=listing.quality_score, reasons=listing.quality_reasons, approved=listing.approved
    )
    return ListingPublic.model_validate(
        listing,
        update={
            "quality": quality,
            "score": quality.score,
            "reasons": quality.reasons,
            "fixes": listing.fixes or [],
            "review_reasons": listing.review_reasons or [],
        },
    )


def _images(
    session: Session, image_set: ImageSet | None, workflow_id: str
) -> ImageSetPublic | None:
    if image_set is None:
        return None
    rows = session.exec(
        select(ListingImage)
        .where(ListingImage.image_set_id == image_set.id)
        .order_by(col(ListingImage.index))
    ).all()
    items = [
        ListingImagePublic.model_validate(
            row,
            update={
                "url": shown_url(row.url, image_route(workflow_id, row.index)),
                "thumbnail_url": shown_url(
                    row.thumbnail_url, image_route(workflow_id, row.index, thumbnail=True)
                ),
            },
        )
        for row in rows
    ]
    return ImageSetPublic.model_validate(
        image_set, update={"review_reasons": image_set.review_reasons or [], "items": items}
    )


def usage_view(session: Session, workflow: Workflow) -> UsagePublic:
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
        stage: StageUsage(
            calls=calls,
            input_tokens=int(inp or 0),
            output_tokens=int(out or 0),
            cache_read_tokens=int(cr or 0),
            cache_write_tokens=int(cw or 0),
            cost_usd=round(float(cost or 0), 6),
        )
        for stage, calls, inp, out, cr, cw, cost in rows
    }
    return UsagePublic(
        total_cost_usd=round(workflow.cost_usd, 6),
        calls=sum(s.calls for s in stages.values()),
        input_tokens=sum(s.input_tokens for s in stages.values()),
        output_tokens=sum(s.output_tokens for s in stages.values()),
        stages=stages,
    )
