"""Claude list prices, and the USD cost of one call's token usage."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

logger = logging.getLogger(__name__)

# Prompt-cache multipliers of the input price (5-minute cache, the default TTL).
CACHE_WRITE_MULTIPLIER = 1.25
CACHE_READ_MULTIPLIER = 0.1


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens."""

    input: float
    output: float

    @property
    def cache_write(self) -> float:
        return self.input * CACHE_WRITE_MULTIPLIER

    @property
    def cache_read(self) -> float:
        return self.input * CACHE_READ_MULTIPLIER


SONNET = ModelPrice(input=3.0, output=15.0)
OPUS_LEGACY = ModelPrice(input=15.0, output=75.0)  # Opus 4.0 / 4.1
OPUS = ModelPrice(input=5.0, output=25.0)  # Opus 4.5 and later
HAIKU_4_5 = ModelPrice(input=1.0, output=5.0)

# "claude-sonnet-4-5", "claude-opus-4-1-20250805", "claude-haiku-4-5@20251001", "claude-opus-5"
_MODEL_NAME = re.compile(r"claude-(?P<family>[a-z]+)-(?P<major>\d+)(?:-(?P<minor>\d{1,2}))?(?!\d)")


def _known_price(family: str, version: tuple[int, int]) -> ModelPrice | None:
    if family == "sonnet" and version >= (4, 0):
        return SONNET
    if family == "opus" and version >= (4, 5):
        return OPUS
    if family == "opus" and version >= (4, 0):
        return OPUS_LEGACY
    if family == "haiku" and version == (4, 5):
        return HAIKU_4_5
    return None


@lru_cache(maxsize=64)
def price_for(model: str) -> ModelPrice:
    """The price of a model id; unknown models are charged at the Sonnet price (with a warning)."""
    match = _MODEL_NAME.search(model)
    if match:
        version = (int(match["major"]), int(match["minor"] or 0))
        price = _known_price(match["family"], version)
        if price is not None:
            return price
    logger.warning("no price known for model %s; costing it at the Sonnet price", model)
    return SONNET


def cost_usd(
    model: str,
    *,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int = 0,
    cache_write_tokens: int = 0,
    overrides: Mapping[str, tuple[float, float]] | None = None,
) -> float:
    """Cost of one call. The API reports cached tokens separately from `input_tokens`.

    `overrides` (SHELFREADY_MODEL_PRICES) maps a model id to (input, output) USD per million
    tokens, for a new model or a negotiated price, without a code change."""
    configured = (overrides or {}).get(model)
    price = ModelPrice(*configured) if configured else price_for(model)
    micro_dollars = (
        input_tokens * price.input
        + output_tokens * price.output
        + cache_write_tokens * price.cache_write
        + cache_read_tokens * price.cache_read
    )
    return round(micro_dollars / 1_000_000, 8)
