"""The Claude listing writer, and the choice between it and the offline writer.

Claude answers through a forced tool whose schema is ListingDraft; `check_listing` validates the
answer against the marketplace rules, and the client sends one repair turn quoting the
violations before giving up with StructuredOutputError. Scoring is the job's business
(`shelfready_listing.quality.score_listing`), not the writer's.
"""

from __future__ import annotations

import logging

import redis

from shelfready_core.ai import ListingWriter, StageResult
from shelfready_core.claude.client import ClaudeClient
from shelfready_core.config import Settings
from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_listing.marketplace import check_listing
from shelfready_listing.offline import OfflineListingWriter
from shelfready_listing.prompts import system_prompt, user_prompt
from shelfready_listing.rules import rules_for
from shelfready_listing.text_checks import primary_language

logger = logging.getLogger(__name__)

# Per attempt; two attempts (one SDK retry) fit the listing queue's 90 s job timeout.
LISTING_TIMEOUT_SECONDS = 40.0
LISTING_SDK_RETRIES = 1
# A listing is ~1-2k output tokens (CJK needs more); the client doubles this once if cut off.
LISTING_MAX_TOKENS = 4096


class ClaudeListingWriter:
    """ListingWriter backed by Claude (settings.listing_model)."""

    def __init__(self, settings: Settings, redis: redis.Redis | None = None) -> None:
        self.settings = settings
        self.client = ClaudeClient(
            settings,
            stage="listing",
            model=settings.listing_model,
            timeout=LISTING_TIMEOUT_SECONDS,
            max_retries=LISTING_SDK_RETRIES,
            redis=redis,
        )

    def write(self, product: ProductAnalysis, request: ListingRequest) -> StageResult[ListingDraft]:
        rules = rules_for(request.marketplace, request.market)
        language = primary_language(request.language)

        def violations(draft: ListingDraft) -> list[str]:
            return check_listing(
                draft,
                rules,
                brand=request.brand,
                language=language,
                brand_marks=product.brand_marks,
            )

        result = self.client.structured(
            system=system_prompt(rules, request.language),
            messages=[{"role": "user", "content": user_prompt(product, request, rules)}],
            output=ListingDraft,
            validate=violations,
            max_tokens=LISTING_MAX_TOKENS,
        )
        result.notes.update(
            writer="claude",
            model=self.settings.listing_model,
            marketplace=rules.label,
            language=language,
        )
        logger.info(
            "listing written for %s in %s (repaired: %s)",
            rules.label,
            language,
            result.notes.get("repaired"),
        )
        return result


def get_listing_writer(settings: Settings, redis: redis.Redis | None = None) -> ListingWriter:
    """The offline writer when settings say so (no key, or SHELFREADY_AI=offline), else Claude."""
    if settings.uses_offline_ai:
        return OfflineListingWriter()
    return ClaudeListingWriter(settings, redis=redis)
