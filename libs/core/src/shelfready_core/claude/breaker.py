"""A circuit breaker for the Claude API, shared by every worker of every service through Redis.

Closed: calls go through; each API failure increments a counter, each success resets it.
Open: after `failure_threshold` consecutive failures, calls are refused for `open_seconds`.
Half-open: when the open period ends, exactly one caller (SET NX) makes a trial call;
its success closes the breaker, its failure opens it again.
Tripped: a failure that is certain at once (the API rejected our key) opens it immediately,
with a cause ("ANTHROPIC_API_KEY was rejected") that callers and the health check report.

Only plain commands (GET, SET NX EX, INCR, EXPIRE, DEL, PTTL) so fakeredis can stand in
(demo mode). There is no in-process variant: every process of ours has Redis, and a breaker
that one worker alone sees open would not spare the API.
"""

from __future__ import annotations

import logging
import uuid
from typing import Literal, Protocol

import redis

logger = logging.getLogger(__name__)

KEY_PREFIX = "shelfready:breaker"
DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_OPEN_SECONDS = 60.0
# A trial call holds the half-open slot at most this long (a crashed caller must not wedge it).
DEFAULT_TRIAL_SECONDS = 120.0
# Failures older than this no longer count as "consecutive" with new ones.
DEFAULT_FAILURE_WINDOW_SECONDS = 600.0

Admission = Literal["closed", "trial"]


class BreakerOpen(Exception):
    """Raised by `admit` when no call may be made now."""

    def __init__(self, name: str, retry_after_seconds: float, cause: str | None = None) -> None:
        because = f" ({cause})" if cause else ""
        super().__init__(
            f"circuit breaker {name} is open{because}; retry in {retry_after_seconds:.1f} s"
        )
        self.name = name
        self.retry_after_seconds = retry_after_seconds
        self.cause = cause


class CircuitBreaker(Protocol):
    name: str

    def admit(self) -> Admission:
        """Allow a call ("closed" or "trial") or raise BreakerOpen."""
        ...

    def record_success(self) -> None: ...

    def record_failure(self) -> None: ...

    def trip(self, cause: str) -> None:
        """Open now, for the open period, because of `cause` (no threshold to reach)."""
        ...

    def cause(self) -> str | None:
        """Why the breaker was tripped, while it is open or awaiting a successful trial."""
        ...


class RedisCircuitBreaker:
    """The breaker state lives in Redis under `shelfready:breaker:<name>:*`."""

    def __init__(
        self,
        conn: redis.Redis,
        name: str = "anthropic",
        *,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        open_seconds: float = DEFAULT_OPEN_SECONDS,
        trial_seconds: float = DEFAULT_TRIAL_SECONDS,
        failure_window_seconds: float = DEFAULT_FAILURE_WINDOW_SECONDS,
    ) -> None:
        self.conn = conn
        self.name = name
        self.failure_threshold = failure_threshold
        self.open_ms = int(open_seconds * 1000)
        self.trial_ms = int(trial_seconds * 1000)
        self.window_ms = int(max(failure_window_seconds, open_seconds * 2) * 1000)
        base = f"{KEY_PREFIX}:{name}"
        self.failures_key = f"{base}:failures"
        self.open_key = f"{base}:open"
        self.trial_key = f"{base}:trial"
        self.cause_key = f"{base}:cause"

    def admit(self) -> Admission:
        pipe = self.conn.pipeline(transaction=False)
        pipe.pttl(self.open_key)
        pipe.get(self.failures_key)
        pipe.get(self.cause_key)
        open_ttl_ms, failures, cause = pipe.execute()
        cause = cause.decode() if cause else None
        if open_ttl_ms and open_ttl_ms > 0:
            raise BreakerOpen(self.name, open_ttl_ms / 1000, cause)
        if int(failures or 0) < self.failure_threshold:
            return "closed"
        # Half-open: the first caller to take the trial slot makes the one trial call.
        if self.conn.set(self.trial_key, uuid.uuid4().hex, nx=True, px=self.trial_ms):
            logger.info("circuit breaker %s half-open: making a trial call", self.name)
            return "trial"
        trial_ttl_ms = self.conn.pttl(self.trial_key)
        wait_ms = min(trial_ttl_ms, self.open_ms) if trial_ttl_ms > 0 else self.open_ms
        raise BreakerOpen(self.name, max(wait_ms, 1) / 1000, cause)

    def cause(self) -> str | None:
        value = self.conn.get(self.cause_key)
        return value.decode() if isinstance(value, bytes) else value

    def trip(self, cause: str) -> None:
        pipe = self.conn.pipeline(transaction=True)
        pipe.set(self.failures_key, self.failure_threshold, px=self.window_ms)
        pipe.set(self.open_key, self.failure_threshold, px=self.open_ms)
        # Kept past the open period: the trial call that follows either clears it or re-trips.
        pipe.set(self.cause_key, cause, px=self.open_ms + self.trial_ms)
        pipe.delete(self.trial_key)
        pipe.execute()
        logger.warning(
            "circuit breaker %s open for %.0f s: %s", self.name, self.open_ms / 1000, cause
        )

    def record_success(self) -> None:
        pipe = self.conn.pipeline(transaction=True)
        pipe.get(self.failures_key)
        pipe.delete(self.failures_key, self.open_key, self.trial_key, self.cause_key)
        failures = pipe.execute()[0]
        if failures is not None and int(failures) >= self.failure_threshold:
            logger.info("circuit breaker %s closed: the API answered again", self.name)

    def record_failure(self) -> None:
        pipe = self.conn.pipeline(transaction=True)
        pipe.incr(self.failures_key)
        pipe.pexpire(self.failures_key, self.window_ms)
        failures = int(pipe.execute()[0])
        if failures >= self.failure_threshold:
            pipe = self.conn.pipeline(transaction=True)
            pipe.set(self.open_key, failures, px=self.open_ms)
            pipe.delete(self.trial_key)
            pipe.execute()
            logger.warning(
                "circuit breaker %s open for %.0f s after %s consecutive API failures",
                self.name,
                self.open_ms / 1000,
                failures,
            )


def make_breaker(
    name: str,
    conn: redis.Redis,
    *,
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
    open_seconds: float = DEFAULT_OPEN_SECONDS,
) -> CircuitBreaker:
    """The breaker `name`, shared through Redis by every worker of every service."""
    return RedisCircuitBreaker(
        conn, name, failure_threshold=failure_threshold, open_seconds=open_seconds
    )
