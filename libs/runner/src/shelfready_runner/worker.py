"""Running workers: one RQ worker pool per installed stage (or one pool for all their queues).

Each pool process forks `concurrency` worker processes, which fork a work-horse per job, so a
crashed or timed-out job never takes the worker down. The pool's own process also looks for
stuck workflows now and then (one pool at a time, via a Redis lock).
"""

from __future__ import annotations

import gc
import logging
import time
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.worker_pool import WorkerPool

from shelfready_core.config import Settings
from shelfready_core.metrics import prepare_multiprocess_dir
from shelfready_core.migrate import register_installed_stages
from shelfready_core.outages import one_sentence, outage_of
from shelfready_core.reconcile import reconcile_once_among_workers
from shelfready_core.retention import prune_daily_among_workers
from shelfready_core.stages import Stage
from shelfready_runner.diagnose import announce_pool
from shelfready_runner.health import serve_health_from_env
from shelfready_runner.prefork import warm_up_before_fork
from shelfready_runner.rq_worker import FallbackScheduler, ShelfReadyWorker
from shelfready_runner.stage_select import load_stage, queue_names

log = logging.getLogger(__name__)


class ReconcilingWorkerPool(WorkerPool):
    """RQ's worker pool, plus sweeps in the pool process: abandoned jobs and due retries every
    heartbeat interval, stuck workflows every SHELFREADY_RECONCILE_INTERVAL seconds."""

    def __init__(self, *args: Any, settings: Settings, stages: list[Stage], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._settings = settings
        self._stages = stages
        self._next_sweep = 0.0
        self._next_abandoned_sweep = 0.0
        self._fallback_scheduler = FallbackScheduler(
            self.connection, queue_names(stages), settings.heartbeat_grace
        )

    def check_workers(self, respawn: bool = True) -> None:
        super().check_workers(respawn=respawn)
        now = time.monotonic()
        if now >= self._next_abandoned_sweep:
            # Cheap (one sorted-set range per queue), so as often as heartbeats are due: a
            # killed container's job is back within interval + grace, not a sweep period later.
            self._next_abandoned_sweep = now + self._settings.job_monitoring_interval
            try:
                recovered = requeue_abandoned(self.connection, self._stages)
                if recovered:
                    log.warning("requeued %d job(s) abandoned by a stopped worker", recovered)
                self._fallback_scheduler.run_once()  # retries due while no scheduler runs
                names = [stage.name for stage in self._stages]
                announce_pool(self._settings, self.connection, names)  # for diagnose
            except Exception as exc:  # Redis may be briefly away; the next sweep retries
                log.warning("abandoned-job sweep failed: %s", _sentence(exc))
        if now >= self._next_sweep:
            interval = self._settings.reconcile_interval
            self._next_sweep = now + interval
            try:
                reconcile_once_among_workers(self._settings, self.connection, interval)
            except Exception as exc:  # the database may be briefly away; the next sweep retries
                if outage_of(exc) is None:
                    log.exception("reconcile sweep failed")
                else:
                    log.warning("reconcile sweep skipped: %s", _sentence(exc))
            try:
                prune_daily_among_workers(self._settings, self.connection)
            except Exception:
                log.exception("retention prune failed")


def _sentence(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {one_sentence(exc)}"


def requeue_abandoned(connection: Redis, stages: list[Stage]) -> int:
    """Give jobs left behind by a killed container back to their queue (or to retry)."""
    count = 0
    for name in queue_names(stages):
        registry = Queue(name, connection=connection).started_job_registry
        expired = len(registry.get_expired_job_ids())  # missed heartbeat + grace
        if expired:
            registry.cleanup()
            count += expired
    return count


def _register(settings: Settings) -> None:
    """Record this image's stages for the images that do not install them (pre-deploy's
    `shelfready migrate` does it too); a database away now does not keep the pool down."""
    try:
        register_installed_stages(settings)
    except Exception as exc:
        if outage_of(exc) is None:
            raise
        log.warning("could not register this image's stages yet: %s", _sentence(exc))


def share_with_forks() -> None:
    """Keep what the pool imported out of every later collection. A full collection in a
    work-horse would otherwise walk, and write to (unsharing their memory pages), every object
    the pool imported: about 207,000 for core and RQ, 361,000 with the Anthropic SDK. Python's
    gc docs advise this for processes that fork without exec; the caller disabled collection
    before importing."""
    gc.freeze()
    gc.enable()


def run_workers(
    settings: Settings,
    redis: Redis,
    stages: list[Stage],
    *,
    concurrency: int,
    burst: bool = False,
    worker_class: type[Worker] = ShelfReadyWorker,
) -> None:
    prepare_multiprocess_dir()  # before anything forks or records a metric
    for stage in stages:
        load_stage(stage)
    warm_up_before_fork(settings, stages, redis)
    _register(settings)
    recovered = requeue_abandoned(redis, stages)
    if recovered:
        log.warning("requeued %d job(s) abandoned by a stopped worker", recovered)
    names = queue_names(stages)
    log.info("starting %d worker(s) on %s", concurrency, ", ".join(names))
    pool = ReconcilingWorkerPool(
        names,
        connection=redis,
        num_workers=concurrency,
        worker_class=worker_class,
        settings=settings,
        stages=stages,
    )
    # Started before the fork so it lives in the pool's own process; only when $PORT is set.
    health_server = serve_health_from_env(settings, stages)
    share_with_forks()
    try:
        pool.start(burst=burst, logging_level=settings.log_level)
    finally:
        if health_server is not None:
            health_server.shutdown()
    log.info("all workers stopped")
