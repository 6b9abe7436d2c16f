"""What a job could not write while the database was away waits in the job's own Redis data
(its meta) and is written, in order and with its original times, once the database is back:
by the job's next attempt, by its failure callback, or by the reconciler. A job nothing would
come back for (a further job's final failure: its workflow stays COMPLETED, so the reconciler
does not look at it) is parked, and the reconciler writes the parked jobs' records too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlmodel import Session

from shelfready_core.models import ApiUsage, EventKind, Workflow, WorkflowEvent, utcnow
from shelfready_core.schemas import CallUsage

PENDING_EVENTS = "pending_events"  # [{"at", "stage", "kind", "message"}], oldest first
PENDING_USAGE = "pending_usage"  # [CallUsage as JSON]: paid calls of a deferred attempt
# A final failure the failure callback could not record: {"reason": ...}.
UNRECORDED_FAILURE = "unrecorded_failure"
# Redis set of the ids of parked jobs: their pending records wait for the reconciler alone.
PARKED_KEY = "shelfready:journal:parked"


def keep_event(job: Job, stage: str, kind: str, message: str) -> None:
    """Remember an event for later (the caller saves the job's meta)."""
    job.meta.setdefault(PENDING_EVENTS, []).append(
        {"at": utcnow().isoformat(), "stage": stage, "kind": kind, "message": message[:2000]}
    )


def keep_usage(job: Job, usage: list[CallUsage]) -> None:
    if usage:
        job.meta.setdefault(PENDING_USAGE, []).extend(u.model_dump(mode="json") for u in usage)


def has_pending(job: Job | None) -> bool:
    return job is not None and bool(job.meta.get(PENDING_EVENTS) or job.meta.get(PENDING_USAGE))


def write_pending(session: Session, job: Job | None, workflow_id: str) -> bool:
    """Add the job's pending events and usage to `session`; True when there were any.
    Call `forget` once the session has committed."""
    if not has_pending(job):
        return False
    assert job is not None
    for item in job.meta.get(PENDING_EVENTS) or []:
        session.add(_event_from(workflow_id, item))
    usage = [CallUsage.model_validate(u) for u in job.meta.get(PENDING_USAGE) or []]
    workflow = session.get(Workflow, workflow_id) if usage else None
    for call in usage:
        session.add(ApiUsage(workflow_id=workflow_id, **call.model_dump()))
        if workflow is not None:
            workflow.cost_usd = round(workflow.cost_usd + call.cost_usd, 6)
    session.flush()  # ids in the order they happened, before anything the caller adds
    return True


def forget(job: Job | None) -> None:
    """The pending records are in the database now: drop them from the job."""
    if job is None:
        return
    changed = False
    for key in (PENDING_EVENTS, PENDING_USAGE):
        if key in job.meta:
            del job.meta[key]
            changed = True
    if changed:
        job.save_meta()


def park(job: Job) -> None:
    """No later attempt will write this job's pending records: leave them to the reconciler."""
    job.connection.sadd(PARKED_KEY, job.id)


def write_parked(session: Session, redis: Redis) -> list[Job]:
    """Add every parked job's pending records to `session`; `unpark` the jobs returned once the
    session has committed. A job that expired, or whose workflow was deleted, is let go."""
    written: list[Job] = []
    for raw in redis.smembers(PARKED_KEY):
        job_id = raw.decode() if isinstance(raw, bytes) else str(raw)
        try:
            job = Job.fetch(job_id, connection=redis)
        except NoSuchJobError:
            redis.srem(PARKED_KEY, job_id)
            continue
        workflow_id = str(job.meta.get("workflow_id") or job.args[0])
        if session.get(Workflow, workflow_id) is not None and write_pending(
            session, job, workflow_id
        ):
            written.append(job)
        else:
            redis.srem(PARKED_KEY, job_id)
    return written


def unpark(jobs: list[Job]) -> None:
    for job in jobs:
        forget(job)
        job.connection.srem(PARKED_KEY, job.id)


def _event_from(workflow_id: str, item: dict[str, Any]) -> WorkflowEvent:
    return WorkflowEvent(
        workflow_id=workflow_id,
        stage=str(item.get("stage", "?")),
        kind=EventKind(item["kind"]),
        message=str(item.get("message", "")),
        created_at=datetime.fromisoformat(item["at"]) if item.get("at") else utcnow(),
    )
