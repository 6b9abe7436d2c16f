"""The contracts between the job code and whatever produces its content (Claude or offline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from PIL import Image

from shelfready_core.schemas import CallUsage, ListingDraft, ListingRequest, ProductAnalysis

T = TypeVar("T")


@dataclass
class StageResult(Generic[T]):
    """A stage's validated output plus every paid call it took to get it."""

    value: T
    usage: list[CallUsage] = field(default_factory=list)
    notes: dict[str, object] = field(default_factory=dict)


class Recognizer(Protocol):
    def recognize(
        self, image: Image.Image, *, filename: str, request: ListingRequest
    ) -> StageResult[ProductAnalysis]:
        """Describe the product in an EXIF-transposed RGB photo."""
        ...


class ListingWriter(Protocol):
    def write(self, product: ProductAnalysis, request: ListingRequest) -> StageResult[ListingDraft]:
        """Write marketplace copy for the product."""
        ...
