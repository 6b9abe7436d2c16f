"""A connection opened ahead of the next unit of work (db.reserve_connection), as a spare
work-horse does while it waits for its job: every session of the job uses it in turn, until
the job releases it; a connection the server closed, or that broke in a session, is never
handed out again. Real PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.exc import OperationalError
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


def reserved_pid() -> int:
    return db._reserved[0].connection.dbapi_connection.info.backend_pid  # type: ignore[union-attr,no-any-return]


def test_every_session_uses_the_reserved_connection_until_it_is_released(
    settings: Settings,
) -> None:
    reserve_connection(settings, warm_up)
    pid = reserved_pid()

    with session_scope(settings) as session:
        assert backend_pid(session) == pid
        session.add(Workflow(source="storage:x"))
    with session_scope(settings) as session:
        assert backend_pid(session) == pid  # the same backend, its caches warm
        assert len(session.exec(text("SELECT id FROM workflow")).all()) == 1  # it committed
    release_reserved()  # the job is done
    assert not db._reserved
    with session_scope(settings) as session:
        assert backend_pid(session) != pid


def test_a_thread_needing_a_connection_meanwhile_opens_its_own(settings: Settings) -> None:
    reserve_connection(settings, warm_up)
    pid = reserved_pid()
    seen: list[int] = []

    def lease_renewal() -> None:
        with session_scope(settings) as session:
            seen.append(backend_pid(session))

    with session_scope(settings) as session:
        assert backend_pid(session) == pid
        thread = threading.Thread(target=lease_renewal)
        thread.start()
        thread.join()
    assert seen and seen[0] != pid
    assert [reserved_pid()] == [pid] and len(db._reserved) == 1  # one kept, the job's own


def test_a_connection_that_broke_in_a_session_is_not_kept(settings: Settings, pg_url) -> None:
    reserve_connection(settings, warm_up)
    pid = reserved_pid()

    with pytest.raises(OperationalError), session_scope(settings) as session:
        backend_pid(session)
        with psycopg.connect(pg_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
        backend_pid(session)
    assert not db._reserved
    with session_scope(settings) as session:  # a fresh connection, no error
        assert backend_pid(session) != pid


def test_the_reserved_connection_waits_outside_any_transaction(settings: Settings, pg_url) -> None:
    reserve_connection(settings, warm_up)
    reserved = reserved_pid()

    with psycopg.connect(pg_url) as admin:
        state = admin.execute(
            "SELECT state FROM pg_stat_activity WHERE pid = %s", (reserved,)
        ).fetchone()
    assert state == ("idle",)  # not "idle in transaction": it holds no snapshot, no lock


def test_a_reserved_connection_the_server_closed_is_not_used(settings: Settings, pg_url) -> None:
    reserve_connection(settings, warm_up)
    reserved = reserved_pid()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        # Waits until the backend has gone, as after a restart that happened while it waited.
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (reserved,))

    with session_scope(settings) as session:  # no error: a fresh connection
        assert backend_pid(session) != reserved
        session.add(Workflow(source="storage:x"))
    assert not db._reserved


def test_a_failed_unit_of_work_on_the_reserved_connection_rolls_back(settings: Settings) -> None:
    reserve_connection(settings, warm_up)

    pid = reserved_pid()

    with pytest.raises(RuntimeError), session_scope(settings) as session:
        session.add(Workflow(source="storage:x"))
        session.flush()
        raise RuntimeError("the body failed")
    with session_scope(settings) as session:
        assert backend_pid(session) == pid  # rolled back, so still fit to use
        assert session.exec(text("SELECT count(*) FROM workflow")).one()[0] == 0  # type: ignore[call-overload]
