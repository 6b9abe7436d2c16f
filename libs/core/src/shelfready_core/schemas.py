"""The data each stage hands to the next: validated pydantic models shared by all services."""

from __future__ import annotations

from pydantic import BaseModel, Field

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
    """What the seller asked for when submitting the photo."""

    brand: str | None = None
    category: str | None = None
    sku: str | None = Field(
        None,
        pattern=SKU_PATTERN,
        description="The seller's stock-keeping unit; names the exported image files",
    )
    product_name: str | None = None
    features: list[str] = Field(default_factory=list)
    specifications: dict[str, str] = Field(default_factory=dict)
    marketplace: str = "amazon"
    market: str = "US"
    language: str = "en"
    tone: str | None = None
    emphasis: list[str] = Field(default_factory=list)
    feedback: str | None = None


class ListingDraft(BaseModel):
    """Marketplace copy written from a ProductAnalysis and a ListingRequest."""

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


class CallUsage(BaseModel):
    """One paid API call, as recorded for cost accounting."""

    stage: str
    provider: str = "anthropic"
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    latency_ms: int = 0
    request_id: str | None = None
    cost_usd: float = 0.0
