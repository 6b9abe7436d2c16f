"""Typed columns: a workflow's status and an event's kind are their enums, stored as strings."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy.exc import StatementError
from sqlmodel import select

from shelfready_core.db import session_scope
from shelfready_core.migrate import migrate
from shelfready_core.models import EventKind, Workflow, WorkflowEvent, WorkflowStatus
from tests.api.conftest import make_settings


def test_status_and_kind_read_back_as_enums_and_are_stored_as_their_values(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    settings = make_settings(pg_url, redis_url, tmp_path)
    migrate(settings)
    with session_scope(settings) as session:
        workflow = Workflow(source="storage:x", status=WorkflowStatus.FAILED)
        session.add(workflow)
        session.flush()
        session.add(WorkflowEvent(workflow_id=workflow.id, stage="listing", kind="handed_over"))
        workflow_id = workflow.id
    with session_scope(settings) as session:
        row = session.get(Workflow, workflow_id)
        assert row is not None and row.status is WorkflowStatus.FAILED
        event = session.exec(
            select(WorkflowEvent).where(WorkflowEvent.workflow_id == workflow_id)
        ).one()
        assert event.kind is EventKind.HANDED_OVER
    with psycopg.connect(pg_url) as conn:
        stored = conn.execute(
            "SELECT w.status, e.kind FROM workflow w JOIN workflow_event e ON e.workflow_id = w.id"
        ).fetchone()
    assert stored == ("FAILED", "handed_over")


def test_an_unknown_event_kind_is_refused_when_written(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    settings = make_settings(pg_url, redis_url, tmp_path)
    migrate(settings)
    with (
        pytest.raises(StatementError, match="not among the defined enum values"),
        session_scope(settings) as session,
    ):
        workflow = Workflow(source="storage:x")
        session.add(workflow)
        session.flush()
        session.add(WorkflowEvent(workflow_id=workflow.id, stage="listing", kind="typo"))
