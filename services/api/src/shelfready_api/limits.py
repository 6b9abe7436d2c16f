"""Bounding what callers can queue: a per-key rate limit and a cap on the first stage's backlog.

Both answer 429 with Retry-After. The rate limit is a fixed one-minute window counted in
Redis, so every API process shares it.
"""

from __future__ import annotations

import logging
import time

from fastapi import HTTPException, status

from shelfready_api.deps import CurrentCaller, State
from shelfready_core.queues import queue_for
from shelfready_core.stages import pipeline

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60
QUEUE_FULL_RETRY_SECONDS = 30
RATE_KEY = "shelfready:rate:{owner}:{window}"
ANONYMOUS = "-"  # the one caller of a deployment without keys


def _too_many(detail: str, retry_after: int) -> HTTPException:
    return HTTPException(
        status.HTTP_429_TOO_MANY_REQUESTS, detail, headers={"Retry-After": str(retry_after)}
    )


def submission_allowed(state: State, caller: CurrentCaller) -> None:
    """Dependency of every route that starts workflows (their first stage's queue fills)."""
    settings = state.settings
    cap = settings.max_intake_queue
    first = pipeline().first
    if cap and queue_for(first.name, state.redis).count >= cap:
        log.warning("refused a submission: %d %s jobs are waiting", cap, first.name)
        raise _too_many(
            f"the {first.name} queue is full ({cap} photos waiting); try again shortly",
            QUEUE_FULL_RETRY_SECONDS,
        )
    limit = settings.rate_limit_per_minute
    if not limit:
        return
    now = int(time.time())
    window = now // WINDOW_SECONDS
    key = RATE_KEY.format(owner=caller.owner or ANONYMOUS, window=window)
    pipe = state.redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, WINDOW_SECONDS * 2)
    count = int(pipe.execute()[0])
    if count > limit:
        retry_after = (window + 1) * WINDOW_SECONDS - now
        raise _too_many(
            f"more than {limit} submissions in a minute for this API key; "
            f"try again in {retry_after} s",
            max(retry_after, 1),
        )
