"""What a job could not write while the database was away waits in the job's own Redis data
(its meta) and is written, in order and with its original times, once the database is back:
by the job's next attempt, by its failure callback, or by the reconciler."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rq.job import Job
from sqlmodel import Session

from shelfready_core.models import ApiUsage, EventKind, Workflow, WorkflowEvent, utcnow
from shelfready_core.schemas import CallUsage

PENDING_EVENTS = "pending_events"  # [{"at", "stage", "kind", "message"}], oldest first
PENDING_USAGE = "pending_usage"  # [CallUsage as JSON]: paid calls of a deferred attempt
# A final failure the failure callback could not record: {"reason": ...}.
UNRECORDED_FAILURE = "unrecorded_failure"


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


def _event_from(workflow_id: str, item: dict[str, Any]) -> WorkflowEvent:
    return WorkflowEvent(
        workflow_id=workflow_id,
        stage=str(item.get("stage", "?")),
        kind=EventKind(item["kind"]),
        message=str(item.get("message", "")),
        created_at=datetime.fromisoformat(item["at"]) if item.get("at") else utcnow(),
    )
