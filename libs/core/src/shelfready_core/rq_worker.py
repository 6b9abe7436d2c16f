"""ShelfReady's RQ worker class: RQ's forking Worker with tunable abandonment detection."""

from __future__ import annotations

from typing import Any

from rq import Worker
from rq.job import Job

from shelfready_core.config import get_settings


class ShelfReadyWorker(Worker):
    """A job whose worker stops heart-beating for `heartbeat_grace` seconds is abandoned and
    requeued by the next registry clean-up; RQ hard-codes that margin at 60 s."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = get_settings()
        kwargs.setdefault("job_monitoring_interval", settings.job_monitoring_interval)
        super().__init__(*args, **kwargs)
        self.heartbeat_grace = settings.heartbeat_grace

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = min(interval, max(1, int(job.timeout - working_time)))
        return int(interval) + self.heartbeat_grace
