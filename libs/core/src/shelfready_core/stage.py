"""The lifecycle every stage job shares: claim, run, advance or fail, never duplicate.

A stage saves its results and moves the workflow to the next step in ONE transaction, then
enqueues the next job under a deterministic id. If the process dies between the two, the
reconciler sees a workflow whose job does not exist and enqueues it (see reconcile.py).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis import Redis
from rq import get_current_job
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.timeouts import JobTimeoutException
from sqlmodel import Session

from shelfready_core import defaults
from shelfready_core.config import Settings, get_settings
from shelfready_core.db import session_scope
from shelfready_core.errors import InvalidInput, ServiceUnavailable
from shelfready_core.models import (
    ApiUsage,
    Workflow,
    WorkflowEvent,
    WorkflowStatus,
    WorkflowStep,
    utcnow,
)
from shelfready_core.queues import SERVICE_FIRST_STEP, STEP_SERVICE, enqueue_stage, stage_job_id
from shelfready_core.redis_conn import get_redis
from shelfready_core.schemas import CallUsage
from shelfready_core.storage import Storage, get_storage

log = logging.getLogger(__name__)

TERMINAL = {WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED}


@dataclass
class StageContext:
    """What a stage body needs: settings, connections, and helpers to record progress."""

    service: str
    workflow_id: str
    settings: Settings
    redis: Redis
    storage: Storage
    _after_commit: list[Callable[[], Any]] = field(default_factory=list)

    def session(self) -> Any:
        return session_scope(self.settings)

    def workflow(self, session: Session) -> Workflow:
        workflow = session.get(Workflow, self.workflow_id)
        if workflow is None:
            raise InvalidInput(f"workflow {self.workflow_id} no longer exists")
        return workflow

    def set_progress(self, progress: int, step: WorkflowStep | None = None) -> None:
        with self.session() as session:
            workflow = self.workflow(session)
            workflow.progress = max(workflow.progress, progress)
            if step is not None:
                workflow.current_step = step
            workflow.updated_at = utcnow()

    def record_usage(self, session: Session, usage: list[CallUsage]) -> None:
        """Store paid calls and add their cost to the workflow's total."""
        workflow = self.workflow(session)
        for call in usage:
            session.add(ApiUsage(workflow_id=self.workflow_id, **call.model_dump()))
            workflow.cost_usd = round(workflow.cost_usd + call.cost_usd, 6)

    def advance(self, session: Session, next_service: str, progress: int) -> None:
        """Move to the next stage inside the caller's transaction; enqueue once it commits."""
        workflow = self.workflow(session)
        job_id = stage_job_id(next_service, self.workflow_id)
        workflow.current_step = SERVICE_FIRST_STEP[next_service]
        workflow.progress = max(workflow.progress, progress)
        workflow.job_id = job_id
        workflow.updated_at = utcnow()
        session.add(event(self.workflow_id, self.service, "handed_over", f"next: {next_service}"))
        self._after_commit.append(
            lambda: enqueue_stage(self.redis, next_service, self.workflow_id, job_id=job_id)
        )

    def complete(self, session: Session, message: str = "") -> None:
        workflow = self.workflow(session)
        workflow.status = WorkflowStatus.COMPLETED
        workflow.progress = defaults.PROGRESS_DONE
        workflow.error = None
        workflow.failed_step = None
        workflow.completed_at = workflow.updated_at = utcnow()
        session.add(event(self.workflow_id, self.service, "completed", message))


def event(workflow_id: str, stage: str, kind: str, message: str = "") -> WorkflowEvent:
    return WorkflowEvent(workflow_id=workflow_id, stage=stage, kind=kind, message=message[:2000])


def run_stage(service: str, workflow_id: str, body: Callable[[StageContext], str]) -> str:
    """Run one stage for one workflow under the shared lifecycle; returns a short outcome."""
    settings = get_settings()
    redis = get_redis(settings)
    ctx = StageContext(service, workflow_id, settings, redis, get_storage(settings))
    job = get_current_job()

    skip = _claim(ctx, job)
    if skip:
        _run_after_commit(ctx)
        log.info("[%s] skipped workflow %s: %s", service, workflow_id, skip)
        return skip

    log.info("[%s] started: workflow %s", service, workflow_id)
    try:
        outcome = body(ctx)
    except ServiceUnavailable as exc:
        return _defer(ctx, exc)
    except InvalidInput:
        # Bad input will not get better with retries: fail now, with the reason.
        if job is not None:
            job.retries_left = 0
        raise
    except Exception as exc:
        _record_failed_usage(ctx, getattr(exc, "usage", None))
        raise
    _run_after_commit(ctx)
    return outcome


def _run_after_commit(ctx: StageContext) -> None:
    for callback in ctx._after_commit:
        callback()
    ctx._after_commit.clear()


def _record_failed_usage(ctx: StageContext, usage: list[CallUsage] | None) -> None:
    """Calls made before a failure were still paid for."""
    if not usage:
        return
    try:
        with ctx.session() as session:
            ctx.record_usage(session, usage)
    except Exception:
        log.exception("could not record the usage of a failed attempt")


def _claim(ctx: StageContext, job: Job | None) -> str | None:
    """Mark the workflow as processed by this stage, or say why this delivery is redundant."""
    with ctx.session() as session:
        workflow = session.get(Workflow, ctx.workflow_id)
        if workflow is None:
            return "workflow no longer exists"
        if workflow.status in TERMINAL:
            return f"workflow is already {workflow.status}"
        owner = STEP_SERVICE[WorkflowStep(workflow.current_step)]
        if owner != ctx.service:
            # A redundant delivery: make sure the step that is due has its job, then stop.
            ctx._after_commit.append(
                lambda: enqueue_stage(ctx.redis, owner, ctx.workflow_id, job_id=workflow.job_id)
            )
            return f"workflow is at {workflow.current_step}, which {owner} handles"
        workflow.status = WorkflowStatus.PROCESSING
        if job is not None:
            workflow.job_id = job.id
        workflow.updated_at = utcnow()
        session.add(event(ctx.workflow_id, ctx.service, "started", _attempt_text(job)))
    return None


def _attempt_text(job: Job | None) -> str:
    if job is None:
        return "attempt 1"
    policy = defaults.QUEUE_POLICIES[job.meta.get("service", "recognition")]
    left = job.retries_left if job.retries_left is not None else policy.max_retries
    return f"attempt {policy.max_retries - left + 1} of {policy.max_retries + 1}"


def _defer(ctx: StageContext, exc: ServiceUnavailable) -> str:
    """Re-schedule this stage for when the service should be back; the workflow stays PROCESSING."""
    delay = max(1.0, exc.retry_after_seconds)
    job_id = stage_job_id(ctx.service, ctx.workflow_id, f"-d{int(time.time() * 1000)}")
    with ctx.session() as session:
        workflow = ctx.workflow(session)
        workflow.job_id = job_id
        workflow.updated_at = utcnow()
        session.add(
            event(ctx.workflow_id, ctx.service, "deferred", f"{exc}; retry in {delay:.0f}s")
        )
    enqueue_stage(ctx.redis, ctx.service, ctx.workflow_id, job_id=job_id, delay_seconds=delay)
    log.warning("[%s] deferred workflow %s by %.0fs: %s", ctx.service, ctx.workflow_id, delay, exc)
    return "deferred"


def readable_reason(exc_type: type[BaseException] | None, exc: BaseException | None) -> str:
    """A reason a seller or operator can act on; never a traceback."""
    if exc_type is not None and issubclass(exc_type, AbandonedJobError):
        return "the worker processing this step stopped unexpectedly (job abandoned)"
    if exc_type is not None and issubclass(exc_type, JobTimeoutException):
        return "the step took longer than its time limit"
    if exc is None:
        return "unknown error"
    text = str(exc).strip() or type(exc).__name__
    if isinstance(exc, InvalidInput):
        return text
    return f"{type(exc).__name__}: {text}"


def on_stage_failure(job: Job, connection: Redis, exc_type: Any, exc: Any, _tb: Any) -> None:
    """RQ failure callback: record a retry, or mark FAILED only once no retry is left."""
    try:
        _record_failure(job, exc_type, exc)
    except Exception:  # a failing callback must not mask the job's own failure
        log.exception("could not record the failure of job %s", job.id)


def _record_failure(job: Job, exc_type: Any, exc: Any) -> None:
    workflow_id = job.meta.get("workflow_id") or job.args[0]
    service = job.meta.get("service", "?")
    policy = defaults.QUEUE_POLICIES.get(service)
    reason = readable_reason(exc_type, exc)
    retries_left = job.retries_left or 0
    with session_scope(get_settings()) as session:
        workflow = session.get(Workflow, workflow_id)
        if workflow is None or workflow.status in TERMINAL:
            return
        workflow.updated_at = utcnow()
        if retries_left > 0 and policy is not None:
            used = policy.max_retries - retries_left
            wait = policy.retry_intervals[min(used, len(policy.retry_intervals) - 1)]
            message = f"attempt {used + 1} failed: {reason}; retrying in {wait}s"
            session.add(event(workflow_id, service, "retrying", message))
            log.warning("[%s] workflow %s %s", service, workflow_id, message)
            return
        step = workflow.current_step
        workflow.status = WorkflowStatus.FAILED
        workflow.failed_step = step
        workflow.error = f"{step} failed: {reason}"
        session.add(event(workflow_id, service, "failed", workflow.error))
        log.error("[%s] workflow %s failed: %s", service, workflow_id, reason)
