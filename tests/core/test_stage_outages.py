"""The stage lifecycle under outages, in process: a real RQ worker (SimpleWorker), real Redis,
real PostgreSQL, and a database "outage" that is a URL nothing listens on."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
import redis
import sqlalchemy.exc
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from sqlmodel import SQLModel, col, select

from shelfready_core import journal, queues
from shelfready_core.claude.errors import ClaudeCredentialRejected
from shelfready_core.config import Settings, get_settings
from shelfready_core.db import get_engine, session_scope
from shelfready_core.errors import StageError
from shelfready_core.models import ApiUsage, Workflow, WorkflowEvent, WorkflowStatus
from shelfready_core.reconcile import reconcile
from shelfready_core.schemas import CallUsage
from shelfready_core.stage import StageContext, run_stage
from shelfready_core.stages import pipeline
from shelfready_runner.rq_worker import FallbackScheduler
from tests.integration.servers import free_port

# The recognition stage as declared, its job replaced by this module's stand-in.
STAGE = replace(pipeline().get("recognition"), job=f"{__name__}.outage_stage")
QUEUE = STAGE.queue.name
# imagegen as declared, its further job (regenerating one image) replaced by this module's.
FURTHER = "regenerate_image"
IMAGEGEN = replace(pipeline().get("imagegen"), jobs={FURTHER: f"{__name__}.further_stage"})
# What the stage body does this time; a test sets it.
BODY: list[Callable[[StageContext], str]] = []


def finish(ctx: StageContext) -> str:
    with ctx.session() as session:
        ctx.finish(session, "done")
    return "done"


def outage_stage(workflow_id: str) -> object:
    """Stands in for a service's job entry point, with the body the test chose."""
    return run_stage("recognition", workflow_id, BODY[-1])


def further_stage(workflow_id: str, index: int) -> object:
    return run_stage("imagegen", workflow_id, BODY[-1], kind=FURTHER)


def db_error_job(workflow_id: str) -> None:
    """A job that died of a database error outside the lifecycle (no callback recorded it)."""
    get_engine(get_settings()).connect()


def faulty_job(workflow_id: str) -> int:
    """A job that failed on its own."""
    return int("not a number")


class Deployment:
    """Environment switches between a reachable and an unreachable database."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, pg_url: str, redis_url: str) -> None:
        self.monkeypatch, self.pg_url = monkeypatch, pg_url
        self.down_url = f"postgresql://postgres@127.0.0.1:{free_port()}/gone"
        self.redis = redis.Redis.from_url(redis_url)
        monkeypatch.setenv("REDIS_URL", redis_url)
        monkeypatch.setenv("SHELFREADY_AI", "offline")
        self.database_up()
        SQLModel.metadata.create_all(get_engine(self.settings))

    @property
    def settings(self) -> Settings:
        return get_settings()

    def database_up(self) -> None:
        self.monkeypatch.setenv("DATABASE_URL", self.pg_url)
        get_settings.cache_clear()

    def database_down(self) -> None:
        self.monkeypatch.setenv("DATABASE_URL", self.down_url)
        get_settings.cache_clear()

    def new_workflow(self) -> str:
        with session_scope(self.settings) as session:
            workflow = Workflow(source="storage:x", job_id=None)
            workflow.job_id = queues.stage_job_id("recognition", workflow.id)
            session.add(workflow)
        return workflow.id

    def run_due_jobs(self, queue: str = QUEUE) -> None:
        """Make every scheduled job due now, move it to its queue, run the queue dry."""
        registry = ScheduledJobRegistry(queue, connection=self.redis)
        for job_id in registry.get_job_ids():
            self.redis.zadd(registry.key, {job_id: 1})
        FallbackScheduler(self.redis, [queue], heartbeat_grace=60).run_once()
        worker = SimpleWorker([Queue(queue, connection=self.redis)], connection=self.redis)
        worker.work(burst=True, logging_level="WARNING")

    def events(self, workflow_id: str) -> list[WorkflowEvent]:
        with session_scope(self.settings) as session:
            return list(
                session.exec(
                    select(WorkflowEvent)
                    .where(WorkflowEvent.workflow_id == workflow_id)
                    .order_by(col(WorkflowEvent.id))
                ).all()
            )

    def workflow(self, workflow_id: str) -> Workflow:
        with session_scope(self.settings) as session:
            workflow = session.get(Workflow, workflow_id)
            assert workflow is not None
            return workflow


@pytest.fixture
def deployment(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, redis_url: str
) -> Iterator[Deployment]:
    yield Deployment(monkeypatch, pg_url, redis_url)
    BODY.clear()
    get_settings.cache_clear()


def scheduled_in(deployment: Deployment, job_id: str) -> float:
    registry = ScheduledJobRegistry(QUEUE, connection=deployment.redis)
    score = deployment.redis.zscore(registry.key, job_id)
    assert score is not None, "the job is not scheduled"
    return score - time.time()


def test_an_outage_in_the_claim_defers_the_same_job_and_history_is_written_when_back(
    deployment: Deployment,
) -> None:
    BODY.append(finish)
    workflow_id = deployment.new_workflow()
    deployment.database_down()
    job = queues.enqueue_stage_job(deployment.redis, STAGE, queues.STAGE_RUN, workflow_id)

    deployment.run_due_jobs()  # the claim cannot reach the database
    job = Job.fetch(job.id, connection=deployment.redis)
    assert job.get_status() == JobStatus.SCHEDULED  # the same job, waiting
    assert job.retries_left == 3  # no retry spent
    assert 3 < scheduled_in(deployment, job.id) <= 5
    [pending] = job.meta[journal.PENDING_EVENTS]
    assert pending["kind"] == "deferred"
    assert pending["message"].startswith("the database was unreachable: connection failed")
    assert "sqlalche.me" not in pending["message"] and "\n" not in pending["message"]

    deployment.run_due_jobs()  # still away: the delay doubles
    job = Job.fetch(job.id, connection=deployment.redis)
    assert 8 < scheduled_in(deployment, job.id) <= 10
    assert len(job.meta[journal.PENDING_EVENTS]) == 2

    deployment.database_up()
    deployment.run_due_jobs()
    job = Job.fetch(job.id, connection=deployment.redis)
    assert job.get_status() == JobStatus.FINISHED and job.retries_left == 3
    assert journal.PENDING_EVENTS not in job.meta
    assert deployment.workflow(workflow_id).current_step == "LISTING_GENERATION"  # handed over
    events = deployment.events(workflow_id)
    assert [e.kind for e in events] == ["deferred", "deferred", "started", "handed_over"]
    assert [e.created_at for e in events] == sorted(e.created_at for e in events)
    assert events[2].message == "attempt 1 of 4"


def test_after_the_outage_budget_the_workflow_fails_naming_the_outage(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHELFREADY_OUTAGE_BUDGET", "1")
    BODY.append(finish)
    workflow_id = deployment.new_workflow()
    deployment.database_down()
    job = queues.enqueue_stage_job(deployment.redis, STAGE, queues.STAGE_RUN, workflow_id)
    deployment.run_due_jobs()
    assert Job.fetch(job.id, connection=deployment.redis).get_status() == JobStatus.SCHEDULED
    time.sleep(1.1)

    deployment.run_due_jobs()  # budget spent, database still away: the verdict waits
    job = Job.fetch(job.id, connection=deployment.redis)
    assert job.get_status() == JobStatus.FAILED
    assert job.meta[journal.UNRECORDED_FAILURE] == {
        "reason": "the database was unreachable for 1 second"
    }

    deployment.database_up()
    [action] = reconcile(deployment.settings, deployment.redis, stuck_after=0)
    assert action.action == "failed"
    workflow = deployment.workflow(workflow_id)
    assert workflow.status == WorkflowStatus.FAILED
    assert workflow.error == "IMAGE_DOWNLOAD failed: the database was unreachable for 1 second"
    assert [e.kind for e in deployment.events(workflow_id)] == ["deferred", "failed"]


def test_a_rejected_key_defers_without_a_retry_and_is_recorded_at_once(
    deployment: Deployment,
) -> None:
    def rejected(ctx: StageContext) -> str:
        raise ClaudeCredentialRejected(
            "recognition: Claude API HTTP 401 (authentication_error): invalid x-api-key",
            status_code=401,
        )

    BODY.append(rejected)
    workflow_id = deployment.new_workflow()
    job = queues.enqueue_stage_job(deployment.redis, STAGE, queues.STAGE_RUN, workflow_id)
    deployment.run_due_jobs()

    job = Job.fetch(job.id, connection=deployment.redis)
    assert job.get_status() == JobStatus.SCHEDULED and job.retries_left == 3
    assert journal.PENDING_EVENTS not in job.meta  # the database was up: written already
    kinds = [(e.kind, e.message) for e in deployment.events(workflow_id)]
    assert kinds[0] == ("started", "attempt 1 of 4")
    assert kinds[1][0] == "deferred"
    assert kinds[1][1].startswith(
        "ANTHROPIC_API_KEY was rejected: recognition: Claude API HTTP 401"
    )
    assert deployment.workflow(workflow_id).status == WorkflowStatus.PROCESSING


def test_the_reconciler_resumes_a_job_that_died_of_an_outage_and_fails_one_that_did_not(
    deployment: Deployment,
) -> None:
    queue = Queue(QUEUE, connection=deployment.redis)
    outage_id, fault_id = deployment.new_workflow(), deployment.new_workflow()
    deployment.database_down()
    queue.enqueue(db_error_job, outage_id, job_id=f"recognition-{outage_id}")
    queue.enqueue(faulty_job, fault_id, job_id=f"recognition-{fault_id}")
    deployment.run_due_jobs()
    deployment.database_up()

    actions = {
        a.workflow_id: a for a in reconcile(deployment.settings, deployment.redis, stuck_after=0)
    }

    assert actions[outage_id].action == "resumed"
    assert "OperationalError: connection failed" in actions[outage_id].detail
    assert "sqlalche.me" not in actions[outage_id].detail
    job = Job.fetch(f"recognition-{outage_id}", connection=deployment.redis)
    assert job.get_status() == JobStatus.QUEUED and job.retries_left == 3
    assert deployment.workflow(outage_id).status != WorkflowStatus.FAILED

    assert actions[fault_id].action == "failed"
    fault = deployment.workflow(fault_id)
    assert fault.error == (
        "IMAGE_DOWNLOAD failed: ValueError: invalid literal for int() with base 10: 'not a number'"
    )


def test_a_retry_the_callback_could_not_record_is_written_before_the_next_attempt(
    deployment: Deployment,
) -> None:
    attempts: list[int] = []

    def fails_once_then_the_database_goes(ctx: StageContext) -> str:
        attempts.append(1)
        if len(attempts) == 1:
            deployment.database_down()  # gone before the failure callback runs
            raise StageError("the answer did not validate")
        return finish(ctx)

    BODY.append(fails_once_then_the_database_goes)
    workflow_id = deployment.new_workflow()
    job = queues.enqueue_stage_job(deployment.redis, STAGE, queues.STAGE_RUN, workflow_id)
    deployment.run_due_jobs()

    job = Job.fetch(job.id, connection=deployment.redis)
    assert job.retries_left == 2  # the job's own fault: a retry spent
    [pending] = job.meta[journal.PENDING_EVENTS]
    assert pending["kind"] == "retrying"
    assert pending["message"] == (
        "attempt 1 failed: StageError: the answer did not validate; retrying in 2s"
    )

    deployment.database_up()
    deployment.run_due_jobs()
    events = deployment.events(workflow_id)
    assert [(e.kind, e.message) for e in events] == [
        ("started", "attempt 1 of 4"),
        ("retrying", pending["message"]),
        ("started", "attempt 2 of 4"),
        ("handed_over", "done; next: listing"),
    ]
    assert deployment.workflow(workflow_id).current_step == "LISTING_GENERATION"


def test_a_further_job_that_failed_while_the_database_was_away_is_recorded_once_it_is_back(
    deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its workflow stays COMPLETED, so only the parked journal brings its history and its
    paid call into the database."""
    monkeypatch.setenv("SHELFREADY_OUTAGE_BUDGET", "1")
    paid = CallUsage(stage="imagegen", model="claude-sonnet-4-5", output_tokens=900, cost_usd=0.02)

    def paid_then_the_database_goes(ctx: StageContext) -> str:
        deployment.database_down()
        exc = sqlalchemy.exc.OperationalError("UPDATE", {}, Exception("connection failed"))
        exc.usage = [paid]  # type: ignore[attr-defined]  # as a Claude error carries it
        raise exc

    BODY.append(paid_then_the_database_goes)
    workflow_id = deployment.new_workflow()
    with session_scope(deployment.settings) as session:
        workflow = session.get(Workflow, workflow_id)
        assert workflow is not None
        workflow.status = WorkflowStatus.COMPLETED
    queue = IMAGEGEN.queue.name
    job = queues.enqueue_stage_job(deployment.redis, IMAGEGEN, FURTHER, workflow_id, 3)
    deployment.run_due_jobs(queue)  # started, paid, then deferred: the database went away
    time.sleep(1.1)
    deployment.run_due_jobs(queue)  # the outage outlasted the budget, the database still away
    job = Job.fetch(job.id, connection=deployment.redis)
    assert job.get_status() == JobStatus.FAILED
    assert [e["kind"] for e in job.meta[journal.PENDING_EVENTS]] == ["deferred", "failed"]

    deployment.database_up()
    assert reconcile(deployment.settings, deployment.redis, stuck_after=0) == []

    assert [(e.kind, e.message) for e in deployment.events(workflow_id)][1:] == [
        ("deferred", job.meta[journal.PENDING_EVENTS][0]["message"]),
        ("failed", "regenerate_image 3: the database was unreachable for 1 second"),
    ]
    workflow = deployment.workflow(workflow_id)
    assert workflow.status == WorkflowStatus.COMPLETED and workflow.cost_usd == 0.02
    with session_scope(deployment.settings) as session:
        [row] = session.exec(select(ApiUsage).where(ApiUsage.workflow_id == workflow_id)).all()
        assert (row.output_tokens, row.cost_usd) == (900, 0.02)
    job = Job.fetch(job.id, connection=deployment.redis)
    assert journal.PENDING_EVENTS not in job.meta and journal.PENDING_USAGE not in job.meta
    assert not deployment.redis.exists(journal.PARKED_KEY)
    # A second sweep writes nothing twice.
    reconcile(deployment.settings, deployment.redis, stuck_after=0)
    assert len(deployment.events(workflow_id)) == 3
