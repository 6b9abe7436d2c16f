"""Prometheus metrics: what the jobs did (counted where they run) and what the system holds now
(read from Redis and the database when scraped).

RQ forks a work-horse per job, so job metrics use prometheus_client's multiprocess mode: each
process writes its values to a memory-mapped file under PROMETHEUS_MULTIPROC_DIR and a scrape
sums the files. The horses of one RQ worker run one at a time, so they share that worker's
file (an identifier per worker, not per pid); otherwise every job would leave a file behind
and scrapes would slow down as files pile up.

Metric objects are created on first use, never at import: a value created in a worker before
it forks would be copied into every horse with a stale in-memory total.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from functools import cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.metrics_core import Metric
    from redis import Redis

    from shelfready_core.config import Settings
    from shelfready_core.schemas import CallUsage

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Set by each RQ worker process: its horses write to the file of this identifier.
WORKER_ID_ENV = "SHELFREADY_METRICS_WORKER"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Stage jobs take from a second (a model call) to minutes (rendering a set of images).
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120, 300, 600)
BREAKER_STATES = ("closed", "half_open", "open")
PREFIX = "shelfready"

F = TypeVar("F", bound=Callable[..., Any])


# --- set-up -------------------------------------------------------------------------------


def prepare_multiprocess_dir() -> Path:
    """Make sure PROMETHEUS_MULTIPROC_DIR names an empty folder before any process writes.

    Call in a worker pool before it forks. An unset variable gets a fresh temporary folder;
    a set one is emptied (values of a previous run would otherwise be counted again).
    """
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        folder = Path(configured)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink(missing_ok=True)
    else:
        folder = Path(tempfile.mkdtemp(prefix="shelfready-metrics-"))
        os.environ[MULTIPROC_ENV] = str(folder)
    return folder


def mark_worker_process() -> None:
    """Called in each RQ worker process: its horses share its metrics file."""
    os.environ[WORKER_ID_ENV] = str(os.getpid())


def _process_identifier() -> str:
    worker = os.environ.get(WORKER_ID_ENV)
    pid = os.getpid()
    if worker and worker != str(pid):
        return f"horse{worker}"  # a work-horse: one at a time per worker
    return str(pid)


@cache
def _job_registry() -> CollectorRegistry:
    """Where the job metrics live in a single process; in multiprocess mode, the files."""
    from prometheus_client import CollectorRegistry

    return CollectorRegistry()


@cache
def _metrics() -> dict[str, Any]:
    from prometheus_client import Counter, Histogram, values

    if os.environ.get(MULTIPROC_ENV):
        values.ValueClass = values.MultiProcessValue(  # type: ignore[no-untyped-call]
            process_identifier=_process_identifier
        )
    registry = _job_registry()
    return {
        "job_duration": Histogram(
            f"{PREFIX}_job_duration_seconds",
            "Time a stage job took, by stage and outcome",
            ["stage", "outcome"],
            buckets=DURATION_BUCKETS,
            registry=registry,
        ),
        "retries": Counter(
            f"{PREFIX}_job_retries",
            "Stage attempts that failed and were scheduled to run again",
            ["stage"],
            registry=registry,
        ),
        "deferrals": Counter(
            f"{PREFIX}_job_deferrals",
            "Stage jobs put off because a service they need was down (circuit open)",
            ["stage"],
            registry=registry,
        ),
        "failures": Counter(
            f"{PREFIX}_workflow_failures",
            "Workflows marked FAILED, by the stage that failed",
            ["stage"],
            registry=registry,
        ),
        "tokens": Counter(
            f"{PREFIX}_claude_tokens",
            "Claude tokens paid for, by stage, model and kind (input, output, cache_read, ...)",
            ["stage", "model", "kind"],
            registry=registry,
        ),
        "cost": Counter(
            f"{PREFIX}_claude_cost_usd",
            "Claude spend in US dollars, by stage and model",
            ["stage", "model"],
            registry=registry,
        ),
        "calls": Counter(
            f"{PREFIX}_claude_calls",
            "Claude API calls made, by stage and model",
            ["stage", "model"],
            registry=registry,
        ),
    }


# --- what jobs record ---------------------------------------------------------------------


def _safely(record: Callable[[], None]) -> None:
    """A metrics problem must never fail a job."""
    try:
        record()
    except Exception:
        log.debug("could not record a metric", exc_info=True)


def stage_outcome(result: Any) -> str:
    """The outcome label of a stage's return value (see stage.run_stage)."""
    if result == "deferred" or type(result).__name__ == "Retry":  # rq.Retry: put off
        return "deferred"
    if isinstance(result, str) and result.startswith("workflow "):
        return "skipped"  # a redundant delivery: "workflow is already ...", "... is at ..."
    return "ok"


def error_outcome(exc: BaseException) -> str:
    from shelfready_core.errors import InvalidInput

    return "invalid_input" if isinstance(exc, InvalidInput) else "error"


def observed_stage(run: F) -> F:
    """Wraps `run_stage(service, workflow_id, body)`: times it by outcome and binds the
    workflow and stage to every log line it writes."""
    from shelfready_core.logs import log_context

    @wraps(run)
    def wrapper(service: str, workflow_id: str, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        outcome = "error"
        try:
            with log_context(service=service, workflow_id=workflow_id):
                result = run(service, workflow_id, *args, **kwargs)
            outcome = stage_outcome(result)
            return result
        except BaseException as exc:
            outcome = error_outcome(exc)
            raise
        finally:
            elapsed = time.perf_counter() - started
            _safely(lambda: _metrics()["job_duration"].labels(service, outcome).observe(elapsed))

    return wrapper  # type: ignore[return-value]


def count_retry(stage: str) -> None:
    _safely(lambda: _metrics()["retries"].labels(stage).inc())


def count_deferral(stage: str) -> None:
    _safely(lambda: _metrics()["deferrals"].labels(stage).inc())


def count_failure(stage: str) -> None:
    _safely(lambda: _metrics()["failures"].labels(stage).inc())


def count_usage(usage: Iterable[CallUsage]) -> None:
    def record() -> None:
        metrics = _metrics()
        for call in usage:
            metrics["calls"].labels(call.stage, call.model).inc()
            metrics["cost"].labels(call.stage, call.model).inc(max(call.cost_usd, 0.0))
            for kind in ("input", "output", "cache_read", "cache_write"):
                tokens = getattr(call, f"{kind}_tokens", 0) or 0
                if tokens:
                    metrics["tokens"].labels(call.stage, call.model, kind).inc(tokens)

    _safely(record)


# --- what a scrape reads ------------------------------------------------------------------


class StateCollector:
    """Queue depth and oldest job age per queue, workers per queue, breaker state, workflows by
    status and image sets by verdict: read from Redis and the database at scrape time."""

    def __init__(self, settings: Settings, redis: Redis | None) -> None:
        self._settings = settings
        self._redis = redis

    def describe(self) -> list[Metric]:
        return []  # collected on demand; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        if self._redis is not None:
            try:
                yield from self._queue_metrics(self._redis)
            except Exception as exc:
                log.warning("metrics: Redis not readable: %s", type(exc).__name__)
        try:
            yield from self._database_metrics()
        except Exception as exc:
            log.warning("metrics: database not readable: %s", type(exc).__name__)

    def _queue_metrics(self, redis: Redis) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily
        from rq import Queue, Worker

        from shelfready_core.stages import pipeline

        jobs = GaugeMetricFamily(
            f"{PREFIX}_queue_jobs",
            "Jobs per queue (and its stage) and state",
            labels=["queue", "stage", "state"],
        )
        oldest = GaugeMetricFamily(
            f"{PREFIX}_queue_oldest_job_age_seconds",
            "Age of the job that has waited longest in the queue (0 when empty)",
            labels=["queue", "stage"],
        )
        workers = GaugeMetricFamily(
            f"{PREFIX}_queue_workers",
            "RQ workers listening on the queue",
            labels=["queue", "stage"],
        )
        for stage in pipeline():  # every installed stage's queue, labelled by its name
            policy = stage.queue
            queue = Queue(policy.name, connection=redis)
            counts = {
                "waiting": queue.count,
                "running": queue.started_job_registry.count,
                "scheduled": queue.scheduled_job_registry.count,
                "deferred": queue.deferred_job_registry.count,
                "failed": queue.failed_job_registry.count,
            }
            for state, count in counts.items():
                jobs.add_metric([policy.name, stage.name, state], count)
            oldest.add_metric([policy.name, stage.name], oldest_job_age(queue))
            workers.add_metric([policy.name, stage.name], Worker.count(queue=queue))
        yield jobs
        yield oldest
        yield workers
        yield breaker_metric(redis)

    def _database_metrics(self) -> Iterator[Metric]:
        from prometheus_client.core import GaugeMetricFamily
        from sqlalchemy import func
        from sqlmodel import select

        from shelfready_core.db import session_scope
        from shelfready_core.models import ImageSet, ImageSetStatus, Workflow, WorkflowStatus

        with session_scope(self._settings) as session:
            by_status = dict(
                session.exec(select(Workflow.status, func.count()).group_by(Workflow.status)).all()
            )
            by_verdict = dict(
                session.exec(select(ImageSet.status, func.count()).group_by(ImageSet.status)).all()
            )
        workflows = GaugeMetricFamily(
            f"{PREFIX}_workflows", "Workflows in the database by status", labels=["status"]
        )
        for status in WorkflowStatus:
            workflows.add_metric([status.value], by_status.get(status.value, 0))
        image_sets = GaugeMetricFamily(
            f"{PREFIX}_image_sets", "Image sets by verdict", labels=["verdict"]
        )
        for verdict in ImageSetStatus:
            image_sets.add_metric([verdict.value.lower()], by_verdict.get(verdict.value, 0))
        yield workflows
        yield image_sets


def oldest_job_age(queue: Any) -> float:
    """Seconds since the job at the head of the queue was enqueued (0 for an empty queue)."""
    from datetime import UTC, datetime

    for job_id in queue.get_job_ids(0, 0):
        job = queue.fetch_job(job_id)
        if job is not None and job.enqueued_at is not None:
            enqueued = job.enqueued_at
            if enqueued.tzinfo is None:
                enqueued = enqueued.replace(tzinfo=UTC)
            return max(0.0, float((datetime.now(UTC) - enqueued).total_seconds()))
    return 0.0


def breaker_state(redis: Redis, name: str = "anthropic") -> str:
    """closed, half_open or open, read from the shared breaker's keys."""
    from shelfready_core.claude.breaker import DEFAULT_FAILURE_THRESHOLD, RedisCircuitBreaker

    breaker = RedisCircuitBreaker(redis, name)
    pipe = redis.pipeline(transaction=False)
    pipe.pttl(breaker.open_key)
    pipe.get(breaker.failures_key)
    open_ttl_ms, failures = pipe.execute()
    if open_ttl_ms and open_ttl_ms > 0:
        return "open"
    if int(failures or 0) >= DEFAULT_FAILURE_THRESHOLD:
        return "half_open"
    return "closed"


def breaker_metric(redis: Redis) -> Metric:
    from prometheus_client.core import GaugeMetricFamily

    state = breaker_state(redis)
    metric = GaugeMetricFamily(
        f"{PREFIX}_breaker_state",
        "Circuit breaker of the Claude API: 1 for its current state",
        labels=["breaker", "state"],
    )
    for name in BREAKER_STATES:
        metric.add_metric(["anthropic", name], 1 if name == state else 0)
    return metric


def build_registry(settings: Settings, redis: Redis | None) -> CollectorRegistry:
    """A registry for one scrape: the job metrics of every process, plus the current state."""
    from prometheus_client import CollectorRegistry, multiprocess

    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:  # a single process (the API without a multiprocess folder, tests): its own values
        _metrics()
        registry.register(_job_registry())
    registry.register(StateCollector(settings, redis))
    return registry


def render(settings: Settings, redis: Redis | None) -> bytes:
    """The Prometheus text exposition of everything above."""
    from prometheus_client import generate_latest

    return generate_latest(build_registry(settings, redis))
