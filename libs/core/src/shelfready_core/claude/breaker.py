"""A circuit breaker for the Claude API, shared by every worker of every service through Redis.

Closed: calls go through; each API failure increments a counter, each success resets it.
Open: after `failure_threshold` consecutive failures, calls are refused for `open_seconds`.
Half-open: when the open period ends, exactly one caller (SET NX) makes a trial call;
its success closes the breaker, its failure opens it again.
Tripped: a failure that is certain at once (the API rejected our key) opens it immediately,
with a cause ("ANTHROPIC_API_KEY was rejected") that callers and the health check report.

Only plain commands (GET, SET NX EX, INCR, EXPIRE, DEL, PTTL) so fakeredis can stand in.
Without Redis the same logic runs in-process, shared by the clients of one process.
"""

from __future__ import annotations

import logging
import threading
import time
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


class LocalCircuitBreaker:
    """The same state machine in process memory, for when there is no Redis."""

    def __init__(
        self,
        name: str = "anthropic",
        *,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        open_seconds: float = DEFAULT_OPEN_SECONDS,
        trial_seconds: float = DEFAULT_TRIAL_SECONDS,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.open_seconds = open_seconds
        self.trial_seconds = trial_seconds
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until = 0.0
        self._trial_until = 0.0
        self._cause: str | None = None

    def admit(self) -> Admission:
        with self._lock:
            now = time.monotonic()
            if now < self._open_until:
                raise BreakerOpen(self.name, self._open_until - now, self._cause)
            if self._failures < self.failure_threshold:
                return "closed"
            if now >= self._trial_until:
                self._trial_until = now + self.trial_seconds
                logger.info("circuit breaker %s half-open: making a trial call", self.name)
                return "trial"
            raise BreakerOpen(
                self.name, min(self._trial_until - now, self.open_seconds), self._cause
            )

    def cause(self) -> str | None:
        with self._lock:
            return self._cause

    def trip(self, cause: str) -> None:
        with self._lock:
            self._failures = max(self._failures, self.failure_threshold)
            self._open_until = time.monotonic() + self.open_seconds
            self._trial_until = 0.0
            self._cause = cause
        logger.warning(
            "circuit breaker %s open for %.0f s: %s", self.name, self.open_seconds, cause
        )

    def record_success(self) -> None:
        with self._lock:
            if self._failures >= self.failure_threshold:
                logger.info("circuit breaker %s closed: the API answered again", self.name)
            self._cause = None
            self._failures = 0
            self._open_until = 0.0
            self._trial_until = 0.0

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._open_until = time.monotonic() + self.open_seconds
                self._trial_until = 0.0
                logger.warning(
                    "circuit breaker %s open for %.0f s after %s consecutive API failures",
                    self.name,
                    self.open_seconds,
                    self._failures,
                )


_local_breakers: dict[str, LocalCircuitBreaker] = {}
_local_lock = threading.Lock()


def make_breaker(
    name: str = "anthropic",
    conn: redis.Redis | None = None,
    *,
    failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
    open_seconds: float = DEFAULT_OPEN_SECONDS,
) -> CircuitBreaker:
    """The Redis breaker when there is a connection, else this process's in-memory one."""
    if conn is not None:
        return RedisCircuitBreaker(
            conn, name, failure_threshold=failure_threshold, open_seconds=open_seconds
        )
    with _local_lock:
        breaker = _local_breakers.get(name)
        if breaker is None:
            breaker = LocalCircuitBreaker(
                name, failure_threshold=failure_threshold, open_seconds=open_seconds
            )
            _local_breakers[name] = breaker
        return breaker
