"""The data each stage hands to the next: validated pydantic models shared by all services."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, field_validator

from shelfready_core import request_values
from shelfready_core.models import UsageBase
from shelfready_core.text_safety import strip_unsafe

# Limits of what a seller may send: the database columns' lengths, and enough for any real
# listing while keeping one workflow's JSON small.
MAX_BRAND_CHARS = 200  # workflow.brand
MAX_CATEGORY_CHARS = 300  # workflow.category, product.category
MAX_PRODUCT_NAME_CHARS = 300  # product.product_name
MAX_TONE_CHARS = 100
MAX_FEEDBACK_CHARS = 4000
MAX_FEATURES = 20
MAX_FEATURE_CHARS = 300
MAX_EMPHASIS = 10
MAX_EMPHASIS_CHARS = 200
MAX_SPECIFICATIONS = 30
MAX_SPEC_NAME_CHARS = 100
MAX_SPEC_VALUE_CHARS = 300


def _one_line(value: Any) -> Any:
    """Control and bidi characters (NUL included) and line breaks removed, spaces collapsed."""
    return strip_unsafe(value, one_line=True) if isinstance(value, str) else value


def _text(value: Any) -> Any:
    return strip_unsafe(value).strip() if isinstance(value, str) else value


def _blank_is_none(value: str | None) -> str | None:
    return value or None


def _clean_recursively(value: Any) -> Any:
    """Model output: every string stripped of control and bidi characters."""
    if isinstance(value, str):
        return strip_unsafe(value)
    if isinstance(value, list):
        return [_clean_recursively(item) for item in value]
    if isinstance(value, dict):
        return {key: _clean_recursively(item) for key, item in value.items()}
    return value


def _short(max_chars: int) -> Any:
    return Annotated[str, BeforeValidator(_one_line), Field(max_length=max_chars)]


def _optional_short(max_chars: int) -> Any:
    return Annotated[
        Annotated[str, Field(max_length=max_chars)] | None,
        BeforeValidator(_one_line),
        AfterValidator(_blank_is_none),
    ]


def _spec_items(value: dict[str, str]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for name, text in value.items():
        name, text = strip_unsafe(name, one_line=True), strip_unsafe(text, one_line=True)
        if not name:
            raise ValueError("a specification needs a name")
        if len(name) > MAX_SPEC_NAME_CHARS:
            raise ValueError(
                f"specification name {name[:30]!r}... is over {MAX_SPEC_NAME_CHARS} characters"
            )
        if len(text) > MAX_SPEC_VALUE_CHARS:
            raise ValueError(
                f"specification {name[:30]!r} is over {MAX_SPEC_VALUE_CHARS} characters"
            )
        cleaned[name] = text
    return cleaned


# Amazon SKUs are at most 40 characters. Periods and spaces are left out because marketplace
# image names use periods as separators (`<SKU>.MAIN.jpg`).
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"


class BoundingBox(BaseModel):
    """Where the product sits in the original photo, in pixels of the EXIF-transposed image."""

    x: int = Field(ge=0)
    y: int = Field(ge=0)
    width: int = Field(gt=0)
    height: int = Field(gt=0)


class ProductAnalysis(BaseModel):
    """What recognition saw in the photo."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return _clean_recursively(value)

    product_type: str = Field(description="Generic product type, e.g. 'water bottle'")
    product_name: str = Field(description="Short descriptive product name")
    category: str = Field(
        description="Marketplace category path, e.g. 'Sports & Outdoors > Bottles'"
    )
    materials: list[str] = Field(default_factory=list)
    colors: list[str] = Field(default_factory=list)
    functional_cues: list[str] = Field(
        default_factory=list, description="Functional details visible in the photo"
    )
    interactive_features: list[str] = Field(
        default_factory=list, description="Likely ways the user interacts with it"
    )
    use_scenarios: list[str] = Field(default_factory=list)
    target_audience: list[str] = Field(default_factory=list)
    keywords: list[str] = Field(default_factory=list)
    visible_text: list[str] = Field(default_factory=list, description="Text printed on the product")
    brand_marks: list[str] = Field(default_factory=list, description="Logos or brand names seen")
    bounding_box: BoundingBox | None = Field(None, description="Product box in image pixels")
    confidence: float = Field(ge=0.0, le=1.0, description="The model's own confidence")
    description: str = Field(description="Two or three sentences describing the product")


class ListingRequest(BaseModel):
    """What the seller asked for when submitting the photo. Validated before anything is
    stored: lengths within the columns, known marketplace / market / language, bounded lists;
    control and bidi characters are removed."""

    brand: _optional_short(MAX_BRAND_CHARS) = None  # type: ignore[valid-type]
    category: _optional_short(MAX_CATEGORY_CHARS) = None  # type: ignore[valid-type]
    sku: str | None = Field(
        None,
        pattern=SKU_PATTERN,
        description="The seller's stock-keeping unit; names the exported image files",
    )
    product_name: _optional_short(MAX_PRODUCT_NAME_CHARS) = None  # type: ignore[valid-type]
    features: list[_short(MAX_FEATURE_CHARS)] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=MAX_FEATURES
    )
    specifications: Annotated[
        dict[str, str], Field(max_length=MAX_SPECIFICATIONS), AfterValidator(_spec_items)
    ] = Field(default_factory=dict)
    marketplace: Annotated[
        str, Field(max_length=32), AfterValidator(request_values.normalise_marketplace)
    ] = "amazon"
    market: Annotated[str, Field(max_length=8), AfterValidator(request_values.normalise_market)] = (
        "US"
    )
    language: Annotated[
        str, Field(max_length=16), AfterValidator(request_values.normalise_language)
    ] = "en"
    tone: _optional_short(MAX_TONE_CHARS) = None  # type: ignore[valid-type]
    emphasis: list[_short(MAX_EMPHASIS_CHARS)] = Field(  # type: ignore[valid-type]
        default_factory=list, max_length=MAX_EMPHASIS
    )
    feedback: Annotated[
        Annotated[str, Field(max_length=MAX_FEEDBACK_CHARS)] | None,
        BeforeValidator(_text),
        AfterValidator(_blank_is_none),
    ] = None

    @field_validator("features", "emphasis", mode="after")
    @classmethod
    def _drop_blank_items(cls, value: list[str]) -> list[str]:
        return [item for item in value if item]


class ListingDraft(BaseModel):
    """Marketplace copy written from a ProductAnalysis and a ListingRequest."""

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return _clean_recursively(value)

    title: str
    bullet_points: list[str] = Field(min_length=5, max_length=5)
    description: str
    keywords: list[str]
    search_terms: str = ""
    image_prompts: list[str] = Field(min_length=5, max_length=5)


class ListingReview(BaseModel):
    """What the listing review did to a draft and what a person still has to judge."""

    writer: str = Field(description="'claude' or 'offline'")
    fixes: list[str] = Field(default_factory=list, description="Each change made by code")
    needs_review: bool = False
    review_reasons: list[str] = Field(default_factory=list, description="Why a person must look")
    calls: int = Field(0, description="Messages calls the stage made, across all attempts")


class QualityReport(BaseModel):
    score: int = Field(ge=0, le=100)
    reasons: list[str] = Field(default_factory=list)
    approved: bool = False


class CallUsage(UsageBase):
    """One paid API call, as a stage hands it on to be recorded (models.ApiUsage)."""
