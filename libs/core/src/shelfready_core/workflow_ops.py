"""Operator actions on workflows: list recent failures, cancel one."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis import Redis

    from shelfready_core.config import Settings

log = logging.getLogger(__name__)


def recent_failures(settings: Settings, limit: int = 20) -> list[dict[str, Any]]:
    """The newest FAILED workflows with the step that failed and why."""
    from sqlmodel import col, select

    from shelfready_core.db import session_scope
    from shelfready_core.models import Workflow, WorkflowStatus

    with session_scope(settings) as session:
        rows = session.exec(
            select(Workflow)
            .where(Workflow.status == WorkflowStatus.FAILED)
            .order_by(col(Workflow.updated_at).desc())
            .limit(limit)
        ).all()
        return [
            {
                "id": row.id,
                "failed_step": row.failed_step,
                "error": row.error,
                "source_name": row.source_name,
                "failed_at": _iso(row.updated_at),
            }
            for row in rows
        ]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def cancel(settings: Settings, redis: Redis, workflow_id: str) -> str:
    """Mark a workflow CANCELLED and drop its waiting job; returns what happened to the job.

    A job already running finishes its step, but the next stage sees CANCELLED and stops.
    """
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    from shelfready_core.db import session_scope
    from shelfready_core.errors import InvalidInput
    from shelfready_core.models import WorkflowStatus, utcnow
    from shelfready_core.producer import get_workflow
    from shelfready_core.stage import TERMINAL, event

    with session_scope(settings) as session:
        # Locked: a stage finishing meanwhile either completes first (and this refuses) or
        # finds the workflow CANCELLED and stops; it never overwrites the other.
        workflow = get_workflow(session, workflow_id, lock=True)
        if workflow.status in TERMINAL:
            raise InvalidInput(
                f"workflow {workflow_id} is already {workflow.status}; there is nothing to cancel"
            )
        workflow.status = WorkflowStatus.CANCELLED
        workflow.updated_at = workflow.completed_at = utcnow()
        session.add(event(workflow_id, "operator", "cancelled", "cancelled by an operator"))
        job_id = workflow.job_id
    if not job_id:
        return "no job was queued"
    try:
        job = Job.fetch(job_id, connection=redis)
    except NoSuchJobError:
        return "its job had already gone"
    status = job.get_status()
    if status == "started":
        return "its running step finishes, then the workflow stops"
    job.cancel()
    log.info("workflow %s cancelled; job %s (%s) cancelled", workflow_id, job_id, status)
    return f"its {status} job was removed from the queue"
