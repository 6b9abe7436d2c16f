"""A connection opened ahead of the next unit of work (db.reserve_connection), as a spare
work-horse does while it waits for its job: the next session uses it, once, and a connection
the server closed meanwhile is never handed out. Real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlmodel import Session, SQLModel, text

from shelfready_core import db
from shelfready_core.config import Settings, get_settings
from shelfready_core.db import get_engine, release_reserved, reserve_connection, session_scope
from shelfready_core.models import Workflow


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch, pg_url: str) -> Iterator[Settings]:
    monkeypatch.setenv("DATABASE_URL", pg_url)
    get_settings.cache_clear()
    settings = get_settings()
    SQLModel.metadata.create_all(get_engine(settings))
    yield settings
    release_reserved()
    get_engine(settings).dispose()
    get_settings.cache_clear()


def backend_pid(session: Session) -> int:
    return int(session.exec(text("SELECT pg_backend_pid()")).one()[0])  # type: ignore[call-overload]


def warm_up(session: Session) -> None:
    session.get(Workflow, "")


def test_the_next_session_uses_the_reserved_connection_once(settings: Settings) -> None:
    reserve_connection(settings, warm_up)
    reserved_pid = db._reserved[0].connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]

    with session_scope(settings) as session:
        assert backend_pid(session) == reserved_pid
        session.add(Workflow(source="storage:x"))
    with session_scope(settings) as session:
        assert backend_pid(session) != reserved_pid  # used once, then closed
        assert len(session.exec(text("SELECT id FROM workflow")).all()) == 1  # it committed


def test_the_reserved_connection_waits_outside_any_transaction(settings: Settings, pg_url) -> None:
    reserve_connection(settings, warm_up)
    reserved_pid = db._reserved[0].connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]

    with psycopg.connect(pg_url) as admin:
        state = admin.execute(
            "SELECT state FROM pg_stat_activity WHERE pid = %s", (reserved_pid,)
        ).fetchone()
    assert state == ("idle",)  # not "idle in transaction": it holds no snapshot, no lock


def test_a_reserved_connection_the_server_closed_is_not_used(settings: Settings, pg_url) -> None:
    reserve_connection(settings, warm_up)
    reserved_pid = db._reserved[0].connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr]
    with psycopg.connect(pg_url, autocommit=True) as admin:
        # Waits until the backend has gone, as after a restart that happened while it waited.
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (reserved_pid,))

    with session_scope(settings) as session:  # no error: a fresh connection
        assert backend_pid(session) != reserved_pid
        session.add(Workflow(source="storage:x"))
    assert not db._reserved


def test_a_failed_unit_of_work_on_the_reserved_connection_rolls_back(settings: Settings) -> None:
    reserve_connection(settings, warm_up)

    with pytest.raises(RuntimeError), session_scope(settings) as session:
        session.add(Workflow(source="storage:x"))
        session.flush()
        raise RuntimeError("the body failed")
    with session_scope(settings) as session:
        assert session.exec(text("SELECT count(*) FROM workflow")).one()[0] == 0  # type: ignore[call-overload]
