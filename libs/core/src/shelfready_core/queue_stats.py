"""Queue depth and workers per stage queue, for `shelfready queues`."""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from rq import Queue, Worker

from shelfready_core import defaults


@dataclass(frozen=True)
class QueueStats:
    name: str
    waiting: int
    running: int
    failed: int
    deferred: int
    scheduled: int
    workers: int


def queue_stats(connection: Redis) -> list[QueueStats]:
    rows = []
    for policy in defaults.QUEUE_POLICIES.values():
        queue = Queue(policy.name, connection=connection)
        rows.append(
            QueueStats(
                name=policy.name,
                waiting=queue.count,
                running=queue.started_job_registry.count,
                failed=queue.failed_job_registry.count,
                deferred=queue.deferred_job_registry.count,
                scheduled=queue.scheduled_job_registry.count,
                workers=Worker.count(queue=queue),
            )
        )
    return rows
