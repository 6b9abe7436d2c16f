"""Re-checking a seller's edit with the listing service's own rules and score.

Nothing is re-implemented here: `score_listing` and `find_violations` are what the listing
stage runs on a fresh draft, so an edited listing is held to exactly the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_listing.marketplace import find_violations
from shelfready_listing.quality import score_listing
from shelfready_listing.rules import MarketplaceRules, rules_for


@dataclass(frozen=True)
class CheckResult:
    score: int
    reasons: list[str]
    quality_approved: bool  # the score's own verdict (at least 80 and no broken rule)
    findings: list[dict[str, str]]  # each broken rule: field, kind, message


def rules_of(request: ListingRequest) -> MarketplaceRules:
    return rules_for(request.marketplace, request.market)


def check_draft(
    draft: ListingDraft, request: ListingRequest, product: ProductAnalysis
) -> CheckResult:
    rules = rules_of(request)
    violations = find_violations(
        draft,
        rules,
        brand=request.brand,
        language=request.language,
        brand_marks=product.brand_marks,
    )
    report = score_listing(
        draft,
        rules,
        product=product,
        brand=request.brand,
        language=request.language,
        request=request,  # the seller's own facts support the claims they make
    )
    return CheckResult(
        score=report.score,
        reasons=list(report.reasons),
        quality_approved=report.approved,
        findings=[{"field": v.field, "kind": v.kind, "message": v.message} for v in violations],
    )


def limits(rules: MarketplaceRules) -> dict[str, Any]:
    """The limits the page counts against while the seller types."""
    return {
        "marketplace": rules.label,
        "title_max_chars": rules.title_max_chars,
        "title_recommended_chars": list(rules.title_recommended_chars),
        "bullet_count": rules.bullet_count,
        "bullet_soft_max_chars": rules.bullet_soft_max_chars,
        "bullet_hard_max_chars": rules.bullet_hard_max_chars,
        "description_max_chars": rules.description_max_chars,
        # Exclusive: search terms must stay UNDER this many UTF-8 bytes.
        "search_terms_byte_limit": rules.search_terms_byte_limit,
        "tag_max_count": rules.tag_max_count,
        "tag_max_chars": rules.tag_max_chars,
    }
