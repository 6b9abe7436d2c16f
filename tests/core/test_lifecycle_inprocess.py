"""The stage lifecycle in process, fast: real RQ (SimpleWorker, burst), real Redis and a real
PostgreSQL database drive stage.py and reconcile.py through a two-stage pipeline declared
here, so core's lifecycle is shown to need nothing of the services.

  intake (INTAKE_CHECK) -> render (RENDERING), and render's further job `regenerate_image`.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
import redis
from pydantic import BaseModel
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlmodel import SQLModel, col, create_engine, select, update

from shelfready_core import producer, stages, workflow_ops
from shelfready_core import stage as stage_module
from shelfready_core.claude.breaker import make_breaker
from shelfready_core.claude.client import ClaudeClient
from shelfready_core.config import Settings, get_settings
from shelfready_core.db import session_scope
from shelfready_core.errors import InvalidInput, StageError
from shelfready_core.models import Workflow, WorkflowEvent, WorkflowStatus, utcnow
from shelfready_core.queues import STAGE_RUN, enqueue_stage_job, stage_job_id
from shelfready_core.reconcile import reconcile
from shelfready_core.stage import StageContext, run_stage
from shelfready_core.stages import QueuePolicy, Stage
from shelfready_runner.rq_worker import FallbackScheduler
from tests.conftest import PG_ADMIN_URL

REGENERATE = producer.REGENERATE_IMAGE
# Retries without waiting, so one burst of the worker runs every attempt.
POLICY = {"timeout_seconds": 30, "retry_intervals": (0, 0)}
INTAKE = Stage(
    name="intake",
    queue=QueuePolicy("lifecycle-intake", **POLICY),  # type: ignore[arg-type]
    job=f"{__name__}.intake_job",
    steps=("INTAKE_CHECK",),
    after=None,
    progress_done=40,
)
RENDER = Stage(
    name="render",
    queue=QueuePolicy("lifecycle-render", **POLICY),  # type: ignore[arg-type]
    job=f"{__name__}.render_job",
    steps=("RENDERING",),
    after="intake",
    progress_done=100,
    jobs={REGENERATE: f"{__name__}.regenerate_job"},
)
QUEUES = (INTAKE.queue.name, RENDER.queue.name)

Body = Callable[[StageContext], str]
# What each job kind does this time (a test sets them) and how often it ran.
BODIES: dict[str, Body] = {}
RUNS: dict[str, int] = {}


def intake_job(workflow_id: str) -> object:
    return run_stage("intake", workflow_id, _body("intake"))


def render_job(workflow_id: str) -> object:
    return run_stage("render", workflow_id, _body("render"))


def regenerate_job(workflow_id: str, index: int) -> object:
    return run_stage("render", workflow_id, _body(REGENERATE), kind=REGENERATE)


def _body(name: str) -> Body:
    def counted(ctx: StageContext) -> str:
        RUNS[name] = RUNS.get(name, 0) + 1
        return BODIES.get(name, finish)(ctx)

    return counted


def finish(ctx: StageContext) -> str:
    with ctx.session() as session:
        ctx.finish(session, f"{ctx.service} done")
    return "done"


def regenerated(ctx: StageContext) -> str:
    with ctx.session() as session:
        session.add(
            WorkflowEvent(workflow_id=ctx.workflow_id, stage=ctx.service, kind="image_regenerated")
        )
    return "regenerated"


def failing(ctx: StageContext) -> str:
    raise StageError("the renderer broke")


class Answer(BaseModel):
    text: str


def asks_claude(ctx: StageContext) -> str:
    """A paid call through the real client: refused before any request while the shared
    breaker is open."""
    client = ClaudeClient(ctx.settings, stage=ctx.service, model="m", timeout=5, redis=ctx.redis)
    client.structured(system="s", messages=[{"role": "user", "content": "hi"}], output=Answer)
    return finish(ctx)


class Lifecycle:
    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, pg_url: str, redis_url: str, storage_dir: Path
    ) -> None:
        monkeypatch.setattr(stages, "installed", lambda: (INTAKE, RENDER))
        stages.forget_cached_registrations()
        monkeypatch.setenv("DATABASE_URL", pg_url)
        monkeypatch.setenv("REDIS_URL", redis_url)
        monkeypatch.setenv("SHELFREADY_AI", "offline")
        monkeypatch.setenv("SHELFREADY_STORAGE_DIR", str(storage_dir))
        get_settings.cache_clear()
        self.redis = redis.Redis.from_url(redis_url)

    @property
    def settings(self) -> Settings:
        return get_settings()

    def submit(self) -> str:
        """A new workflow at the first stage, its job enqueued, as the producer does it."""
        with session_scope(self.settings) as session:
            workflow = Workflow(source="storage:x")
            workflow.job_id = stage_job_id(INTAKE, workflow.id)
            session.add(workflow)
        enqueue_stage_job(self.redis, INTAKE, STAGE_RUN, workflow.id)
        return workflow.id

    def completed(self) -> str:
        workflow_id = self.submit()
        self.work()
        assert self.workflow(workflow_id).status == WorkflowStatus.COMPLETED
        return workflow_id

    def work(self, *names: str) -> None:
        """Run the queues dry (all, or the named ones), scheduled jobs made due first."""
        for name in names or QUEUES:
            registry = ScheduledJobRegistry(name, connection=self.redis)
            for job_id in registry.get_job_ids():
                self.redis.zadd(registry.key, {job_id: 1})
        FallbackScheduler(self.redis, list(names or QUEUES), heartbeat_grace=60).run_once()
        queues = [Queue(name, connection=self.redis) for name in names or QUEUES]
        SimpleWorker(queues, connection=self.redis).work(burst=True, logging_level="ERROR")

    def workflow(self, workflow_id: str) -> Workflow:
        with session_scope(self.settings) as session:
            workflow = session.get(Workflow, workflow_id)
            assert workflow is not None
            return workflow

    def events(self, workflow_id: str) -> list[tuple[str, str, str]]:
        with session_scope(self.settings) as session:
            rows = session.exec(
                select(WorkflowEvent)
                .where(WorkflowEvent.workflow_id == workflow_id)
                .order_by(col(WorkflowEvent.id))
            ).all()
            return [(e.stage, e.kind, e.message) for e in rows]


@pytest.fixture(scope="module")
def database() -> Iterator[str]:
    """One PostgreSQL database for this module's tests (emptied between them): creating one
    per test would take most of their time."""
    name = f"shelfready_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    yield url
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def lifecycle(
    monkeypatch: pytest.MonkeyPatch, database: str, redis_url: str, tmp_path: Path
) -> Iterator[Lifecycle]:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("TRUNCATE workflow RESTART IDENTITY CASCADE")
    yield Lifecycle(monkeypatch, database, redis_url, tmp_path / "storage")
    BODIES.clear()
    RUNS.clear()
    monkeypatch.undo()
    stages.forget_cached_registrations()
    get_settings.cache_clear()


def test_each_stage_claims_then_finish_hands_over_and_the_last_completes(
    lifecycle: Lifecycle,
) -> None:
    workflow_id = lifecycle.submit()
    assert lifecycle.workflow(workflow_id).current_step == "INTAKE_CHECK"  # the first step

    lifecycle.work(INTAKE.queue.name)
    handed = lifecycle.workflow(workflow_id)
    assert (handed.status, handed.current_step, handed.progress) == ("PROCESSING", "RENDERING", 40)
    assert handed.job_id == stage_job_id(RENDER, workflow_id)
    assert Queue(RENDER.queue.name, connection=lifecycle.redis).job_ids == [handed.job_id]

    lifecycle.work(RENDER.queue.name)
    done = lifecycle.workflow(workflow_id)
    assert (done.status, done.progress, done.error) == ("COMPLETED", 100, None)
    assert done.completed_at is not None
    assert lifecycle.events(workflow_id) == [
        ("intake", "started", "attempt 1 of 3"),
        ("intake", "handed_over", "intake done; next: render"),
        ("render", "started", "attempt 1 of 3"),
        ("render", "completed", "render done"),
    ]


def test_a_second_delivery_of_a_finished_stage_is_a_no_op(lifecycle: Lifecycle) -> None:
    workflow_id = lifecycle.submit()
    lifecycle.work(INTAKE.queue.name)
    before = lifecycle.events(workflow_id)

    # The same job delivered again (its record ended; a producer or RQ sent it once more).
    enqueue_stage_job(lifecycle.redis, INTAKE, STAGE_RUN, workflow_id)
    lifecycle.work(INTAKE.queue.name)

    assert RUNS == {"intake": 1}  # claimed once: the body never ran again
    assert lifecycle.events(workflow_id) == before
    job = Job.fetch(stage_job_id(INTAKE, workflow_id), connection=lifecycle.redis)
    assert job.return_value() == "workflow is at RENDERING, which render handles"
    # The step that is due still has exactly one job.
    assert Queue(RENDER.queue.name, connection=lifecycle.redis).job_ids == [
        stage_job_id(RENDER, workflow_id)
    ]


def test_a_failing_attempt_is_retried_and_counted_then_the_last_one_fails_the_workflow(
    lifecycle: Lifecycle,
) -> None:
    def flaky(ctx: StageContext) -> str:
        if RUNS["intake"] < 3:
            raise StageError(f"flaky {RUNS['intake']}")
        return finish(ctx)

    BODIES["intake"] = flaky
    BODIES["render"] = failing
    workflow_id = lifecycle.submit()
    lifecycle.work()

    assert RUNS == {"intake": 3, "render": 3}
    workflow = lifecycle.workflow(workflow_id)
    assert workflow.status == WorkflowStatus.FAILED
    assert workflow.failed_step == "RENDERING"
    assert workflow.error == "RENDERING failed: StageError: the renderer broke"
    assert lifecycle.events(workflow_id) == [
        ("intake", "started", "attempt 1 of 3"),
        ("intake", "retrying", "attempt 1 failed: StageError: flaky 1; retrying in 0s"),
        ("intake", "started", "attempt 2 of 3"),
        ("intake", "retrying", "attempt 2 failed: StageError: flaky 2; retrying in 0s"),
        ("intake", "started", "attempt 3 of 3"),
        ("intake", "handed_over", "intake done; next: render"),
        ("render", "started", "attempt 1 of 3"),
        ("render", "retrying", "attempt 1 failed: StageError: the renderer broke; retrying in 0s"),
        ("render", "started", "attempt 2 of 3"),
        ("render", "retrying", "attempt 2 failed: StageError: the renderer broke; retrying in 0s"),
        ("render", "started", "attempt 3 of 3"),
        ("render", "failed", "RENDERING failed: StageError: the renderer broke"),
    ]
    job = Job.fetch(stage_job_id(RENDER, workflow_id), connection=lifecycle.redis)
    assert (job.get_status(), job.retries_left) == (JobStatus.FAILED, 0)


@pytest.mark.parametrize("kind", [STAGE_RUN, REGENERATE])
def test_an_open_breaker_defers_the_job_without_spending_a_retry(
    lifecycle: Lifecycle, kind: str
) -> None:
    if kind == STAGE_RUN:
        BODIES["render"] = asks_claude
        workflow_id = lifecycle.submit()
        lifecycle.work(INTAKE.queue.name)
        job_id = stage_job_id(RENDER, workflow_id)
    else:
        workflow_id = lifecycle.completed()
        BODIES[REGENERATE] = asks_claude
        producer.regenerate_image(lifecycle.settings, lifecycle.redis, workflow_id, 2)
        job_id = stage_job_id(RENDER, workflow_id, REGENERATE, 2)
    breaker = make_breaker("anthropic", lifecycle.redis)
    breaker.trip("ANTHROPIC_API_KEY was rejected")

    lifecycle.work(RENDER.queue.name)
    job = Job.fetch(job_id, connection=lifecycle.redis)
    assert job.get_status() == JobStatus.SCHEDULED  # the same job, waiting for the breaker
    assert job.retries_left == RENDER.queue.max_retries
    deferred = [e for e in lifecycle.events(workflow_id) if e[1] == "deferred"]
    assert len(deferred) == 1
    assert deferred[0][2].startswith("ANTHROPIC_API_KEY was rejected: render: ")
    assert lifecycle.workflow(workflow_id).status == (
        "PROCESSING" if kind == STAGE_RUN else "COMPLETED"
    )

    breaker.record_success()  # the key was fixed: the breaker closes
    BODIES[kind if kind == REGENERATE else "render"] = regenerated if kind == REGENERATE else finish
    lifecycle.work(RENDER.queue.name)
    assert Job.fetch(job_id, connection=lifecycle.redis).get_status() == JobStatus.FINISHED
    assert lifecycle.workflow(workflow_id).status == WorkflowStatus.COMPLETED


def test_regenerating_runs_under_the_lifecycle_and_its_failure_never_fails_the_workflow(
    lifecycle: Lifecycle,
) -> None:
    workflow_id = lifecycle.completed()
    history = lifecycle.events(workflow_id)

    BODIES[REGENERATE] = failing
    producer.regenerate_image(lifecycle.settings, lifecycle.redis, workflow_id, 3)
    producer.regenerate_image(lifecycle.settings, lifecycle.redis, workflow_id, 3)  # asked twice
    assert Queue(RENDER.queue.name, connection=lifecycle.redis).count == 1  # one job
    lifecycle.work(RENDER.queue.name)

    assert RUNS[REGENERATE] == 3  # its own retry budget, the stage's policy
    workflow = lifecycle.workflow(workflow_id)
    assert (workflow.status, workflow.error, workflow.failed_step) == ("COMPLETED", None, None)
    label = f"{REGENERATE} 3"
    assert lifecycle.events(workflow_id)[len(history) :] == [
        ("render", "image_regeneration_requested", "image 3"),
        ("render", "image_regeneration_requested", "image 3"),
        ("render", "started", f"{label}: attempt 1 of 3"),
        (
            "render",
            "retrying",
            f"attempt 1 failed: {label}: StageError: the renderer broke; retrying in 0s",
        ),
        ("render", "started", f"{label}: attempt 2 of 3"),
        (
            "render",
            "retrying",
            f"attempt 2 failed: {label}: StageError: the renderer broke; retrying in 0s",
        ),
        ("render", "started", f"{label}: attempt 3 of 3"),
        ("render", "failed", f"{label}: StageError: the renderer broke"),
    ]

    # Asked again after its failure: a fresh job with a fresh budget, which succeeds.
    BODIES[REGENERATE] = regenerated
    producer.regenerate_image(lifecycle.settings, lifecycle.redis, workflow_id, 3)
    lifecycle.work(RENDER.queue.name)
    assert lifecycle.events(workflow_id)[-1] == ("render", "image_regenerated", "")
    assert lifecycle.workflow(workflow_id).status == WorkflowStatus.COMPLETED


def test_a_regeneration_job_for_an_unfinished_workflow_does_nothing(lifecycle: Lifecycle) -> None:
    workflow_id = lifecycle.submit()  # not COMPLETED: the producer refuses, a stray job skips
    enqueue_stage_job(lifecycle.redis, RENDER, REGENERATE, workflow_id, 1)
    lifecycle.work(RENDER.queue.name)

    assert REGENERATE not in RUNS
    job = Job.fetch(stage_job_id(RENDER, workflow_id, REGENERATE, 1), connection=lifecycle.redis)
    assert (
        job.return_value() == f"workflow is PENDING; {REGENERATE} runs only once it has COMPLETED"
    )
    assert lifecycle.events(workflow_id) == []


def test_the_reconciler_re_enqueues_a_workflow_whose_job_is_missing(lifecycle: Lifecycle) -> None:
    workflow_id = lifecycle.submit()
    lifecycle.work(INTAKE.queue.name)
    # Redis lost the render job (or the process died between the commit and the enqueue).
    Job.fetch(stage_job_id(RENDER, workflow_id), connection=lifecycle.redis).delete()
    with session_scope(lifecycle.settings) as session:
        session.exec(  # type: ignore[call-overload]
            update(Workflow)
            .where(col(Workflow.id) == workflow_id)
            .values(updated_at=utcnow() - timedelta(minutes=5))
        )
    live = lifecycle.submit()  # moving normally: left alone

    started = time.monotonic()
    [action] = reconcile(lifecycle.settings, lifecycle.redis)
    assert time.monotonic() - started < 1
    assert (action.workflow_id, action.action) == (workflow_id, "resumed")
    assert action.detail == "render job re-enqueued (job was missing)"
    assert Queue(RENDER.queue.name, connection=lifecycle.redis).job_ids == [
        stage_job_id(RENDER, workflow_id)
    ]

    lifecycle.work()
    assert lifecycle.workflow(workflow_id).status == WorkflowStatus.COMPLETED
    assert lifecycle.workflow(live).status == WorkflowStatus.COMPLETED
    assert ("render", "resumed", action.detail) in lifecycle.events(workflow_id)
    assert RUNS == {"intake": 2, "render": 2}


def test_a_workflow_cancelled_while_a_stage_runs_moves_no_further(lifecycle: Lifecycle) -> None:
    def cancelled_meanwhile(ctx: StageContext) -> str:
        workflow_ops.cancel(ctx.settings, ctx.redis, ctx.workflow_id)  # the operator, meanwhile
        return finish(ctx)

    BODIES["intake"] = cancelled_meanwhile
    first = lifecycle.submit()
    lifecycle.work(INTAKE.queue.name)
    assert lifecycle.workflow(first).status == WorkflowStatus.CANCELLED
    assert Queue(RENDER.queue.name, connection=lifecycle.redis).job_ids == []  # no hand-over

    BODIES.clear()
    BODIES["render"] = cancelled_meanwhile  # the final step: it must not complete the workflow
    last = lifecycle.submit()
    lifecycle.work()
    assert lifecycle.workflow(last).status == WorkflowStatus.CANCELLED
    assert lifecycle.events(last)[-1] == ("operator", "cancelled", "cancelled by an operator")


def test_a_cancel_racing_the_final_step_never_overwrites_its_completion(
    lifecycle: Lifecycle, database: str
) -> None:
    outcome: list[BaseException | str] = []

    def cancel() -> None:
        try:
            outcome.append(workflow_ops.cancel(lifecycle.settings, lifecycle.redis, workflow_id))
        except Exception as exc:
            outcome.append(exc)

    def finish_while_cancel_waits(ctx: StageContext) -> str:
        with ctx.session() as session:
            ctx.finish(session, "render done")  # holds the workflow's row until the commit
            racer = threading.Thread(target=cancel)
            racer.start()
            wait_for_a_lock_wait(database)  # the cancel has read nothing yet: it waits
        racer.join(timeout=30)
        return "done"

    BODIES["render"] = finish_while_cancel_waits
    workflow_id = lifecycle.submit()
    lifecycle.work()

    assert lifecycle.workflow(workflow_id).status == WorkflowStatus.COMPLETED
    [refused] = outcome
    assert isinstance(refused, InvalidInput) and "already COMPLETED" in str(refused)


def wait_for_a_lock_wait(database: str) -> None:
    name = database.rsplit("/", 1)[1]
    deadline = time.monotonic() + 20
    with psycopg.connect(database, autocommit=True) as conn:
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (name,),
        ).fetchone() == (0,):
            assert time.monotonic() < deadline, "the cancel never waited for the row lock"
            time.sleep(0.05)


def test_storage_is_built_only_by_a_body_that_uses_it(
    lifecycle: Lifecycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[str] = []
    real = stage_module.get_storage
    monkeypatch.setattr(
        stage_module, "get_storage", lambda settings: built.append("storage") or real(settings)
    )

    def stores(ctx: StageContext) -> str:
        ctx.storage.put(f"{ctx.workflow_id}/note.txt", b"x", "text/plain")
        return finish(ctx)

    BODIES["render"] = stores
    workflow_id = lifecycle.submit()
    lifecycle.work(INTAKE.queue.name)
    assert built == []  # intake's body never touched storage: no client was made for it
    enqueue_stage_job(lifecycle.redis, INTAKE, STAGE_RUN, workflow_id)  # a redundant delivery
    lifecycle.work(INTAKE.queue.name)
    assert built == []
    lifecycle.work(RENDER.queue.name)
    assert built == ["storage"]
    assert (lifecycle.settings.storage_dir / workflow_id / "note.txt").read_bytes() == b"x"
