"""ShelfReady's RQ worker class: RQ's forking Worker with tunable abandonment detection and a
shutdown that never loses the job in hand.

What RQ already does: the pool turns SIGTERM into SIGINT for each worker; a worker then stops
taking jobs, lets its work-horse finish and exits 0 (warm shutdown). A second signal more than
1 s later kills the horse and exits (cold shutdown), but leaves the job STARTED until its
heartbeat expires; the registry clean-up then counts it as a failed attempt.

What this class adds:
- stop signals always reach the main thread (RQ's pub/sub thread could take them, leaving an
  idle worker deaf in its blocking dequeue for minutes);
- a cold shutdown puts the job straight back at the front of its queue without spending a
  retry (the failure callback never sees it, so the workflow stays PROCESSING);
- a drain deadline (SHELFREADY_DRAIN_SECONDS, default the job's own time limit) turns a warm
  shutdown into that cold one before the platform's SIGKILL would land;
- work-horses inherit fresh per-process caches: an idle worker renews the registered stages
  (read from the database, trusted for 30 s) every INHERITED_RENEW_SECONDS, so no horse has
  to read them itself before it claims its workflow;
- the next horse is forked while the worker is idle and waits, connected, for its job
  (spare_horse.py), renewed with the caches; a burst worker forks its horses as RQ does;
- a fallback for RQ's scheduler (which moves retries due after their backoff to the queue):
  only the worker holding a queue's scheduler lock runs one, a killed holder's lock blocks
  everyone for 61 s, and the others try to take over only every 10 minutes.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from types import FrameType
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.job_lifecycle import call_exception_handlers
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from rq.utils import current_timestamp, now

from shelfready_core import logs, metrics
from shelfready_core.config import get_settings
from shelfready_core.db import release_reserved, reserve_connection
from shelfready_core.stages import forget_cached_registrations, pipeline
from shelfready_runner.prefork import rehearse_a_job_start_and_end
from shelfready_runner.spare_horse import SpareHorse, SpareWork, fork_spare

log = logging.getLogger(__name__)

# A pool forwards Ctrl+C that the terminal already sent to the whole group: ignore the echo.
DUPLICATE_SIGNAL_WINDOW = timedelta(seconds=1)
# The job never reached its horse, or the horse was killed before it finished.
REQUEUEABLE = {JobStatus.QUEUED, JobStatus.STARTED}
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# What a live RQ scheduler resets its lock's TTL to every second: its interval (1 s) + 60 s.
SCHEDULER_LOCK_TTL = 61
# A lock not refreshed for the heartbeat grace belongs to a dead scheduler; kept within these
# bounds so a short grace never breaks a live one's lock, nor a long one leave retries 61 s late.
STALE_LOCK_SECONDS = (5, 30)
# How often a worker renews what its horses inherit, well inside stages.REGISTERED_TTL_SECONDS
# (30 s). A horse forked with an expired copy reads the registered stages itself, on a new
# database connection, before its claim: measured 15-40 ms of every handoff (bench/pipeline.py).
INHERITED_RENEW_SECONDS = 10
# A waiting spare horse is replaced once its copy is this much older than its worker's: every
# other renewal, so its copy is never used past the 30 s TTL, and an idle worker forks a new
# spare every 20 s, not every 10 s.
SPARE_RENEW_SECONDS = 2 * INHERITED_RENEW_SECONDS
# Deletes a lock whose TTL shows it has not been refreshed for a while, atomically.
BREAK_STALE_LOCK = """
local ttl = redis.call('TTL', KEYS[1])
if ttl >= 0 and ttl <= tonumber(ARGV[1]) then
    return redis.call('DEL', KEYS[1])
end
return 0
"""


@contextmanager
def stop_signals_blocked() -> Iterator[None]:
    """Threads started inside inherit a mask without SIGINT/SIGTERM, so the kernel hands those
    signals to the main thread: only there do they interrupt a blocking Redis read at once."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def monitor_alarm_deferred() -> Iterator[None]:
    """Hold back the horse monitor's SIGALRM tick (every job_monitoring_interval) while a stop
    handler runs. Raised inside the handler, its exception would abort the handler half-way and
    the monitor would take it for a routine tick: a warm shutdown without its drain deadline,
    or a killed horse recorded as a failed attempt."""
    fired: list[tuple[int, FrameType | None]] = []
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: fired.append((signum, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGALRM, previous)
    if fired and callable(previous):
        previous(*fired[0])  # the tick, late


class ShelfReadyWorker(Worker):
    """A job whose worker stops heart-beating for `heartbeat_grace` seconds is abandoned and
    requeued by the next registry clean-up; RQ hard-codes that margin at 60 s."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        settings = get_settings()
        kwargs.setdefault("job_monitoring_interval", settings.job_monitoring_interval)
        super().__init__(*args, **kwargs)
        self.heartbeat_grace = settings.heartbeat_grace
        self.drain_seconds = settings.drain_seconds
        self._job_in_hand: Job | None = None
        self._drain_timer: threading.Timer | None = None
        self._drain_expired = False
        self._cold_stopped = False
        self._renew_at = 0.0
        self._renewed_at = 0.0  # when the copy the next horse inherits was read
        self._spare: SpareHorse | None = None
        metrics.mark_worker_process()

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        interval = self.job_monitoring_interval
        if job.timeout and job.timeout > 0:
            interval = min(interval, max(1, int(job.timeout - working_time)))
        return int(interval) + self.heartbeat_grace

    def dequeue_job_and_maintain_ttl(
        self, timeout: int | None, max_idle_time: int | None = None
    ) -> tuple[Job, Queue] | None:
        """RQ's blocking dequeue, woken every INHERITED_RENEW_SECONDS while idle to renew what
        the next horse inherits; `max_idle_time` still counts from the start of the wait."""
        if timeout is None:  # burst: one look, no wait
            self._renew_inherited()
            return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
        idle_since = time.monotonic()
        while True:
            self._renew_inherited()
            self._ready_spare()
            wait = INHERITED_RENEW_SECONDS
            if max_idle_time is not None:
                left = max_idle_time - (time.monotonic() - idle_since)
                if left <= 0:
                    return None
                wait = min(wait, max(1, math.ceil(left)))
            result = super().dequeue_job_and_maintain_ttl(min(timeout, wait), max_idle_time=wait)
            if result is not None:
                return result

    def _renew_inherited(self) -> None:
        """Here, before the fork, not in every horse: read the registered stages afresh."""
        clock = time.monotonic()
        if clock < self._renew_at:
            return
        self._renew_at = clock + INHERITED_RENEW_SECONDS
        self._renewed_at = clock
        forget_cached_registrations()
        try:
            pipeline()  # the database away: the installed stages, retried after 5 s
        except Exception as exc:  # no stage at all: the horse will say so, with the job
            log.debug("could not renew the registered stages: %s", exc)

    def _ready_spare(self) -> None:
        """Have a live spare horse with a current copy of the caches before waiting."""
        spare = self._spare
        current = spare is not None and self._renewed_at - spare.inherited_at < SPARE_RENEW_SECONDS
        if spare is not None and current and spare.alive():
            return
        self._discard_spare()
        work = SpareWork(self._prepare_spare, self._serve_as_spare, release=release_reserved)
        self._spare = fork_spare(work, inherited_at=self._renewed_at)

    def _discard_spare(self) -> None:
        spare, self._spare = self._spare, None
        if spare is not None:
            spare.discard()

    def _prepare_spare(self) -> None:
        """In the spare: its own Redis connection (redis-py opens one after a fork) and its
        job's database connection, opened now and warmed up by rehearsing its claim and
        hand-over."""
        self.connection.ping()
        served = self.queue_names()
        stages = [stage for stage in pipeline() if stage.queue.name in served]
        reserve_connection(
            get_settings(),
            lambda session: rehearse_a_job_start_and_end(session, stages, self.connection),
        )

    def _serve_as_spare(self, fields: list[str]) -> None:
        """In the spare, once handed a job: what RQ's freshly forked horse would do."""
        job_id, queue_name, execution_id, created_at = fields
        os.environ["RQ_WORKER_ID"] = self.name
        os.environ["RQ_JOB_ID"] = job_id
        job = self.job_class.fetch(job_id, connection=self.connection, serializer=self.serializer)
        queue = next(q for q in self.queues if q.name == queue_name)
        # Rebuilt from the worker's, not fetched: nothing the horse does with it reads Redis.
        execution = Execution(execution_id, job_id, self.connection, worker_name=self.name)
        execution.created_at = execution.last_heartbeat = datetime.fromtimestamp(
            float(created_at), tz=UTC
        )
        self.execution = execution
        self.main_work_horse(job, queue)

    def fork_work_horse(self, job: Job, queue: Queue) -> None:
        """Hand the job to the spare horse; fork one as RQ does if there is none (a burst
        worker) or it is gone."""
        if self._hand_to_spare(job, queue):
            os.environ["RQ_WORKER_ID"] = self.name
            os.environ["RQ_JOB_ID"] = job.id
            title = f"Handed to {self._horse_pid} at {time.time()}"
            self.procline(title)  # type: ignore[no-untyped-call]  # rq: unannotated
            return
        super().fork_work_horse(job, queue)

    def _hand_to_spare(self, job: Job, queue: Queue) -> bool:
        spare, self._spare = self._spare, None
        if spare is None:
            return False
        execution = self.execution  # RQ's prepare_execution made it just now
        if execution is None:
            spare.discard()
            return False
        created = repr(execution.created_at.timestamp())
        if not spare.hand_over(job.id, queue.name, execution.id, created):
            return False
        self._horse_pid = spare.pid
        return True

    def teardown(self) -> None:
        self._discard_spare()
        super().teardown()  # type: ignore[no-untyped-call]  # rq: unannotated

    def subscribe(self) -> None:
        with stop_signals_blocked():
            super().subscribe()  # type: ignore[no-untyped-call]  # rq: unannotated

    def execute_job(self, job: Job, queue: Queue) -> None:
        self._job_in_hand = job
        try:
            super().execute_job(job, queue)
        except SystemExit:
            if self._cold_stopped:
                self._requeue(job, queue)
            raise
        finally:
            self._job_in_hand = None
            if self._drain_timer is not None:
                self._drain_timer.cancel()

    def perform_job(self, job: Job, queue: Queue, execution: Any) -> bool:
        try:
            with logs.job_context(job):  # every line the horse writes names the job
                return bool(super().perform_job(job, queue, execution))
        finally:  # a horse ends with os._exit: say goodbye to the database first
            release_reserved()

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        if logs.log_expected_failure(self.log, job, exc_info[1]):
            call_exception_handlers(self._exc_handlers, job, *exc_info)
        else:
            super().handle_exception(job, *exc_info)

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        with monitor_alarm_deferred():
            super().request_stop(signum, frame)  # type: ignore[no-untyped-call]  # rq

    def _shutdown(self) -> None:
        super()._shutdown()  # type: ignore[no-untyped-call]  # raises StopRequested when idle; returns when a job is running
        job = self._job_in_hand
        limit = self.drain_seconds or (job.timeout if job is not None else None)
        if limit and limit > 0 and self._drain_timer is None:
            log.info("worker %s: finishing its job within %ss, then exiting", self.name, limit)
            self._drain_timer = threading.Timer(limit, self._drain_deadline_passed)
            self._drain_timer.daemon = True
            with stop_signals_blocked():
                self._drain_timer.start()

    def _drain_deadline_passed(self) -> None:
        """Runs in the timer thread; Python delivers the signal to the main thread."""
        self._drain_expired = True
        os.kill(os.getpid(), signal.SIGINT)

    def request_force_stop(self, signum: int, frame: FrameType | None) -> None:
        """Cold shutdown: kill the horse now; `execute_job` then requeues the job."""
        requested = self._shutdown_requested_date
        if not self._drain_expired and requested and now() - requested < DUPLICATE_SIGNAL_WINDOW:
            log.debug("worker %s: ignored a repeated stop signal", self.name)
            return
        with monitor_alarm_deferred():
            signal.alarm(0)  # no more monitor ticks: we are leaving
            for stop_signal in STOP_SIGNALS:  # further signals change nothing
                signal.signal(stop_signal, signal.SIG_IGN)
            reason = "drain time is up" if self._drain_expired else "second stop signal"
            log.warning("worker %s: cold shutdown (%s)", self.name, reason)
            self._cold_stopped = True
            if self.horse_pid:
                self.kill_horse()
                self.wait_for_horse()
            raise SystemExit()

    def _requeue(self, job: Job, queue: Queue) -> None:
        """Put a job whose horse we killed back at the front of its queue, same id, same retry
        budget: being stopped is not a failure of the job."""
        try:
            job.refresh()
        except NoSuchJobError:
            return
        status = job.get_status(refresh=False)
        if status not in REQUEUEABLE:  # it finished (or failed and was retried) meanwhile
            return
        executions = [e for e in self.executions.values() if e.job_id == job.id]
        with self.connection.pipeline() as pipeline:
            for execution in executions:
                execution.delete(job=job, pipeline=pipeline)
                self.executions.pop(execution.id, None)
            # Never twice in the list, and not left where the intermediate-queue sweep would
            # later report it as stuck (and fail it).
            pipeline.lrem(queue.key, 0, job.id)
            pipeline.lrem(queue.intermediate_queue_key, 0, job.id)
            queue._enqueue_job(job, pipeline=pipeline, at_front=True)
            pipeline.execute()
        log.warning(
            "worker %s: job %s put back on %s after a cold shutdown", self.name, job.id, queue.name
        )


def stale_lock_ttl(heartbeat_grace: int) -> int:
    """The TTL at or below which a scheduler lock is stale: it has gone unrefreshed for the
    grace (clamped to STALE_LOCK_SECONDS) since a live scheduler last reset it."""
    low, high = STALE_LOCK_SECONDS
    return SCHEDULER_LOCK_TTL - min(max(heartbeat_grace, low), high)


class FallbackScheduler:
    """Moves due scheduled jobs to their queues when no live RQ scheduler does; run it now and
    then from one long-lived process (the worker pool)."""

    def __init__(self, connection: Redis, queue_names: list[str], heartbeat_grace: int) -> None:
        self._queue_names = queue_names
        self._connection = connection
        self._stale_ttl = stale_lock_ttl(heartbeat_grace)
        self._break_stale_lock = connection.register_script(BREAK_STALE_LOCK)
        # Quiet: it takes and releases the locks on every run.
        self._scheduler = RQScheduler(
            queue_names, connection=connection, logging_level=logging.WARNING
        )

    def run_once(self) -> int:
        """Returns how many due jobs it moved to their queues."""
        for name in self._queue_names:
            lock_key = RQScheduler.get_locking_key(name)
            if self._break_stale_lock(keys=[lock_key], args=[self._stale_ttl]):
                log.warning("released the scheduler lock of %s held by a dead worker", name)
        if not self._scheduler.acquire_locks():
            return 0  # a live scheduler has it in hand
        try:
            due = sum(
                len(
                    ScheduledJobRegistry(name, connection=self._connection).get_jobs_to_schedule(
                        current_timestamp()
                    )
                )
                for name in self._scheduler.acquired_locks
            )
            if due:
                self._scheduler.enqueue_scheduled_jobs()
                log.info("moved %d due scheduled job(s) to their queues", due)
        finally:
            self._scheduler.release_locks()
        return due
