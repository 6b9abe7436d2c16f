"""Database engines and sessions.

RQ forks a work-horse per job, and a connection pool must never cross a fork, so engines use
NullPool: a connection per unit of work, which is also what a transaction-mode pooler
(PgBouncer, Supavisor) expects. A work-horse forked ahead of its job opens its connection
while it waits (`reserve_connection`) and keeps it for the whole job: its claim does not start
by connecting, and the hand-over at its end runs on a backend whose caches the claim already
warmed, not on a new one (measured: a new backend's first flush and commit took 3 ms).
"""

from __future__ import annotations

import logging
import select
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from shelfready_core.config import Settings
from shelfready_core.dburl import DatabaseUrl, parse_database_url

log = logging.getLogger(__name__)

_engines: dict[tuple[int, str], Engine] = {}
# At most one connection kept for this process's next unit of work (see reserve_connection).
_reserved: list[Connection] = []


def database_url(settings: Settings) -> DatabaseUrl:
    """The configured database, or the demo's SQLite file when DATABASE_URL is unset."""
    if settings.database_url is None:
        settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        return parse_database_url(f"sqlite:///{settings.sqlite_path}")
    direct = settings.direct_url.get_secret_value() if settings.direct_url else None
    return parse_database_url(settings.database_url.get_secret_value(), direct)


def _make_engine(url: URL, connect_args: dict[str, object], sqlite: bool) -> Engine:
    engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)
    if sqlite:
        # Several worker processes share one SQLite file in the demo: wait instead of failing.
        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

    return engine


def get_engine(settings: Settings, *, for_migrations: bool = False) -> Engine:
    db = database_url(settings)
    url = db.migration_url if for_migrations else db.sqlalchemy_url
    # Not per process: with NullPool an engine holds no connection, so work-horses inherit
    # their worker's engine, dialect already initialised, instead of setting one up per job.
    key = (0, f"{for_migrations}:{url}")
    engine = _engines.get(key)
    if engine is None:
        connect_args = {} if for_migrations and not db.is_sqlite else db.connect_args
        engine = _make_engine(url, dict(connect_args), db.is_sqlite)
        _engines[key] = engine
    return engine


def reserve_connection(settings: Settings, warm_up: Callable[[Session], object]) -> None:
    """Open the connection this process's units of work will use, now, and run `warm_up` on
    it (a read that loads what the database backend caches per connection). For a work-horse
    forked while its worker is idle, which `release_reserved` once its job is done: measured,
    connecting cost ~5 ms and a new backend's first statements a few ms more, all of it on the
    path from one stage to the next."""
    release_reserved()
    connection = get_engine(settings).connect()
    try:
        with Session(connection) as session:
            warm_up(session)
            session.rollback()  # the connection waits idle, never inside a transaction
    except BaseException:
        connection.close()
        raise
    _reserved.append(connection)


def release_reserved() -> None:
    while _reserved:
        _reserved.pop().close()


def _take_reserved(engine: Engine) -> Connection | None:
    """The reserved connection if it is this engine's and the server has not closed it while
    it waited (a restart); otherwise None, and the session connects as usual. Another thread
    finds none while one session has it, and connects."""
    try:
        connection = _reserved.pop()
    except IndexError:
        return None
    if connection.engine is not engine:  # another database's: it waits for its own sessions
        _reserved.append(connection)
        return None
    if not _closed_by_server(connection):
        return connection
    log.debug("not using the reserved connection: the server closed it")
    connection.invalidate()
    connection.close()
    return None


def _keep_or_close(connection: Connection) -> None:
    """Back in reserve for the next unit of work, unless it broke meanwhile."""
    if connection.invalidated or connection.closed or connection.in_transaction() or _reserved:
        connection.close()
    else:
        _reserved.append(connection)


def _closed_by_server(connection: Connection) -> bool:
    """Without a round trip: an idle connection has nothing to read unless the server closed
    it (or said something unasked, which we never ask for: no LISTEN)."""
    fileno = getattr(connection.connection.dbapi_connection, "fileno", None)
    if fileno is None:  # SQLite: nothing to close it
        return False
    try:
        readable, _, _ = select.select([fileno()], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    engine = get_engine(settings)
    connection = _take_reserved(engine)
    try:
        with Session(connection or engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
    finally:
        if connection is not None:
            _keep_or_close(connection)
