"""`shelfready retry --failed-since / --all-failed`: bulk recovery after an outage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import redis
from rq.job import Job
from sqlmodel import SQLModel
from typer.testing import CliRunner

from shelfready_core.config import get_settings
from shelfready_core.db import get_engine, session_scope
from shelfready_core.models import Workflow, WorkflowStatus, utcnow
from shelfready_runner.cli import app


@pytest.fixture
def failed_workflows(
    monkeypatch: pytest.MonkeyPatch, pg_url: str, redis_url: str
) -> Iterator[dict[str, str]]:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    settings = get_settings()
    SQLModel.metadata.create_all(get_engine(settings))
    ages = {"old": timedelta(hours=3), "recent": timedelta(minutes=10), "new": timedelta(0)}
    ids = {}
    with session_scope(settings) as session:
        for name, age in ages.items():
            workflow = Workflow(
                source="storage:x",
                status=WorkflowStatus.FAILED,
                current_step="LISTING_GENERATION",
                failed_step="LISTING_GENERATION",
                error="LISTING_GENERATION failed: the database was unreachable for 30 minutes",
                updated_at=utcnow() - age,
            )
            session.add(workflow)
            ids[name] = workflow.id
        session.add(Workflow(source="storage:y", status=WorkflowStatus.COMPLETED))
    yield ids
    get_settings.cache_clear()


def test_failed_since_and_all_failed_resume_the_failed_workflows(
    failed_workflows: dict[str, str], redis_url: str
) -> None:
    runner = CliRunner()
    connection = redis.Redis.from_url(redis_url)

    since = runner.invoke(app, ["retry", "--failed-since", "1h"])
    assert since.exit_code == 0, since.output
    assert "2 workflow(s) re-enqueued" in since.output
    assert failed_workflows["old"] not in since.output
    for name in ("recent", "new"):
        assert Job.exists(f"listing-{failed_workflows[name]}", connection=connection)

    rest = runner.invoke(app, ["retry", "--all-failed"])
    assert rest.exit_code == 0, rest.output
    assert "1 workflow(s) re-enqueued" in rest.output and failed_workflows["old"] in rest.output
    with session_scope(get_settings()) as session:
        for workflow_id in failed_workflows.values():
            workflow = session.get(Workflow, workflow_id)
            assert workflow is not None and workflow.status == WorkflowStatus.PROCESSING


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["retry"], "give one of"),
        (["retry", "some-id", "--all-failed"], "give one of"),
        (["retry", "--failed-since", "yesterday"], "neither a duration"),
    ],
)
def test_retry_needs_exactly_one_selection(
    failed_workflows: dict[str, str], args: list[str], message: str
) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert message in result.output
