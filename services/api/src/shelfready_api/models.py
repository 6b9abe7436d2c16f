"""The API's request and response bodies: typed, validated, and shown in the OpenAPI docs."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Json
from pydantic.alias_generators import to_camel

from shelfready_core.models import WorkflowStatus
from shelfready_core.schemas import ListingRequest
from shelfready_core.views import WorkflowPublic

MAX_URL_CHARS = 2048


def _require_http_url(value: str) -> str:
    # Kept as the seller sent it (no normalisation), so signed URLs stay valid.
    if any(ord(char) < 0x21 or 0x7F <= ord(char) <= 0x9F for char in value.strip()):
        raise ValueError("image URL contains a space or a control character")
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise ValueError("image URL is malformed") from exc
    if parts.scheme not in ("http", "https"):
        shown = f"{parts.scheme!r}" if parts.scheme else "none"
        raise ValueError(f"image URL must start with http:// or https:// (scheme: {shown})")
    if not parts.hostname:
        raise ValueError("image URL has no host")
    return value.strip()


HttpUrlText = Annotated[
    str,
    Field(max_length=MAX_URL_CHARS, examples=["https://example.com/photos/mug.jpg"]),
    AfterValidator(_require_http_url),
]


class WorkflowCreate(ListingRequest):
    """JSON body of `POST /api/workflows`: a photo URL plus what the seller asked for."""

    model_config = ConfigDict(extra="forbid")

    image_url: HttpUrlText

    def listing_request(self) -> ListingRequest:
        return to_listing_request(self, exclude={"image_url"})


class UploadFields(ListingRequest):
    """Form fields sent with a multipart upload (the `file` part holds the photo).

    `features` and `emphasis` repeat (one form field per item); `specifications` is a JSON
    object, because a form cannot nest.
    """

    model_config = ConfigDict(extra="forbid")

    specifications: Json[dict[str, str]] = Field(  # type: ignore[assignment]
        default_factory=dict, examples=['{"Capacity": "350 ml"}']
    )

    def listing_request(self) -> ListingRequest:
        return to_listing_request(self)


def to_listing_request(model: BaseModel, exclude: set[str] | None = None) -> ListingRequest:
    request = ListingRequest.model_validate(model.model_dump(exclude=exclude))
    # Markets are country codes; the CLI upper-cases them too.
    return request.model_copy(update={"market": request.market.upper()})


class WorkflowAccepted(BaseModel):
    """A workflow was created and its first stage enqueued."""

    workflow_id: str
    status: Literal["PENDING"] = WorkflowStatus.PENDING.value
    status_url: str = Field(description="Where to read the workflow's state (GET)")


class RetryAccepted(BaseModel):
    """A FAILED workflow was resumed at the step that failed."""

    workflow_id: str
    status: Literal["PROCESSING"] = WorkflowStatus.PROCESSING.value
    resumed_service: str = Field(description="The stage queue the workflow was put back on")
    status_url: str


class WorkflowState(WorkflowPublic):
    """The workflow as `shelfready status --json` prints it."""


class _CamelCase(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class LegacyStartRequest(_CamelCase):
    """The old `POST /api/workflows/start` body (camelCase)."""

    image_url: HttpUrlText
    category: str | None = None
    brand: str | None = None


class LegacyStartResponse(_CamelCase):
    workflow_id: str
    status: Literal["queued"] = "queued"


class ErrorDetail(BaseModel):
    detail: str


class HealthCheck(BaseModel):
    ok: bool
    detail: str


class HealthStatus(BaseModel):
    ok: bool
    checks: dict[str, HealthCheck]
