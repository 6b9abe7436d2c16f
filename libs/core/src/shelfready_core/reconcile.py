"""Finds workflows that stopped moving and sets them going again.

A workflow is stuck when it is PENDING or PROCESSING, has not changed for a while, and the
RQ job meant to move it is gone (never enqueued because a process died right after the
database commit, or expired) or ended without moving it. Live jobs, jobs waiting for a retry
and deferred jobs are left alone; RQ itself requeues jobs abandoned by dead workers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from redis import Redis
from rq.job import Job, JobStatus
from sqlmodel import col, select

from shelfready_core import defaults
from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.models import Workflow, WorkflowStatus, WorkflowStep, utcnow
from shelfready_core.queues import ALIVE_STATES, STEP_SERVICE, enqueue_stage, job_status
from shelfready_core.stage import event

log = logging.getLogger(__name__)

LOCK_KEY = "shelfready:reconcile:lock"


@dataclass(frozen=True)
class Action:
    workflow_id: str
    action: str  # "resumed" or "failed"
    detail: str


def reconcile(
    settings: Settings, redis: Redis, *, stuck_after: float = defaults.STUCK_AFTER_SECONDS
) -> list[Action]:
    cutoff = utcnow() - timedelta(seconds=stuck_after)
    actions: list[Action] = []
    with session_scope(settings) as session:
        candidates = session.exec(
            select(Workflow).where(
                col(Workflow.status).in_([WorkflowStatus.PENDING, WorkflowStatus.PROCESSING]),
                col(Workflow.updated_at) < cutoff,
            )
        ).all()
        for workflow in candidates:
            status = job_status(redis, workflow.job_id)
            if status in ALIVE_STATES:
                continue
            service = STEP_SERVICE[WorkflowStep(workflow.current_step)]
            if status == JobStatus.FAILED:
                # The job's failure callback did not get to record it (e.g. it crashed).
                reason = _failure_text(redis, workflow.job_id)
                workflow.status = WorkflowStatus.FAILED
                workflow.failed_step = workflow.current_step
                workflow.error = f"{workflow.current_step} failed: {reason}"
                session.add(event(workflow.id, service, "failed", workflow.error))
                actions.append(Action(workflow.id, "failed", reason))
                continue
            job = enqueue_stage(redis, service, workflow.id, job_id=workflow.job_id)
            detail = f"{service} job {job.id} re-enqueued (job was {status or 'missing'})"
            workflow.job_id = job.id
            workflow.updated_at = utcnow()
            session.add(event(workflow.id, service, "resumed", detail))
            actions.append(Action(workflow.id, "resumed", detail))
    for action in actions:
        log.warning(
            "reconcile: workflow %s %s: %s", action.workflow_id, action.action, action.detail
        )
    return actions


def reconcile_once_among_workers(settings: Settings, redis: Redis, interval: float) -> list[Action]:
    """Run reconcile unless another worker did within `interval` seconds."""
    if not redis.set(LOCK_KEY, "1", nx=True, ex=max(1, int(interval))):
        return []
    return reconcile(settings, redis)


def _failure_text(redis: Redis, job_id: str | None) -> str:
    if not job_id:
        return "unknown error"
    try:
        result = Job.fetch(job_id, connection=redis).latest_result()
    except Exception:
        return "the job failed (details expired)"
    text = (result.exc_string or "").strip().splitlines() if result else []
    return text[-1] if text else "the job failed"
