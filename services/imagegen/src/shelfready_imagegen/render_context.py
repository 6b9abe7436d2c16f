"""What every renderer of a secondary image gets: the cut-out plus the listing's facts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_imagegen.cutout import Cutout
from shelfready_imagegen.detail_crops import DetailChoice, choose_detail
from shelfready_imagegen.palette import Palette, product_palette


@dataclass
class RenderContext:
    cutout: Cutout
    product: ProductAnalysis
    listing: ListingDraft
    request: ListingRequest

    @cached_property
    def palette(self) -> Palette:
        return product_palette(self.cutout.image)

    @cached_property
    def detail(self) -> DetailChoice:
        """The detail image's window: chosen once, for the renderer and the set's review."""
        return choose_detail(self.cutout.image)
