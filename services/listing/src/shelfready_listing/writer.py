"""The Claude listing writer, and the choice between it and the offline writer.

Claude answers with a ListingDraft through structured outputs (`messages.parse`) where the
model supports them, else through a forced tool. The draft then goes through the listing
review (`shelfready_listing.review`):

1. structural problems (schema, empty fields, refusals, placeholders) get one repair turn;
   still there, the offending sentences are dropped if every field stays filled, otherwise
   the stage fails with UnusableDraft, which the queue does not retry;
2. mechanical problems are fixed by code, no call;
3. judgement findings get one repair turn naming exactly those, if the call budget allows;
   what remains is dropped where it can go cleanly or kept and flagged for review.

Every call counts against the stage's CallBudget (SHELFREADY_LISTING_CALL_BUDGET), kept in
Redis so it holds across the job's retries. Scoring is the job's business.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis

from shelfready_core.ai import ListingWriter, StageResult
from shelfready_core.claude.budget import CallBudget
from shelfready_core.claude.client import ClaudeClient
from shelfready_core.claude.errors import ClaudeError, StructuredOutputError
from shelfready_core.claude.tooling import Exchange, supports_structured_outputs
from shelfready_core.config import Settings
from shelfready_core.errors import NotRetryable, ServiceUnavailable
from shelfready_core.schemas import (
    CallUsage,
    ListingDraft,
    ListingRequest,
    ListingReview,
    ProductAnalysis,
)
from shelfready_core.stages import get_stage_settings
from shelfready_listing.offline import OfflineListingWriter
from shelfready_listing.prompts import system_prompt, user_prompt
from shelfready_listing.review import (
    Finding,
    ReviewContext,
    fix_mechanical,
    judgement_findings,
    repair_instructions,
    review_draft,
    salvage_structural,
    structural_findings,
)
from shelfready_listing.rules import rules_for
from shelfready_listing.stage import ListingSettings
from shelfready_listing.text_checks import primary_language

logger = logging.getLogger(__name__)

# Per attempt; two attempts (one SDK retry) fit the listing queue's 90 s job timeout.
LISTING_TIMEOUT_SECONDS = 40.0
LISTING_SDK_RETRIES = 1
# A listing is ~1-2k output tokens (CJK needs more); the client doubles this once if cut off.
LISTING_MAX_TOKENS = 4096
SALVAGED_REASON = "the model's answer held a refusal or placeholder; those sentences were removed"


class UnusableDraft(StructuredOutputError, NotRetryable):
    """No usable draft after the repair turn: retrying the same prompt would not help."""


class ClaudeListingWriter:
    """ListingWriter backed by Claude (ListingSettings.model)."""

    def __init__(
        self,
        settings: Settings,
        redis: redis.Redis,
        *,
        workflow_id: str | None = None,
        stage_settings: ListingSettings | None = None,
    ) -> None:
        self.settings = settings
        self.stage_settings = stage_settings or get_stage_settings(ListingSettings)
        self.client = ClaudeClient(
            settings,
            stage="listing",
            model=self.stage_settings.model,
            timeout=LISTING_TIMEOUT_SECONDS,
            max_retries=LISTING_SDK_RETRIES,
            redis=redis,
        )
        self.budget = (
            CallBudget(
                redis,
                stage="listing",
                workflow_id=workflow_id,
                limit=self.stage_settings.call_budget,
            )
            if workflow_id is not None
            else None
        )
        self.structured_outputs = supports_structured_outputs(self.stage_settings.model)

    def write(self, product: ProductAnalysis, request: ListingRequest) -> StageResult[ListingDraft]:
        rules = rules_for(request.marketplace, request.market)
        ctx = ReviewContext(rules=rules, request=request, product=product)
        conversation: list[dict] = [
            {"role": "user", "content": user_prompt(product, request, rules)}
        ]
        system = system_prompt(rules, request.language)
        usage: list[CallUsage] = []

        def ask() -> Exchange[ListingDraft]:
            return self.client.ask(
                system=system,
                messages=conversation,
                output=ListingDraft,
                usage=usage,
                max_tokens=LISTING_MAX_TOKENS,
                budget=self.budget,
                structured_outputs=self.structured_outputs,
            )

        first = ask()
        latest: Exchange[ListingDraft] | None = first
        draft, problems = _usable(first, ctx)
        fixes: list[str] = []
        reasons: list[str] = []
        if problems:
            logger.info("listing: structural problems (%s); one repair turn", "; ".join(problems))
            conversation += first.repair_turn(problems)
            fallback = draft  # schema-valid but structurally broken, or None
            try:
                latest = ask()
            except ClaudeError as exc:
                if fallback is None or isinstance(exc, ServiceUnavailable):
                    raise
                latest = None  # keep what we have; the salvage below decides
                logger.warning("listing: structural repair call failed (%s)", exc)
            if latest is not None:
                draft, problems = _usable(latest, ctx)
            if problems or draft is None:
                draft, salvage_fixes = self._salvage(draft or fallback, ctx, problems, usage)
                fixes += salvage_fixes
                reasons.append(SALVAGED_REASON)
        if draft is None:  # _salvage raises rather than return nothing; keeps mypy informed
            raise UnusableDraft("listing: no usable draft", errors=problems, usage=usage)
        first_draft = draft

        fixed, _ = fix_mechanical(draft, ctx)
        findings = judgement_findings(fixed, ctx)
        if findings and self._can_call():
            draft, fixes_from_repair = self._judgement_repair(
                draft, latest, findings, conversation, ask, ctx
            )
            fixes += fixes_from_repair
        reviewed = review_draft(draft, ctx)
        fixes += reviewed.fixes
        reasons += reviewed.reasons
        calls = self.budget.used() if self.budget is not None else len(usage)
        review = ListingReview(
            writer="claude",
            fixes=list(dict.fromkeys(fixes)),
            needs_review=bool(reasons),
            review_reasons=reasons,
            calls=calls,
        )
        logger.info(
            "listing written for %s in %s: %s calls, %s fixes, %s reasons for review",
            rules.label,
            ctx.lang,
            calls,
            len(review.fixes),
            len(reasons),
        )
        notes: dict[str, object] = {
            "writer": "claude",
            "model": self.stage_settings.model,
            "marketplace": rules.label,
            "language": primary_language(request.language),
            "review": review,
            "first_draft": first_draft,
        }
        return StageResult(value=reviewed.draft, usage=usage, notes=notes)

    def _can_call(self) -> bool:
        return self.budget is None or self.budget.remaining() > 0

    def _salvage(
        self,
        draft: ListingDraft | None,
        ctx: ReviewContext,
        problems: list[str],
        usage: list[CallUsage],
    ) -> tuple[ListingDraft, list[str]]:
        listed = "; ".join(problems)
        if draft is None:
            raise UnusableDraft(
                f"listing: Claude's ListingDraft is still invalid after a repair turn: {listed}",
                errors=problems,
                usage=usage,
            )
        try:
            return salvage_structural(draft, ctx)
        except ValueError as exc:
            raise UnusableDraft(
                f"listing: no usable draft after a repair turn ({exc}): {listed}",
                errors=problems,
                usage=usage,
            ) from exc

    def _judgement_repair(
        self,
        draft: ListingDraft,
        exchange: Exchange[ListingDraft] | None,
        findings: list[Finding],
        conversation: list[dict],
        ask: Callable[[], Exchange[ListingDraft]],
        ctx: ReviewContext,
    ) -> tuple[ListingDraft, list[str]]:
        """One repair turn naming exactly the judgement findings; the better draft wins."""
        if exchange is None:
            return draft, []
        instructions = repair_instructions(findings)
        logger.info("listing: judgement findings (%s); one repair turn", "; ".join(instructions))
        conversation += exchange.repair_turn(instructions)
        try:
            repaired_exchange = ask()
        except ClaudeError as exc:
            # A usable draft exists: deliver it (flagged) rather than fail over a repair.
            logger.warning("listing: judgement repair call failed (%s); keeping the draft", exc)
            return draft, []
        repaired, problems = _usable(repaired_exchange, ctx)
        if repaired is None or problems:
            logger.info("listing: the judgement repair broke the draft; keeping the first one")
            return draft, []
        before = len(findings)
        after = len(judgement_findings(fix_mechanical(repaired, ctx)[0], ctx))
        if after > before:
            return draft, []
        return repaired, [f"asked Claude to fix {before} judgement finding(s); {after} remained"]


def _usable(
    exchange: Exchange[ListingDraft], ctx: ReviewContext
) -> tuple[ListingDraft | None, list[str]]:
    """The draft (None if it did not validate) and its structural problems."""
    if exchange.value is None:
        return None, exchange.errors
    return exchange.value, [f.message for f in structural_findings(exchange.value, ctx)]


def get_listing_writer(
    settings: Settings, redis: redis.Redis, *, workflow_id: str | None = None
) -> ListingWriter:
    """The offline writer when settings say so (no key, or SHELFREADY_AI=offline), else Claude."""
    if settings.uses_offline_ai:
        return OfflineListingWriter()
    return ClaudeListingWriter(settings, redis=redis, workflow_id=workflow_id)
