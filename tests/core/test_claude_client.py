"""ClaudeClient.structured against the fake Messages API, through the real anthropic SDK."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
import redis
from pydantic import BaseModel, Field

from shelfready_core.claude import (
    ClaudeClient,
    ClaudeCredentialRejected,
    ClaudeNotConfigured,
    ClaudeOutputTruncated,
    ClaudeRefusal,
    ClaudeRequestError,
    ClaudeTimeout,
    ClaudeTransientError,
    ClaudeUnavailable,
    RedisCircuitBreaker,
    StructuredOutputError,
)
from shelfready_core.claude.budget import CallBudget
from shelfready_core.claude.errors import CallBudgetExhausted
from shelfready_core.claude.sdk import sdk_client
from shelfready_core.claude.tooling import supports_structured_outputs
from shelfready_core.errors import InvalidInput, NotRetryable, ServiceUnavailable, StageError
from tests.fakes.anthropic_server import FAKE_API_KEY, FakeAnthropicServer, Reply, running_server

SYSTEM = "You grade things. " * 20
MESSAGES = [{"role": "user", "content": "Grade this."}]


class Verdict(BaseModel):
    """A grade for something."""

    label: str
    score: int = Field(ge=0, le=10)


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with running_server({"record_verdict": lambda request: {"label": "OK", "score": 7}}) as fake:
        yield fake


@pytest.fixture
def make_client(
    server: FakeAnthropicServer, redis_conn: redis.Redis
) -> Callable[..., ClaudeClient]:
    def make(*, timeout: float = 5.0, max_retries: int = 2, **settings: object) -> ClaudeClient:
        return ClaudeClient(
            server.settings(**settings),
            stage="test",
            model="claude-sonnet-5-5",
            timeout=timeout,
            max_retries=max_retries,
            breaker=RedisCircuitBreaker(redis_conn, "test"),
        )

    return make


def test_valid_answer_returns_the_model_and_one_usage_entry(server, make_client):
    result = make_client().structured(system=SYSTEM, messages=MESSAGES, output=Verdict)

    assert result.value == Verdict(label="OK", score=7)
    assert result.notes["repaired"] is False
    [call] = result.usage
    assert call.stage == "test" and call.model == "claude-sonnet-5-5"
    assert call.request_id == "req_fake_0001"
    assert call.output_tokens > 0 and call.cost_usd > 0
    [request] = server.requests
    body = request.body
    assert body["tools"][0]["name"] == "record_verdict"
    assert body["tools"][0]["input_schema"] == Verdict.model_json_schema()
    assert body["tool_choice"]["type"] == "tool" and body["tool_choice"]["name"] == "record_verdict"
    assert body["system"] == [
        {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    ]
    assert body["messages"] == MESSAGES


def test_invalid_answer_gets_one_repair_turn_quoting_the_errors(server, make_client):
    server.queue(Reply.answer({"label": "OK", "score": 99}))

    result = make_client().structured(system=SYSTEM, messages=MESSAGES, output=Verdict)

    assert result.value.score == 7
    assert result.notes["repaired"] is True
    assert len(result.usage) == 2 and len(server.requests) == 2
    assistant, user = server.requests[1].body["messages"][-2:]
    assert assistant["content"][0]["input"] == {"label": "OK", "score": 99}
    [tool_result] = user["content"]
    assert tool_result["type"] == "tool_result" and tool_result["is_error"] is True
    assert tool_result["tool_use_id"] == assistant["content"][0]["id"]
    assert "score: Input should be less than or equal to 10 (got 99)" in tool_result["content"]


def test_answer_still_invalid_after_repair_raises_with_the_errors(server, make_client):
    server.queue(Reply.answer({"label": "OK", "score": 99}), Reply.answer({"score": -1}))

    with pytest.raises(StructuredOutputError) as caught:
        make_client().structured(system=SYSTEM, messages=MESSAGES, output=Verdict)

    message = str(caught.value)
    assert "label: Field required" in message
    assert "score: Input should be greater than or equal to 0 (got -1)" in message
    assert caught.value.errors == [
        "label: Field required",
        "score: Input should be greater than or equal to 0 (got -1)",
    ]
    assert len(caught.value.usage) == 2 and len(server.requests) == 2
    assert isinstance(caught.value, StageError)  # the job's own retries may try again


def test_validate_callback_errors_also_get_a_repair_turn(server, make_client):
    def upper_case_label(verdict: Verdict) -> list[str]:
        return [] if verdict.label.isupper() else ["label: must be upper case"]

    server.queue(
        Reply.answer({"label": "ok", "score": 3}), Reply.answer({"label": "OK", "score": 3})
    )

    result = make_client().structured(
        system=SYSTEM, messages=MESSAGES, output=Verdict, validate=upper_case_label
    )

    assert result.value.label == "OK"
    assert "label: must be upper case" in server.requests[1].text()


def test_rate_limit_is_retried_by_the_sdk_honouring_retry_after(server, make_client):
    server.queue(Reply.rate_limited(retry_after=0.01), Reply.rate_limited(retry_after=0.01))

    result = make_client(max_retries=2).structured(system=SYSTEM, messages=MESSAGES, output=Verdict)

    assert result.value.score == 7
    assert len(server.requests) == 3
    assert [r.headers["x-stainless-retry-count"] for r in server.requests] == ["0", "1", "2"]
    assert len(result.usage) == 1  # only the answered call is paid


def test_rate_limit_outlasting_the_retries_is_a_transient_error(server, make_client):
    server.queue(*[Reply.rate_limited() for _ in range(3)])

    with pytest.raises(ClaudeTransientError) as caught:
        make_client(max_retries=2).structured(system=SYSTEM, messages=MESSAGES, output=Verdict)

    assert caught.value.status_code == 429
    assert "HTTP 429 (rate_limit_error" in str(caught.value)
    assert "after 3 attempts" in str(caught.value)
    assert len(server.requests) == 3


def test_overloaded_529_is_retried_then_reported(server, make_client):
    server.queue(Reply.overloaded())
    assert make_client().structured(system=SYSTEM, messages=MESSAGES, output=Verdict).value
    assert len(server.requests) == 2

    server.queue(Reply.overloaded(), Reply.overloaded())
    with pytest.raises(ClaudeTransientError, match=r"HTTP 529 \(overloaded_error") as caught:
        make_client(max_retries=1).structured(system=SYSTEM, messages=MESSAGES, output=Verdict)
    assert caught.value.status_code == 529
    assert len(server.requests) == 4


def test_a_server_slower_than_the_timeout_raises_claude_timeout(server, make_client):
    server.queue(Reply.slow(5.0), Reply.slow(5.0))

    with pytest.raises(ClaudeTimeout, match=r"did not answer within 0.3 s on any of 2 attempts"):
        make_client(timeout=0.3, max_retries=1).structured(
            system=SYSTEM, messages=MESSAGES, output=Verdict
        )
    assert len(server.requests) == 2


def test_refusal_raises_claude_refusal_without_retrying(server, make_client):
    server.queue(Reply.refusal("Photos of people are not products."))

    with pytest.raises(ClaudeRefusal, match="Photos of people are not products") as caught:
        make_client().structured(system=SYSTEM, messages=MESSAGES, output=Verdict)

    assert isinstance(caught.value, InvalidInput)  # the job fails at once, no retries
    assert len(server.requests) == 1
    assert len(caught.value.usage) == 1


def test_answer_cut_off_at_max_tokens_is_asked_again_with_twice_the_budget(server, make_client):
    server.queue(Reply.truncated({"label": "O"}))

    result = make_client().structured(
        system=SYSTEM, messages=MESSAGES, output=Verdict, max_tokens=300
    )

    assert result.value.score == 7
    assert [r.body["max_tokens"] for r in server.requests] == [300, 600]
    assert result.notes["max_tokens"] == 600 and len(result.usage) == 2


def test_answer_cut_off_twice_raises_naming_the_token_budget(server, make_client):
    server.queue(Reply.truncated(), Reply.truncated())

    with pytest.raises(ClaudeOutputTruncated, match="cut off at 600 output tokens"):
        make_client().structured(system=SYSTEM, messages=MESSAGES, output=Verdict, max_tokens=300)
    assert len(server.requests) == 2


@pytest.mark.parametrize(
    ("status", "error_type"),
    [(400, "invalid_request_error"), (404, "not_found_error"), (413, "request_too_large")],
)
def test_request_errors_are_not_retried_and_never_show_the_key(
    server, make_client, status, error_type
):
    server.queue(Reply.error(status, error_type, "something about the request"))

    with pytest.raises(ClaudeRequestError) as caught:
        make_client().structured(system=SYSTEM, messages=MESSAGES, output=Verdict)

    assert caught.value.status_code == status
    assert f"HTTP {status} ({error_type}" in str(caught.value)
    assert FAKE_API_KEY not in str(caught.value) and FAKE_API_KEY not in repr(caught.value)
    assert len(server.requests) == 1


@pytest.mark.parametrize("status", [401, 403])
def test_a_rejected_key_trips_the_breaker_for_everyone_and_names_the_key(
    server, status, redis_conn
):
    breaker = RedisCircuitBreaker(redis_conn, "rejected-key-test", open_seconds=60)
    client = ClaudeClient(
        server.settings(), stage="test", model="claude-sonnet-5-5", timeout=5, breaker=breaker
    )
    server.rejecting_key = status == 401
    if status == 403:
        server.queue(Reply.error(403, "permission_error", "this key may not use this model"))

    with pytest.raises(ClaudeCredentialRejected) as caught:
        client.structured(system=SYSTEM, messages=MESSAGES, output=Verdict)
    assert caught.value.cause == "ANTHROPIC_API_KEY was rejected"
    assert isinstance(caught.value, ServiceUnavailable)  # deferred, never a job retry
    assert not isinstance(caught.value, StageError)
    assert f"HTTP {status}" in str(caught.value) and FAKE_API_KEY not in str(caught.value)
    assert len(server.requests) == 1  # the SDK does not retry a rejected key
    assert breaker.cause() == "ANTHROPIC_API_KEY was rejected"

    # Every other caller sharing the breaker is refused without a call, with the cause.
    other = ClaudeClient(
        server.settings(), stage="other", model="claude-sonnet-5-5", timeout=5, breaker=breaker
    )
    with pytest.raises(ClaudeUnavailable) as refused:
        other.structured(system=SYSTEM, messages=MESSAGES, output=Verdict)
    assert refused.value.cause == "ANTHROPIC_API_KEY was rejected"
    assert "ANTHROPIC_API_KEY was rejected" in str(refused.value)
    assert len(server.requests) == 1


def test_missing_api_key_is_reported_when_the_client_is_first_used(server, monkeypatch, redis_conn):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    client = ClaudeClient(
        server.settings(anthropic_api_key=None),
        stage="test",
        model="claude-sonnet-5-5",
        timeout=5,
        redis=redis_conn,
    )
    with pytest.raises(ClaudeNotConfigured, match="ANTHROPIC_API_KEY is not set"):
        client.structured(system=SYSTEM, messages=MESSAGES, output=Verdict)
    assert server.requests == []


def test_calls_in_one_process_are_not_serialised(server, make_client):
    # No per-process limit: a work-horse runs one job, and threads sharing a client all go.
    server.queue(*[Reply.slow(0.5) for _ in range(3)])
    client = make_client()
    results: list[Verdict] = []

    def call() -> None:
        results.append(client.structured(system=SYSTEM, messages=MESSAGES, output=Verdict).value)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert len(results) == 3
    assert server.max_in_flight == 3


def test_the_sdk_client_is_made_once_per_process_and_stage(server):
    settings = server.settings()
    first = sdk_client(settings, stage="test", timeout=5.0, max_retries=2)
    assert sdk_client(settings, stage="test", timeout=5.0, max_retries=2) is first
    assert sdk_client(settings, stage="other", timeout=5.0, max_retries=2) is not first


def test_an_unreachable_api_is_a_transient_error(server, redis_conn):
    client = ClaudeClient(
        server.settings(anthropic_base_url="http://127.0.0.1:9"),  # discard port: refused
        stage="test",
        model="claude-sonnet-5-5",
        timeout=2,
        max_retries=0,
        breaker=RedisCircuitBreaker(redis_conn, "test"),
    )
    with pytest.raises(ClaudeTransientError, match="could not reach the Claude API"):
        client.structured(system=SYSTEM, messages=MESSAGES, output=Verdict)


def test_structured_outputs_send_the_schema_and_parse_the_json_answer(server, make_client):
    result = make_client().structured(
        system=SYSTEM, messages=MESSAGES, output=Verdict, structured_outputs=True
    )
    assert result.value == Verdict(label="OK", score=7)
    [request] = server.requests
    assert request.body["output_config"]["format"]["type"] == "json_schema"
    assert request.body["output_config"]["format"]["schema"]["title"] == "Verdict"
    assert "tools" not in request.body and "tool_choice" not in request.body
    [call] = result.usage
    assert call.output_tokens > 0 and call.cost_usd > 0


def test_structured_outputs_invalid_json_gets_a_repair_turn(server, make_client):
    server.queue(Reply.answer({"label": "OK", "score": 99}))
    result = make_client().structured(
        system=SYSTEM, messages=MESSAGES, output=Verdict, structured_outputs=True
    )
    assert result.value.score == 7 and result.notes["repaired"] is True
    assert len(result.usage) == 2  # the invalid answer was paid for and is counted
    repair = server.requests[1]
    assert repair.body["messages"][1]["role"] == "assistant"
    assert "score" in repair.text()


def test_a_malformed_body_is_asked_once_more(server, make_client):
    server.queue(Reply.malformed())
    result = make_client().structured(system=SYSTEM, messages=MESSAGES, output=Verdict)
    assert result.value.label == "OK" and len(server.requests) == 2
    garbled, answered = result.usage
    assert garbled.request_id and garbled.input_tokens == 0 and answered.output_tokens > 0


def test_two_malformed_bodies_are_a_transient_failure_with_their_calls_counted(server, make_client):
    server.queue(Reply.malformed(), Reply.malformed())
    with pytest.raises(ClaudeTransientError, match="malformed body") as info:
        make_client().structured(system=SYSTEM, messages=MESSAGES, output=Verdict)
    assert isinstance(info.value, StageError)
    assert len(info.value.usage) == 2 and all(c.input_tokens == 0 for c in info.value.usage)


def test_a_dropped_connection_is_retried_by_the_sdk(server, make_client):
    server.queue(Reply.dropped(0.05))
    result = make_client(max_retries=1).structured(system=SYSTEM, messages=MESSAGES, output=Verdict)
    assert result.value.label == "OK" and len(server.requests) == 2


def test_the_call_budget_counts_answers_not_rejections_and_then_refuses(
    server, make_client, redis_conn
):
    budget = CallBudget(redis_conn, stage="test", workflow_id="wf-1", limit=2)
    client = make_client(max_retries=0)
    server.queue(Reply.rate_limited())
    with pytest.raises(ClaudeTransientError):
        client.structured(system=SYSTEM, messages=MESSAGES, output=Verdict, budget=budget)
    assert budget.used() == 0  # a 429 is not billed
    client.structured(system=SYSTEM, messages=MESSAGES, output=Verdict, budget=budget)
    client.structured(system=SYSTEM, messages=MESSAGES, output=Verdict, budget=budget)
    assert budget.used() == 2
    sent = len(server.requests)
    with pytest.raises(CallBudgetExhausted) as info:
        client.structured(system=SYSTEM, messages=MESSAGES, output=Verdict, budget=budget)
    assert isinstance(info.value, NotRetryable) and len(server.requests) == sent
    # Another client (a retried job in a new process) sees the same count.
    again = CallBudget(redis_conn, stage="test", workflow_id="wf-1", limit=2)
    assert again.remaining() == 0


def test_models_that_support_structured_outputs() -> None:
    assert supports_structured_outputs("claude-sonnet-5-5")
    assert supports_structured_outputs("claude-sonnet-4-5-20250929")
    assert supports_structured_outputs("claude-haiku-4-5")
    assert not supports_structured_outputs("claude-3-5-sonnet-20241022")
    assert not supports_structured_outputs("claude-sonnet-4-20250514")
