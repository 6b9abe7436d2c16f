"""Queue depth and workers per installed stage's queue, for `shelfready queues`."""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis
from rq import Queue, Worker

from shelfready_core.stages import pipeline


@dataclass(frozen=True)
class QueueStats:
    name: str
    stage: str
    waiting: int
    running: int
    failed: int
    deferred: int
    scheduled: int
    workers: int


def queue_stats(connection: Redis) -> list[QueueStats]:
    rows = []
    for stage in pipeline():
        queue = Queue(stage.queue.name, connection=connection)
        rows.append(
            QueueStats(
                name=stage.queue.name,
                stage=stage.name,
                waiting=queue.count,
                running=queue.started_job_registry.count,
                failed=queue.failed_job_registry.count,
                deferred=queue.deferred_job_registry.count,
                scheduled=queue.scheduled_job_registry.count,
                workers=Worker.count(queue=queue),
            )
        )
    return rows
