"""The Claude circuit breaker: its state machine, and ClaudeClient under a sustained outage."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import fakeredis
import pytest
import redis
from pydantic import BaseModel

from shelfready_core.claude import (
    ClaudeClient,
    ClaudeRefusal,
    ClaudeTransientError,
    ClaudeUnavailable,
    RedisCircuitBreaker,
    StructuredOutputError,
)
from shelfready_core.claude.breaker import BreakerOpen, CircuitBreaker
from shelfready_core.errors import ServiceUnavailable
from tests.fakes.anthropic_server import FakeAnthropicServer, Reply, running_server

OPEN_SECONDS = 0.3
MESSAGES = [{"role": "user", "content": "Grade this."}]


class Verdict(BaseModel):
    label: str


BreakerFactory = Callable[..., CircuitBreaker]


@pytest.fixture(params=["redis", "fakeredis"])
def make_breaker(request: pytest.FixtureRequest) -> BreakerFactory:
    """The same tests on real Redis and on fakeredis (what demo mode runs on)."""
    if request.param == "redis":
        conn = request.getfixturevalue("redis_conn")
    else:
        conn = fakeredis.FakeRedis()
    return lambda **kw: RedisCircuitBreaker(conn, "test", **kw)


def test_opens_after_the_threshold_of_consecutive_failures(make_breaker):
    breaker = make_breaker(failure_threshold=5, open_seconds=60)
    for _ in range(4):
        breaker.record_failure()
    assert breaker.admit() == "closed"

    breaker.record_failure()

    with pytest.raises(BreakerOpen) as caught:
        breaker.admit()
    assert 0 < caught.value.retry_after_seconds <= 60


def test_a_trip_opens_at_once_with_its_cause_until_a_trial_succeeds(make_breaker):
    breaker = make_breaker(failure_threshold=5, open_seconds=OPEN_SECONDS)
    assert breaker.cause() is None

    breaker.trip("ANTHROPIC_API_KEY was rejected")

    with pytest.raises(BreakerOpen) as caught:
        breaker.admit()
    assert caught.value.cause == "ANTHROPIC_API_KEY was rejected"
    assert "ANTHROPIC_API_KEY was rejected" in str(caught.value)
    time.sleep(OPEN_SECONDS + 0.05)
    assert breaker.admit() == "trial"
    assert breaker.cause() == "ANTHROPIC_API_KEY was rejected"  # not known to be fixed yet
    breaker.record_success()
    assert breaker.cause() is None
    assert breaker.admit() == "closed"


def test_a_success_resets_the_count(make_breaker):
    breaker = make_breaker(failure_threshold=5, open_seconds=60)
    for _ in range(4):
        breaker.record_failure()
    breaker.record_success()
    for _ in range(4):
        breaker.record_failure()
    assert breaker.admit() == "closed"


def test_half_open_allows_one_trial_and_its_success_closes(make_breaker):
    breaker = make_breaker(failure_threshold=2, open_seconds=OPEN_SECONDS)
    breaker.record_failure()
    breaker.record_failure()
    time.sleep(OPEN_SECONDS + 0.1)

    assert breaker.admit() == "trial"
    with pytest.raises(BreakerOpen):
        breaker.admit()  # a second caller waits for the trial's outcome
    breaker.record_success()
    assert breaker.admit() == "closed"
    assert breaker.admit() == "closed"


def test_a_failed_trial_opens_the_breaker_again(make_breaker):
    breaker = make_breaker(failure_threshold=2, open_seconds=OPEN_SECONDS)
    breaker.record_failure()
    breaker.record_failure()
    time.sleep(OPEN_SECONDS + 0.1)
    assert breaker.admit() == "trial"

    breaker.record_failure()

    with pytest.raises(BreakerOpen):
        breaker.admit()


# -- ClaudeClient with a breaker --


@pytest.fixture
def server() -> Iterator[FakeAnthropicServer]:
    with running_server({"record_verdict": lambda request: {"label": "fine"}}) as fake:
        yield fake


def _client(server: FakeAnthropicServer, breaker: CircuitBreaker) -> ClaudeClient:
    return ClaudeClient(
        server.settings(),
        stage="test",
        model="claude-sonnet-5-5",
        timeout=5,
        max_retries=0,
        breaker=breaker,
    )


def _ask(client: ClaudeClient) -> Verdict:
    return client.structured(system="Grade.", messages=MESSAGES, output=Verdict).value


def test_sustained_outage_opens_the_breaker_and_later_it_closes(server, redis_conn):
    client = _client(server, RedisCircuitBreaker(redis_conn, open_seconds=OPEN_SECONDS))
    server.queue(*[Reply.overloaded() for _ in range(50)])

    for _ in range(5):
        with pytest.raises(ClaudeTransientError):
            _ask(client)
    for _ in range(10):
        with pytest.raises(ClaudeUnavailable) as caught:
            _ask(client)
    assert len(server.requests) == 5  # refused calls never reached the API
    assert 0 < caught.value.retry_after_seconds <= OPEN_SECONDS
    assert isinstance(caught.value, ServiceUnavailable)  # the job defers instead of failing

    time.sleep(OPEN_SECONDS + 0.1)
    with pytest.raises(ClaudeTransientError):
        _ask(client)  # the half-open trial call fails: open again
    with pytest.raises(ClaudeUnavailable):
        _ask(client)
    assert len(server.requests) == 6

    server.clear_script()  # the API recovers
    time.sleep(OPEN_SECONDS + 0.1)
    assert _ask(client).label == "fine"
    assert _ask(client).label == "fine"
    assert len(server.requests) == 8


def test_breaker_state_is_shared_by_clients_through_redis(server, redis_url):
    first_conn, second_conn = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    first = _client(server, RedisCircuitBreaker(first_conn))
    second = _client(server, RedisCircuitBreaker(second_conn))
    server.queue(*[Reply.server_error() for _ in range(5)])

    for _ in range(5):
        with pytest.raises(ClaudeTransientError):
            _ask(first)
    with pytest.raises(ClaudeUnavailable) as caught:
        _ask(second)

    assert len(server.requests) == 5
    assert 55 < caught.value.retry_after_seconds <= 60  # the default open period
    assert second_conn.exists("shelfready:breaker:anthropic:open")
    first_conn.close()
    second_conn.close()


def test_a_client_without_redis_or_a_breaker_is_refused(server):
    with pytest.raises(TypeError, match="needs `redis`"):
        ClaudeClient(server.settings(), stage="test", model="m", timeout=5)


def test_client_uses_the_redis_breaker_when_given_a_connection(server, redis_conn):
    client = ClaudeClient(
        server.settings(), stage="test", model="m", timeout=5, max_retries=0, redis=redis_conn
    )
    server.queue(Reply.overloaded())
    with pytest.raises(ClaudeTransientError):
        _ask(client)
    assert redis_conn.get("shelfready:breaker:anthropic:failures") == b"1"

    assert _ask(client).label == "fine"
    assert redis_conn.get("shelfready:breaker:anthropic:failures") is None


def test_invalid_answers_and_refusals_are_not_api_failures(server, redis_conn):
    client = _client(server, RedisCircuitBreaker(redis_conn, "test", failure_threshold=2))
    server.queue(Reply.answer({}), Reply.answer({}), Reply.answer({}), Reply.answer({}))
    for _ in range(2):
        with pytest.raises(StructuredOutputError):
            _ask(client)
    server.queue(Reply.refusal(), Reply.refusal())
    for _ in range(2):
        with pytest.raises(ClaudeRefusal):
            _ask(client)

    assert _ask(client).label == "fine"
    assert len(server.requests) == 7
