"""The claim and hand-over a worker rehearses before its job arrives (stage.rehearse_handoff,
prefork.rehearse_a_job_start_and_end): every statement a real hand-over runs was rehearsed,
and the rehearsal leaves nothing behind, in PostgreSQL and in the demo's SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import Engine, event, text
from sqlmodel import Session, SQLModel

from shelfready_core import queues
from shelfready_core.config import Settings, get_settings
from shelfready_core.db import get_engine, session_scope
from shelfready_core.models import Workflow
from shelfready_core.stage import StageContext, run_stage
from shelfready_core.stages import Stage, pipeline
from shelfready_runner.prefork import rehearse_a_job_start_and_end

# Each stage's job replaced by one that finishes at once: the lifecycle is the real one.
STAGES = {stage.name: replace(stage, job=f"{__name__}.finishing_job") for stage in pipeline()}
RUNNING: list[str] = []


def finishing_job(workflow_id: str) -> str:
    def finish(ctx: StageContext) -> str:
        with ctx.session() as session:
            ctx.finish(session, "done")
        return "done"

    return str(run_stage(RUNNING[-1], workflow_id, finish))


class Statements:
    """The SQL an engine sends, as text, while recording."""

    def __init__(self, engine: Engine) -> None:
        self.seen: list[str] = []
        event.listen(engine, "before_cursor_execute", self._record)
        self.engine = engine

    def _record(self, _conn, _cursor, statement: str, *_args) -> None:  # type: ignore[no-untyped-def]
        self.seen.append(statement)

    def take(self) -> set[str]:
        taken, self.seen = set(self.seen), []
        return taken

    def stop(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._record)


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, pg_url: str, redis_url: str) -> Iterator[Settings]:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    settings = get_settings()
    SQLModel.metadata.create_all(get_engine(settings))
    yield settings
    get_engine(settings).dispose()
    get_settings.cache_clear()


def rehearse(settings: Settings, stages: list[Stage], connection: redis.Redis) -> None:
    with get_engine(settings).connect() as db, Session(db) as session:
        rehearse_a_job_start_and_end(session, stages, connection)
        session.rollback()


def counts(settings: Settings) -> tuple[int, int]:
    with session_scope(settings) as session:
        workflows = session.execute(text("SELECT count(*) FROM workflow")).scalar_one()
        events = session.execute(text("SELECT count(*) FROM workflow_event")).scalar_one()
    return int(workflows), int(events)


def run_one_job(connection: redis.Redis, stage: Stage, workflow_id: str) -> None:
    RUNNING.append(stage.name)
    # The hand-over before enqueued the real stage's job under this id: ours replaces it.
    queue = Queue(stage.queue.name, connection=connection)
    queue.empty()
    connection.delete(Job.key_for(queues.stage_job_id(stage, workflow_id)))
    queues.enqueue_stage_job(connection, stage, queues.STAGE_RUN, workflow_id)
    worker = SimpleWorker([Queue(stage.queue.name, connection=connection)], connection=connection)
    worker.work(burst=True, logging_level="WARNING")


def test_every_statement_of_a_real_hand_over_was_rehearsed(
    settings: Settings, redis_conn: redis.Redis
) -> None:
    with session_scope(settings) as session:
        workflow = Workflow(source="storage:x")
        workflow.job_id = queues.stage_job_id("recognition", workflow.id)
        session.add(workflow)
    statements = Statements(get_engine(settings))
    try:
        for name in pipeline().names:  # the first stage, the middle one, the last
            stage = STAGES[name]
            rehearse(settings, [stage], redis_conn)
            rehearsed = statements.take()
            run_one_job(redis_conn, stage, workflow.id)
            real = statements.take()
            assert any(s.startswith("UPDATE workflow SET") for s in real)
            assert real <= rehearsed, f"{name}: not rehearsed: {real - rehearsed}"
    finally:
        statements.stop()
    with session_scope(settings) as session:
        done = session.get(Workflow, workflow.id)
        assert done is not None and done.status == "COMPLETED"


def test_the_rehearsal_leaves_no_row_and_no_job(
    settings: Settings, redis_conn: redis.Redis
) -> None:
    rehearse(settings, list(STAGES.values()), redis_conn)
    assert counts(settings) == (0, 0)
    assert all(Queue(s.queue.name, connection=redis_conn).count == 0 for s in STAGES.values())


def test_the_rehearsal_leaves_no_row_in_the_demo_sqlite_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, redis_conn: redis.Redis
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("SHELFREADY_SQLITE_PATH", str(tmp_path / "demo.db"))
    get_settings.cache_clear()
    settings = get_settings()
    try:
        SQLModel.metadata.create_all(get_engine(settings))
        statements = Statements(get_engine(settings))
        rehearse(settings, list(STAGES.values()), redis_conn)
        statements.stop()
        assert any(s.startswith("INSERT INTO workflow_event") for s in statements.seen)
        assert counts(settings) == (0, 0)
    finally:
        get_engine(settings).dispose()
        get_settings.cache_clear()
