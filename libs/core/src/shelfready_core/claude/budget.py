"""A per-stage cap on paid Messages calls that holds across every attempt of the stage's job.

The count lives in Redis (one key per workflow and stage), so an RQ retry, a re-delivery or a
worker restart continues from the calls already made instead of starting a fresh allowance.
A call counts when the API answered it (a Message, valid or not, malformed or not) or timed
out (it may have been processed and billed); rate-limit and 5xx rejections are not billed and
are bounded by the SDK's and the queue's retries and the shared circuit breaker instead.
"""

from __future__ import annotations

import redis

from shelfready_core.claude.errors import CallBudgetExhausted

KEY_TTL_SECONDS = 7 * 24 * 3600  # longer than any workflow stays in flight


class CallBudget:
    """`limit` Messages calls for one stage of one workflow."""

    def __init__(self, connection: redis.Redis, *, stage: str, workflow_id: str, limit: int):
        self.redis = connection
        self.stage = stage
        self.limit = limit
        self.key = f"shelfready:calls:{workflow_id}:{stage}"

    def used(self) -> int:
        return int(self.redis.get(self.key) or 0)

    def remaining(self) -> int:
        return max(0, self.limit - self.used())

    def check(self) -> None:
        """Raise CallBudgetExhausted when no call is left (before making one)."""
        used = self.used()
        if used >= self.limit:
            raise CallBudgetExhausted(
                f"{self.stage}: the call budget of {self.limit} Messages calls is spent "
                f"({used} made across all attempts); not calling Claude again"
            )

    def spend(self) -> int:
        """Count one call; returns the calls made so far."""
        pipe = self.redis.pipeline()
        pipe.incr(self.key)
        pipe.expire(self.key, KEY_TTL_SECONDS)
        count, _ = pipe.execute()
        return int(count)
