"""Database engines and sessions.

RQ forks a work-horse per job, and a connection pool must never cross a fork, so engines are
cached per process id and use NullPool: a connection per unit of work, which is also what a
transaction-mode pooler (PgBouncer, Supavisor) expects.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import URL, Engine, create_engine, event
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from shelfready_core.config import Settings
from shelfready_core.dburl import DatabaseUrl, parse_database_url

_engines: dict[tuple[int, str], Engine] = {}


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


@contextmanager
def session_scope(settings: Settings) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error."""
    with Session(get_engine(settings), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
