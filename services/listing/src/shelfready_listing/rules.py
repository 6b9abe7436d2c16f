"""Marketplace listing rules as data: one frozen `MarketplaceRules` per marketplace.

Market overrides (such as Amazon UK's 150-character titles) replace the marketplace default
for that market only. Character limits count characters; byte limits count UTF-8 bytes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

# Amazon: "! $ ? _ { } ^ ¬ ¦" are not allowed in titles unless part of the brand.
AMAZON_FORBIDDEN_TITLE_CHARS = frozenset("!$?_{}^¬¦")


@dataclass(frozen=True)
class MarketplaceRules:
    """The published limits of one marketplace (optionally one market of it)."""

    marketplace: str
    market: str = "*"  # "*" = every market without an override
    title_max_chars: int = 200
    # Readability range for the quality score, not a hard limit.
    title_recommended_chars: tuple[int, int] = (40, 80)
    brand_first: bool = False
    bullet_count: int = 5
    bullet_soft_max_chars: int = 250  # readability; scored, not enforced
    bullet_hard_max_chars: int = 500  # the field limit; enforced
    description_max_chars: int | None = None
    description_recommended_chars: tuple[int, int] = (300, 2000)
    description_allows_html: bool = False
    # Exclusive upper bound in UTF-8 bytes ("under 250 bytes"); None = no search-terms field.
    search_terms_byte_limit: int | None = None
    search_terms_exclude_title_words: bool = False
    # Keywords double as tags where the marketplace has them (Etsy: 13 tags of 20 characters).
    tag_max_count: int | None = None
    tag_max_chars: int | None = None
    forbidden_title_chars: frozenset[str] = frozenset()
    title_forbids_symbols: bool = False  # decorative symbols and emoji
    title_max_word_repeats: int = 2  # keyword stuffing
    extra_banned_phrases: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How messages name the rule's owner: 'amazon' or 'amazon UK'."""
        return self.marketplace if self.market == "*" else f"{self.marketplace} {self.market}"


AMAZON = MarketplaceRules(
    marketplace="amazon",
    title_max_chars=200,
    title_recommended_chars=(40, 80),  # Amazon recommends under 80 for readability
    brand_first=True,
    bullet_soft_max_chars=250,
    bullet_hard_max_chars=500,
    description_max_chars=2000,
    search_terms_byte_limit=250,
    search_terms_exclude_title_words=True,
    forbidden_title_chars=AMAZON_FORBIDDEN_TITLE_CHARS,
    title_forbids_symbols=True,
)
ETSY = MarketplaceRules(
    marketplace="etsy",
    title_max_chars=140,
    title_recommended_chars=(30, 100),
    tag_max_count=13,
    tag_max_chars=20,
)
SHOPIFY = MarketplaceRules(
    marketplace="shopify",
    title_max_chars=255,
    title_recommended_chars=(20, 70),  # search engines show about 70 characters
    description_allows_html=True,
)
EBAY = MarketplaceRules(
    marketplace="ebay",
    title_max_chars=80,
    title_recommended_chars=(40, 80),  # eBay rewards using the whole 80
    description_allows_html=True,
    extra_banned_phrases=("l@@k", "wow"),
)

MARKETPLACES: dict[str, MarketplaceRules] = {
    r.marketplace: r for r in (AMAZON, ETSY, SHOPIFY, EBAY)
}
MARKET_OVERRIDES: dict[tuple[str, str], MarketplaceRules] = {
    # Amazon UK's generic title guide asks for at most 150 characters.
    ("amazon", "UK"): replace(AMAZON, market="UK", title_max_chars=150),
}
_MARKET_ALIASES = {"GB": "UK"}


def rules_for(marketplace: str, market: str = "US") -> MarketplaceRules:
    """The rules for a marketplace in a market; unknown markets get the marketplace's defaults."""
    key = marketplace.strip().lower()
    if key not in MARKETPLACES:
        known = ", ".join(sorted(MARKETPLACES))
        raise ValueError(f"unknown marketplace {marketplace!r}; known marketplaces: {known}")
    market_key = market.strip().upper()
    market_key = _MARKET_ALIASES.get(market_key, market_key)
    return MARKET_OVERRIDES.get((key, market_key), MARKETPLACES[key])
