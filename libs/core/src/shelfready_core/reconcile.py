"""Finds workflows that stopped moving and sets them going again.

A workflow is stuck when it is PENDING or PROCESSING, has not changed for a while
(SHELFREADY_STUCK_AFTER; a running stage renews updated_at as its lease), and the RQ job meant
to move it is gone (never enqueued because a process died right after the database commit,
lost with Redis, or expired) or ended without moving it. Live jobs, jobs waiting for a retry
and deferred jobs are left alone; RQ itself requeues jobs abandoned by dead workers.

What the job could not record while the database was away (journal.py) is written first, and
so is what parked jobs (a further job that failed for good meanwhile) could not record. A
job whose last attempt failed for an outage is resumed; one that failed on its own is FAILED,
with the exception's own message as the reason.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlmodel import col, select

from shelfready_core import journal
from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.models import Workflow, WorkflowStatus, utcnow
from shelfready_core.outages import reason_from_traceback
from shelfready_core.queues import ALIVE_STATES, STAGE_RUN, enqueue_stage_job, job_status
from shelfready_core.stage import FAILURE_META, event, mark_failed
from shelfready_core.stages import Stage, pipeline

log = logging.getLogger(__name__)

LOCK_KEY = "shelfready:reconcile:lock"


@dataclass(frozen=True)
class Action:
    workflow_id: str
    action: str  # "resumed" or "failed"
    detail: str


def reconcile(
    settings: Settings, redis: Redis, *, stuck_after: float | None = None
) -> list[Action]:
    threshold = settings.stuck_after if stuck_after is None else stuck_after
    cutoff = utcnow() - timedelta(seconds=threshold)
    actions: list[Action] = []
    resumes: list[tuple[str, Stage, str | None]] = []
    flushed: list[Job] = []
    with session_scope(settings) as session:
        stages = pipeline(session)
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
            try:
                stage = stages.owner_of(workflow.current_step)
            except KeyError:  # its stage has not registered (yet): nothing to enqueue
                log.warning(
                    "reconcile: workflow %s is at %s, which no known stage handles",
                    workflow.id,
                    workflow.current_step,
                )
                continue
            service = stage.name
            job = _fetch(redis, workflow.job_id)
            if journal.write_pending(session, job, workflow.id):
                assert job is not None
                flushed.append(job)
            note = f"job was {status or 'missing'}"
            if status == JobStatus.FAILED:
                reason, outage = _how_it_failed(redis, job, workflow.job_id)
                if not outage:
                    # The job's failure callback did not get to record it (database away).
                    mark_failed(session, workflow, service, reason)
                    actions.append(Action(workflow.id, "failed", reason))
                    continue
                note = f"its last attempt failed because of an outage: {reason}"
            detail = f"{service} job re-enqueued ({note})"
            workflow.updated_at = utcnow()
            session.add(event(workflow.id, service, "resumed", detail))
            resumes.append((workflow.id, stage, workflow.job_id))
            actions.append(Action(workflow.id, "resumed", detail))
        parked = journal.write_parked(session, redis)
    for job in flushed:  # committed: the job need not keep them any longer
        journal.forget(job)
    journal.unpark(parked)
    # Enqueued after the commit; dying in between leaves a job missing for the next sweep.
    for workflow_id, stage, job_id in resumes:
        enqueue_stage_job(redis, stage, STAGE_RUN, workflow_id, job_id=job_id)
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


def _fetch(redis: Redis, job_id: str | None) -> Job | None:
    if not job_id:
        return None
    try:
        return Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return None
    except Exception as exc:  # a half-written record (e.g. after Redis lost its data)
        log.debug("could not read job %s: %s", job_id, exc)
        return None


def _how_it_failed(redis: Redis, job: Job | None, job_id: str | None) -> tuple[str, bool]:
    """(one-sentence reason, was it an outage) for a failed job."""
    if job is None:
        return "the job failed (details expired)", False
    unrecorded = job.meta.get(journal.UNRECORDED_FAILURE)
    if unrecorded:  # a final verdict the callback could not write: it stands
        return str(unrecorded.get("reason") or "the job failed"), False
    failure = job.meta.get(FAILURE_META)
    if failure:
        return str(failure.get("reason") or "the job failed"), bool(failure.get("outage"))
    try:
        result = job.latest_result()
    except Exception:
        return "the job failed (details expired)", False
    if result is None or not result.exc_string:
        return "the job failed", False
    return reason_from_traceback(result.exc_string)
