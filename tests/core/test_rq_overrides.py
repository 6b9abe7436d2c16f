"""ShelfReadyWorker overrides RQ methods, one of them private (`_shutdown`), and calls a few
private parts of RQ. rq is pinned to one minor version (libs/runner/pyproject.toml); these tests
say what to re-check when that pin moves: each overridden method still exists on RQ's Worker
with the signature we override, the private parts we call are still there, and each override
still does its job on real Redis. The full signal-driven shutdown paths run in
tests/integration/test_shutdown.py."""

from __future__ import annotations

import inspect
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psutil
import pytest
import redis
from rq import Queue, Retry, Worker
from rq.exceptions import StopRequested
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.job_lifecycle import call_exception_handlers
from rq.utils import now
from rq.worker import WorkerStatus

from shelfready_core import logs, metrics, stages
from shelfready_core.errors import InvalidInput
from shelfready_runner import rq_worker
from shelfready_runner.rq_worker import ShelfReadyWorker

QUEUE = "overrides-test"
# Every RQ method ShelfReadyWorker overrides; a new override needs a behaviour test below.
OVERRIDDEN = {
    "get_heartbeat_ttl",
    "dequeue_job_and_maintain_ttl",
    "subscribe",
    "execute_job",
    "perform_job",
    "handle_exception",
    "request_stop",
    "_shutdown",
    "request_force_stop",
    "fork_work_horse",
    "teardown",
}


def _parameters(function: Callable[..., object]) -> list[tuple[str, inspect._ParameterKind]]:
    return [(p.name, p.kind) for p in inspect.signature(function).parameters.values()]


def test_the_overrides_are_the_ones_listed_here() -> None:
    ours = {
        name
        for name, value in vars(ShelfReadyWorker).items()
        if callable(value) and name != "__init__" and hasattr(Worker, name)
    }
    assert ours == OVERRIDDEN


@pytest.mark.parametrize("name", sorted(OVERRIDDEN))
def test_each_overridden_method_exists_on_rq_with_our_signature(name: str) -> None:
    assert callable(getattr(Worker, name, None)), f"rq's Worker has no {name} any more"
    assert _parameters(getattr(Worker, name)) == _parameters(getattr(ShelfReadyWorker, name))


def test_the_private_parts_of_rq_we_call_are_still_there(redis_conn: redis.Redis) -> None:
    enqueue = [name for name, _ in _parameters(Queue._enqueue_job)]
    assert enqueue[:4] == ["self", "job", "pipeline", "at_front"]
    assert [name for name, _ in _parameters(Execution.delete)] == ["self", "job", "pipeline"]
    assert [name for name, _ in _parameters(call_exception_handlers)] == [
        "handlers",
        "job",
        "exc_info",
    ]
    assert isinstance(Queue(QUEUE, connection=redis_conn).intermediate_queue_key, str)
    worker = Worker([QUEUE], connection=redis_conn)
    assert worker._exc_handlers == []
    assert hasattr(worker, "_shutdown_requested_date")
    assert isinstance(worker.executions, dict)
    assert worker._horse_pid == 0  # a spare horse's pid is set here, as RQ's fork does


# -- behaviour, on real Redis --


@pytest.fixture
def signals_restored(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker installs signal handlers and marks the process as a worker: undo both."""
    monkeypatch.setenv(metrics.WORKER_ID_ENV, "")
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)}
    yield
    signal.alarm(0)
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture
def worker(redis_conn: redis.Redis, signals_restored: None) -> Iterator[ShelfReadyWorker]:
    worker = ShelfReadyWorker([Queue(QUEUE, connection=redis_conn)], connection=redis_conn)
    yield worker
    worker.teardown()  # discards a spare horse the test left waiting
    if worker._drain_timer is not None:
        worker._drain_timer.cancel()


def job_context() -> dict:
    """Runs in the work-horse: what every log line written there is tagged with."""
    return logs.current_context()


def test_heartbeat_ttl_adds_our_grace_to_rqs_interval(worker, redis_conn) -> None:
    worker.heartbeat_grace = 17
    worker.job_monitoring_interval = 30
    queue = Queue(QUEUE, connection=redis_conn)
    short = queue.enqueue("os.getpid", job_timeout=10)
    endless = queue.enqueue("os.getpid", job_timeout=-1)

    assert worker.get_heartbeat_ttl(short) == 10 + 17
    assert worker.get_heartbeat_ttl(short, working_time=8) == 2 + 17
    assert worker.get_heartbeat_ttl(endless) == 30 + 17  # RQ alone: +60 s, hard-coded


def _blocked_signals(native_id: int) -> int:
    status = Path(f"/proc/self/task/{native_id}/status").read_text()
    return int(
        next(line for line in status.splitlines() if line.startswith("SigBlk:")).split()[1], 16
    )


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_pubsub_thread_never_takes_a_stop_signal(worker) -> None:
    worker.subscribe()
    try:
        blocked = _blocked_signals(worker.pubsub_thread.native_id)
        assert blocked & (1 << (signal.SIGINT - 1)) and blocked & (1 << (signal.SIGTERM - 1))
        assert not _blocked_signals(threading.get_native_id()) & (
            1 << (signal.SIGTERM - 1)
        )  # the main thread still takes them
    finally:
        worker.unsubscribe()


def test_an_idle_worker_stops_at_once_and_a_busy_one_sets_its_drain_deadline(
    worker, redis_conn
) -> None:
    with pytest.raises(StopRequested):
        worker._shutdown()
    assert worker._drain_timer is None

    worker.set_state(WorkerStatus.BUSY)
    worker._job_in_hand = Queue(QUEUE, connection=redis_conn).enqueue("os.getpid", job_timeout=42)
    worker.drain_seconds = None
    worker._shutdown_requested_date = now()  # as request_stop sets it
    worker._shutdown()
    assert worker._stop_requested
    assert worker._drain_timer is not None and worker._drain_timer.interval == 42


def test_a_monitor_tick_during_the_stop_handler_is_held_back_then_delivered(worker) -> None:
    ticks: list[int] = []

    def monitor_tick(signum: int, frame: object) -> None:
        ticks.append(signum)
        raise RuntimeError("a tick inside the handler would abort it half-way")

    class TickDuringHandler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "got signal" in record.getMessage():
                signal.raise_signal(signal.SIGALRM)

    signal.signal(signal.SIGALRM, monitor_tick)
    worker.set_state(WorkerStatus.BUSY)
    handler = TickDuringHandler()
    worker.log.addHandler(handler)
    previous_level = worker.log.level
    worker.log.setLevel(logging.DEBUG)
    try:
        with pytest.raises(RuntimeError):  # delivered after the handler, not inside it
            worker.request_stop(signal.SIGTERM, None)
    finally:
        worker.log.removeHandler(handler)
        worker.log.setLevel(previous_level)
    assert ticks == [signal.SIGALRM]
    assert worker._stop_requested  # the handler ran to its end first
    assert signal.getsignal(signal.SIGTERM) == worker.request_force_stop


def test_a_repeated_signal_is_ignored_and_a_later_one_stops_cold(worker) -> None:
    worker._shutdown_requested_date = now()
    assert worker.request_force_stop(signal.SIGTERM, None) is None
    assert not worker._cold_stopped

    worker._shutdown_requested_date = now() - timedelta(seconds=2)
    with pytest.raises(SystemExit):
        worker.request_force_stop(signal.SIGTERM, None)
    assert worker._cold_stopped
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_IGN


def test_a_killed_horses_job_goes_back_to_the_front_with_its_retries(worker, redis_conn) -> None:
    queue = Queue(QUEUE, connection=redis_conn)
    waiting = queue.enqueue("os.getpid")
    stopped = queue.enqueue("os.getpid", retry=Retry(max=3))
    redis_conn.lrem(queue.key, 0, stopped.id)  # taken by the worker...
    stopped.set_status(JobStatus.STARTED)  # ...and its horse killed

    worker._requeue(stopped, queue)

    assert queue.job_ids == [stopped.id, waiting.id]
    again = Job.fetch(stopped.id, connection=redis_conn)
    assert again.get_status() == JobStatus.QUEUED
    assert again.retries_left == 3  # being stopped is not a failed attempt


def test_a_job_that_finished_meanwhile_is_not_requeued(worker, redis_conn) -> None:
    queue = Queue(QUEUE, connection=redis_conn)
    done = queue.enqueue("os.getpid")
    redis_conn.lrem(queue.key, 0, done.id)
    done.set_status(JobStatus.FINISHED)

    worker._requeue(done, queue)

    assert queue.job_ids == []


def test_a_job_runs_in_its_horse_with_its_log_context(worker, redis_conn) -> None:
    queue = Queue(QUEUE, connection=redis_conn)
    job = queue.enqueue(job_context, meta={"workflow_id": "wf-ctx", "service": "no-such-stage"})

    assert worker.work(burst=True, logging_level="WARNING")  # forks a real horse

    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert job.return_value() == {
        "workflow_id": "wf-ctx",
        "job_id": job.id,
        "service": "no-such-stage",
    }


def registered_stages_expiry() -> float:
    """Runs in the work-horse: when its copy of the registered stages expires."""
    assert stages._registered_cache is not None
    return stages._registered_cache[0]


def test_a_horse_inherits_the_registered_stages_its_worker_renewed(
    worker, redis_conn, monkeypatch
) -> None:
    monkeypatch.setattr(stages, "_registered_cache", (0.0, ()))  # expired long ago
    # A job of a stage: its log context asks the pipeline for the stage's retry policy.
    job = Queue(QUEUE, connection=redis_conn).enqueue(
        registered_stages_expiry, meta={"service": "no-such-stage"}
    )

    assert worker.work(burst=True, logging_level="WARNING")

    renewed = stages._registered_cache
    assert renewed is not None and renewed[0] > time.monotonic()  # renewed in the worker
    assert job.return_value() == renewed[0]  # and the horse used that copy, not a read of its own


def test_an_idle_worker_wakes_to_renew_and_still_takes_a_job_at_once(
    worker, redis_conn, monkeypatch
) -> None:
    renewals: list[float] = []
    monkeypatch.setattr(rq_worker, "INHERITED_RENEW_SECONDS", 1)
    monkeypatch.setattr(rq_worker, "pipeline", lambda: renewals.append(time.monotonic()))

    assert worker.dequeue_job_and_maintain_ttl(timeout=30, max_idle_time=3) is None
    assert len(renewals) >= 3  # woke up about once a second while it waited

    job = Queue(QUEUE, connection=redis_conn).enqueue("os.getpid")
    taken = worker.dequeue_job_and_maintain_ttl(timeout=30)
    assert taken is not None and taken[0].id == job.id


def test_an_input_failure_is_one_line_and_still_reaches_the_exception_handlers(
    worker, redis_conn, caplog
) -> None:
    job = Queue(QUEUE, connection=redis_conn).enqueue("os.getpid")
    handled: list[str] = []
    worker.push_exc_handler(lambda job, *exc_info: handled.append(type(exc_info[1]).__name__))

    for failure in (InvalidInput("the photo is not an image"), ValueError("a bug")):
        try:
            raise failure
        except Exception:
            with caplog.at_level(logging.WARNING, logger=worker.log.name):
                worker.handle_exception(job, *sys.exc_info())

    assert handled == ["InvalidInput", "ValueError"]
    input_lines = [r for r in caplog.records if "failed on its input" in r.getMessage()]
    assert len(input_lines) == 1 and input_lines[0].exc_info is None
    assert "the photo is not an image" in input_lines[0].getMessage()
    assert any(r.exc_info or "Traceback" in r.getMessage() for r in caplog.records[1:])


def run_a_job_then_one_more_once_idle(
    worker: ShelfReadyWorker, connection: redis.Redis, function: Callable[[], object]
) -> tuple[Job, Job]:
    """Two jobs of `function`: one at once, one after the worker has been idle for a second
    (its spare forked and waiting); the worker stops after the second."""
    queue = Queue(QUEUE, connection=connection)
    first = queue.enqueue(function)
    later: list[Job] = []

    def enqueue_later() -> None:
        time.sleep(1.0)
        later.append(queue.enqueue(function))

    thread = threading.Thread(target=enqueue_later)
    thread.start()
    try:
        assert worker.work(max_jobs=2, logging_level="WARNING")
    finally:
        thread.join()
    return first, later[0]


def horse_identity() -> tuple[int, float]:
    """Runs in the work-horse: its pid and when its process started (seconds since epoch)."""
    process = psutil.Process()
    return process.pid, process.create_time()


def test_an_idle_worker_hands_its_next_job_to_a_horse_forked_before_it(
    worker, redis_conn, monkeypatch
) -> None:
    monkeypatch.setattr(rq_worker, "pipeline", lambda: None)  # no database needed here
    first, second = run_a_job_then_one_more_once_idle(worker, redis_conn, horse_identity)

    first_pid, _ = first.return_value()
    second_pid, second_born = second.return_value()
    enqueued_at = second.enqueued_at
    assert enqueued_at is not None
    assert second_pid != first_pid  # a horse per job, as before
    assert second_born < enqueued_at.timestamp() - 0.5  # it existed before its job did
    assert second.get_status(refresh=True) == JobStatus.FINISHED
    # The worker stopped (max_jobs): the spare it had forked for a third job is gone.
    assert psutil.Process().children() == []


def test_a_spare_that_died_is_replaced_by_a_fork_and_the_job_still_runs(
    worker, redis_conn, monkeypatch
) -> None:
    monkeypatch.setattr(rq_worker, "pipeline", lambda: None)
    worker._ready_spare()
    spare = worker._spare
    assert spare is not None and spare.alive()
    os.kill(spare.pid, signal.SIGKILL)
    # Dead, not dying: waits for its exit without reaping it (the worker must notice).
    os.waitid(os.P_PID, spare.pid, os.WEXITED | os.WNOWAIT)
    job = Queue(QUEUE, connection=redis_conn).enqueue(horse_identity)

    assert worker.work(burst=True, logging_level="WARNING")  # burst: no new spare

    pid, _ = job.return_value()
    assert job.get_status(refresh=True) == JobStatus.FINISHED and pid != spare.pid
    assert psutil.Process().children() == []  # the dead spare was reaped


def test_a_spare_is_replaced_once_its_copy_of_the_caches_ages(worker, monkeypatch) -> None:
    monkeypatch.setattr(rq_worker, "pipeline", lambda: None)
    worker._renewed_at = 100.0
    worker._ready_spare()
    first = worker._spare
    worker._renewed_at += rq_worker.INHERITED_RENEW_SECONDS
    worker._ready_spare()
    assert worker._spare is first  # alive and recent enough: kept

    worker._renewed_at += rq_worker.INHERITED_RENEW_SECONDS
    worker._ready_spare()
    assert worker._spare is not None and worker._spare.pid != first.pid
    assert worker._spare.inherited_at == worker._renewed_at
    assert [child.pid for child in psutil.Process().children()] == [worker._spare.pid]


def database_backends() -> list[int]:
    """Runs in the work-horse: the database backend of each of its two units of work."""
    from sqlalchemy import text

    from shelfready_core.config import get_settings
    from shelfready_core.db import session_scope

    backends = []
    for _ in range(2):
        with session_scope(get_settings()) as session:
            backends.append(int(session.execute(text("SELECT pg_backend_pid()")).scalar_one()))
    return backends


def sessions_abandoned(pg_url: str) -> int:
    """Sessions whose client went without saying goodbye (a process that exited holding one)."""
    import psycopg

    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT sessions_abandoned FROM pg_stat_database WHERE datname = %s", (name,)
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def database(monkeypatch: pytest.MonkeyPatch, pg_url: str) -> Iterator[str]:
    """DATABASE_URL set to a fresh database with the tables a spare's warm-up reads."""
    from sqlmodel import SQLModel

    from shelfready_core.config import get_settings
    from shelfready_core.db import get_engine
    from shelfready_core.models import Workflow  # noqa: F401  # its table, created below

    monkeypatch.setenv("DATABASE_URL", pg_url)
    get_settings.cache_clear()
    SQLModel.metadata.create_all(get_engine(get_settings()))
    yield pg_url
    get_engine(get_settings()).dispose()
    get_settings.cache_clear()


def client_backends(pg_url: str) -> int:
    import psycopg

    name = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
            " AND backend_type = 'client backend'",
            (name,),
        ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_spare_horse_keeps_its_database_connection_for_its_job_and_closes_it(
    worker, redis_conn, database
) -> None:
    first, second = run_a_job_then_one_more_once_idle(worker, redis_conn, database_backends)

    # Each job ran in a spare horse, on the connection it opened while it waited.
    assert [len(set(job.return_value())) for job in (first, second)] == [1, 1]
    assert first.return_value() != second.return_value()  # a connection per horse
    time.sleep(0.5)  # a backend counts its end as it exits
    assert sessions_abandoned(database) == 0  # every horse closed its connection before exiting


def test_a_discarded_spare_closes_its_database_connection_before_it_exits(worker, database) -> None:
    worker._ready_spare()
    deadline = time.monotonic() + 10
    while client_backends(database) == 0:  # the spare connected and warmed up
        assert time.monotonic() < deadline, "the spare never connected"
        time.sleep(0.05)

    worker._discard_spare()

    assert psutil.Process().children() == []
    time.sleep(0.5)  # a backend counts its end as it exits
    assert client_backends(database) == 0 and sessions_abandoned(database) == 0


# Where the stuck spare below says it has stopped listening to SIGTERM (set by the test).
STUCK_MARKER: list[Path] = []


def stuck_getting_ready() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # as in a call no signal interrupts
    STUCK_MARKER[-1].touch()
    time.sleep(60)


def test_a_spare_that_does_not_exit_when_discarded_is_killed(tmp_path: Path) -> None:
    from shelfready_runner.spare_horse import DISCARD_GRACE_SECONDS, SpareWork, fork_spare

    STUCK_MARKER.append(tmp_path / "stuck")
    work = SpareWork(stuck_getting_ready, lambda fields: None, release=lambda: None)
    spare = fork_spare(work, inherited_at=0.0)
    deadline = time.monotonic() + 10
    while not STUCK_MARKER[-1].exists():
        assert time.monotonic() < deadline, "the spare never got stuck"
        time.sleep(0.01)
    started = time.monotonic()

    spare.discard()

    assert DISCARD_GRACE_SECONDS <= time.monotonic() - started < DISCARD_GRACE_SECONDS + 2
    assert not spare.alive() and psutil.Process().children() == []
