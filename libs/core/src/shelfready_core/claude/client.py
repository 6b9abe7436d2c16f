"""ClaudeClient: one validated structured answer from Claude, with usage, cost and a breaker."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import anthropic
import redis
from anthropic.types import Message
from pydantic import BaseModel

from shelfready_core.ai import StageResult
from shelfready_core.claude import pricing
from shelfready_core.claude.breaker import BreakerOpen, CircuitBreaker, make_breaker
from shelfready_core.claude.budget import CallBudget
from shelfready_core.claude.errors import (
    ClaudeCredentialRejected,
    ClaudeMalformedResponse,
    ClaudeOutputTruncated,
    ClaudeRefusal,
    ClaudeRequestError,
    ClaudeTimeout,
    ClaudeTransientError,
    ClaudeUnavailable,
    StructuredOutputError,
)
from shelfready_core.claude.sdk import sdk_client
from shelfready_core.claude.tooling import (
    Exchange,
    check_answer,
    check_parsed,
    forced_tool_choice,
    output_config_for,
    tool_for,
)
from shelfready_core.config import Settings
from shelfready_core.schemas import CallUsage

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


def _is_outage(status_code: int) -> bool:
    """Statuses the SDK retries; still failing after its retries, they count against the API."""
    return status_code in (408, 409, 429) or status_code >= 500


class ClaudeClient:
    """Calls Claude for one stage. Cheap to construct; the SDK client is shared per process."""

    def __init__(
        self,
        settings: Settings,
        *,
        stage: str,
        model: str,
        timeout: float,
        redis: redis.Redis | None = None,
        max_retries: int = 2,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.settings = settings
        self.stage = stage
        self.model = model
        self.timeout = timeout
        self.max_retries = max_retries
        # One breaker for the whole API, shared by every stage and worker through Redis.
        if breaker is None:
            if redis is None:
                raise TypeError("ClaudeClient needs `redis` (or a `breaker`) for its breaker")
            breaker = make_breaker("anthropic", redis, open_seconds=settings.breaker_open_seconds)
        self.breaker: CircuitBreaker = breaker

    def structured(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        output: type[M],
        validate: Callable[[M], list[str]] | None = None,
        max_tokens: int = 2048,
        budget: CallBudget | None = None,
        structured_outputs: bool = False,
    ) -> StageResult[M]:
        """Ask Claude for one `output`, through structured outputs or a forced tool.

        An invalid answer (pydantic or `validate` errors) gets one repair turn quoting the
        errors. An answer cut off at `max_tokens` is asked again once with twice the budget.
        """
        conversation = list(messages)
        usage: list[CallUsage] = []
        repaired = False
        while True:
            exchange = self.ask(
                system=system,
                messages=conversation,
                output=output,
                validate=validate,
                max_tokens=max_tokens,
                usage=usage,
                budget=budget,
                structured_outputs=structured_outputs,
            )
            if exchange.value is not None:
                notes: dict[str, object] = {
                    "repaired": repaired,
                    "calls": len(usage),
                    "max_tokens": exchange.max_tokens,
                }
                return StageResult(value=exchange.value, usage=usage, notes=notes)
            if repaired:
                listed = "; ".join(exchange.errors)
                raise StructuredOutputError(
                    f"{self.stage}: Claude's {output.__name__} is still invalid after a repair "
                    f"turn: {listed}",
                    errors=exchange.errors,
                    usage=usage,
                )
            logger.info(
                "%s: invalid %s from Claude (%s); sending one repair turn",
                self.stage,
                output.__name__,
                "; ".join(exchange.errors),
            )
            conversation += exchange.repair_turn(exchange.errors)
            repaired = True

    def ask(
        self,
        *,
        system: str,
        messages: list[dict[str, Any]],
        output: type[M],
        usage: list[CallUsage],
        validate: Callable[[M], list[str]] | None = None,
        max_tokens: int = 2048,
        budget: CallBudget | None = None,
        structured_outputs: bool = False,
    ) -> Exchange[M]:
        """One answer from Claude, checked: the value, or the errors and how to repair them.

        Each call made is appended to `usage` (also the calls of a failed ask, which the
        raised error carries). A cut-off answer is asked again once with twice `max_tokens`.
        """
        system_blocks = [{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}]
        budget_tokens = max_tokens
        malformed_retried = False
        while True:
            try:
                response, parse_errors = self._create(
                    system_blocks,
                    messages,
                    output,
                    budget_tokens,
                    usage,
                    budget=budget,
                    structured_outputs=structured_outputs,
                )
            except ClaudeMalformedResponse as exc:
                # A garbled body is a transport fault the SDK does not retry; one more call
                # is cheaper than a queue retry (and still counts against the budget).
                if malformed_retried:
                    raise
                logger.warning("%s: %s; asking once more", self.stage, exc)
                malformed_retried = True
                continue
            if response.stop_reason == "refusal":
                raise ClaudeRefusal(self._refusal_message(response), usage=usage)
            if response.stop_reason == "max_tokens":
                if budget_tokens > max_tokens:
                    raise ClaudeOutputTruncated(
                        f"{self.stage}: Claude's answer was cut off at {budget_tokens} output "
                        f"tokens (stop_reason=max_tokens), also after doubling max_tokens from "
                        f"{max_tokens}",
                        errors=[f"answer cut off at {budget_tokens} tokens"],
                        usage=usage,
                    )
                logger.warning(
                    "%s: answer cut off at %s tokens; asking again with %s",
                    self.stage,
                    budget_tokens,
                    budget_tokens * 2,
                )
                budget_tokens *= 2
                continue
            if response.stop_reason == "model_context_window_exceeded":
                raise ClaudeRequestError(
                    f"{self.stage}: the request exceeds {self.model}'s context window",
                    usage=usage,
                )
            if structured_outputs:
                value, errors = check_parsed(response, output, validate, parse_errors)
            else:
                value, errors = check_answer(response, output, validate)
            return Exchange(
                value=value,
                errors=errors,
                response=response,
                output=output,
                structured_outputs=structured_outputs,
                max_tokens=budget_tokens,
            )

    def _create(
        self,
        system_blocks: list[dict[str, Any]],
        conversation: list[dict[str, Any]],
        output: type[BaseModel],
        max_tokens: int,
        usage: list[CallUsage],
        *,
        budget: CallBudget | None = None,
        structured_outputs: bool = False,
    ) -> tuple[Message, list[str]]:
        """One API call (plus the SDK's own retries) through the budget, breaker and slots.

        Returns the message and, for structured outputs, the errors of parsing its JSON.
        """
        if budget is not None:
            budget.check()
        try:
            self.breaker.admit()
        except BreakerOpen as exc:
            failing = exc.cause or "the Claude API is failing"
            raise ClaudeUnavailable(
                f"{self.stage}: {failing} (circuit breaker {exc.name} open); "
                f"no call made, retry in {exc.retry_after_seconds:.1f} s",
                retry_after_seconds=exc.retry_after_seconds,
                cause=exc.cause or "the Claude API was unavailable",
            ) from None
        client = sdk_client(
            self.settings, stage=self.stage, timeout=self.timeout, max_retries=self.max_retries
        )
        # Plain dicts on the wire; the SDK's TypedDicts add nothing here.
        request: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max_tokens,
            "system": system_blocks,
            "messages": conversation,
        }
        started = time.perf_counter()
        parse_errors: list[str] = []
        try:
            if structured_outputs:
                # Constrained decoding: the answer is JSON text matching the model's schema.
                # The output_config `messages.parse(output_format=...)` sends, built by the
                # SDK's own transform_schema; not parse itself, because it raises on a
                # cut-off or invalid answer before its usage (tokens, cost) can be read.
                raw = client.messages.with_raw_response.create(  # type: ignore[call-overload]
                    output_config=output_config_for(output), **request
                )
            else:
                raw = client.messages.with_raw_response.create(  # type: ignore[call-overload]
                    tools=[tool_for(output)], tool_choice=forced_tool_choice(output), **request
                )
        except anthropic.APITimeoutError as exc:
            self.breaker.record_failure()
            if budget is not None:
                budget.spend()  # the API may have processed (and billed) it
            raise ClaudeTimeout(
                f"{self.stage}: Claude ({self.model}) did not answer within {self.timeout:g} s "
                f"on any of {self.max_retries + 1} attempts",
                usage=usage,
            ) from exc
        except anthropic.APIConnectionError as exc:
            self.breaker.record_failure()
            raise ClaudeTransientError(
                f"{self.stage}: could not reach the Claude API after "
                f"{self.max_retries + 1} attempts: {exc.message}",
                usage=usage,
            ) from exc
        except anthropic.APIStatusError as exc:
            self._raise_status_error(exc, usage)
        if budget is not None:
            budget.spend()
        try:
            response = raw.parse()
        except (ValueError, TypeError, anthropic.APIResponseValidationError) as exc:
            self.breaker.record_failure()
            usage.append(self._empty_usage(raw.request_id, started))
            raise ClaudeMalformedResponse(
                f"{self.stage}: the Claude API answered with a malformed body "
                f"(request {raw.request_id}): {type(exc).__name__}",
                usage=usage,
            ) from exc
        else:
            usage.append(self._usage_of(response, started))
        self.breaker.record_success()
        return response, parse_errors

    def _empty_usage(self, request_id: str | None, started: float) -> CallUsage:
        """A call whose tokens are unknown (malformed answer): counted, not priced."""
        return CallUsage(
            stage=self.stage,
            model=self.model,
            latency_ms=round((time.perf_counter() - started) * 1000),
            request_id=request_id,
        )

    def _raise_status_error(
        self, exc: anthropic.APIStatusError, usage: list[CallUsage]
    ) -> NoReturn:
        detail = exc.api_message or exc.message
        request = f", request {exc.request_id}" if exc.request_id else ""
        where = f"{self.stage}: Claude API HTTP {exc.status_code} ({exc.type or 'error'}{request})"
        if _is_outage(exc.status_code):
            self.breaker.record_failure()
            raise ClaudeTransientError(
                f"{where} after {self.max_retries + 1} attempts: {detail}",
                status_code=exc.status_code,
                usage=usage,
            ) from exc
        if exc.status_code in (401, 403):
            # Our key, not this request: every call would fail the same way until it is fixed.
            rejected = ClaudeCredentialRejected(
                f"{where}: {detail}", status_code=exc.status_code, usage=usage
            )
            assert rejected.cause is not None
            self.breaker.trip(rejected.cause)
            raise rejected from exc
        # The API answered: it is up, the request is what is wrong.
        self.breaker.record_success()
        raise ClaudeRequestError(
            f"{where}: {detail}", status_code=exc.status_code, usage=usage
        ) from exc

    def _usage_of(self, response: Message, started: float) -> CallUsage:
        tokens = response.usage
        model = response.model or self.model
        call = CallUsage(
            stage=self.stage,
            model=model,
            input_tokens=tokens.input_tokens,
            output_tokens=tokens.output_tokens,
            cache_read_tokens=tokens.cache_read_input_tokens or 0,
            cache_write_tokens=tokens.cache_creation_input_tokens or 0,
            latency_ms=round((time.perf_counter() - started) * 1000),
            request_id=response._request_id,
        )
        call.cost_usd = pricing.cost_usd(
            model,
            input_tokens=call.input_tokens,
            output_tokens=call.output_tokens,
            cache_read_tokens=call.cache_read_tokens,
            cache_write_tokens=call.cache_write_tokens,
            overrides=self.settings.model_prices,
        )
        logger.info(
            "%s: %s answered in %s ms (in %s, out %s, cache read %s, write %s; $%.5f; %s)",
            self.stage,
            model,
            call.latency_ms,
            call.input_tokens,
            call.output_tokens,
            call.cache_read_tokens,
            call.cache_write_tokens,
            call.cost_usd,
            call.request_id,
        )
        return call

    def _refusal_message(self, response: Message) -> str:
        details = response.stop_details
        category = f" ({details.category})" if details and details.category else ""
        explanation = f": {details.explanation}" if details and details.explanation else ""
        return (
            f"{self.stage}: Claude declined to answer{category}{explanation} "
            f"(request {response._request_id}); not retried, the same input would be refused"
        )
