"""DATABASE_URL parsing, pooler detection and masking, plus real connections to Postgres."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from shelfready_core.dburl import DatabaseUrlError, describe, parse_database_url

SUPABASE_POOLER = (
    "postgresql://postgres.abcd:p%40ss@aws-0-eu-central-1.pooler.supabase.com:6543/postgres"
    "?sslmode=require&pgbouncer=true"
)


def test_supabase_pooler_url_is_pooled_and_masked() -> None:
    db = parse_database_url(SUPABASE_POOLER)

    assert db.is_pooled
    assert (db.host, db.port, db.database) == (
        "aws-0-eu-central-1.pooler.supabase.com",
        6543,
        "postgres",
    )
    assert db.username == "postgres.abcd"
    assert db.url.password == "p@ss"
    assert "p@ss" not in db.masked and "p%40ss" not in db.masked
    assert "postgres.abcd:***@" in db.masked
    assert "p@ss" not in repr(db)
    assert db.connect_args == {"prepare_threshold": None}


def test_pooled_url_migrates_on_5432_without_pooler_parameters() -> None:
    db = parse_database_url(SUPABASE_POOLER)

    engine_url = db.sqlalchemy_url
    assert engine_url.drivername == "postgresql+psycopg"
    assert engine_url.port == 6543
    assert dict(engine_url.query) == {"sslmode": "require"}

    migration = db.migration_url
    assert migration.drivername == "postgresql+psycopg"
    assert migration.port == 5432
    assert migration.host == "aws-0-eu-central-1.pooler.supabase.com"
    assert migration.username == "postgres.abcd"
    assert migration.password == "p@ss"
    assert dict(migration.query) == {"sslmode": "require"}


def test_port_6543_alone_means_pooled() -> None:
    assert parse_database_url("postgresql://u:pw@db.example.com:6543/app").is_pooled


def test_pgbouncer_flag_alone_means_pooled() -> None:
    db = parse_database_url("postgresql://u:pw@db.example.com/app?pgbouncer=true")
    assert db.is_pooled
    assert db.migration_url.port == 5432
    assert "pgbouncer" not in db.migration_url.query


def test_direct_connection_is_not_pooled_and_keeps_prepared_statements() -> None:
    db = parse_database_url("postgresql://u:pw@db.example.com:5432/app")
    assert not db.is_pooled
    assert db.connect_args == {}
    assert db.migration_url == db.sqlalchemy_url


def test_only_libpq_parameters_survive() -> None:
    db = parse_database_url(
        "postgresql://u:pw@h/app?pgbouncer=true&connection_limit=1&pool_timeout=0&schema=public"
        "&sslmode=verify-full&connect_timeout=5&application_name=shelfready"
        "&options=-c%20statement_timeout%3D5000&target_session_attrs=read-write"
    )
    assert dict(db.sqlalchemy_url.query) == {
        "sslmode": "verify-full",
        "connect_timeout": "5",
        "application_name": "shelfready",
        "options": "-c statement_timeout=5000",
        "target_session_attrs": "read-write",
    }


def test_explicit_direct_url_is_used_for_migrations() -> None:
    db = parse_database_url(
        SUPABASE_POOLER, direct_url="postgres://postgres:s3cret@db.abcd.supabase.co/postgres"
    )
    assert db.migration_url.host == "db.abcd.supabase.co"
    assert db.migration_url.drivername == "postgresql+psycopg"
    assert "explicit DIRECT_URL used for migrations" in describe(db)


def test_ipv6_host_and_default_port() -> None:
    db = parse_database_url("postgresql://u:pw@[::1]/app")
    assert db.host == "::1"
    assert db.port == 5432
    assert "[::1]" in db.masked


def test_postgres_scheme_becomes_psycopg_driver() -> None:
    db = parse_database_url("postgres://u:pw@localhost:5433/app")
    assert db.scheme == "postgres"
    assert db.sqlalchemy_url.drivername == "postgresql+psycopg"
    assert db.sqlalchemy_url.port == 5433


def test_password_in_query_is_masked() -> None:
    db = parse_database_url("postgresql://u@h/app?password=hunter2")
    assert "hunter2" not in db.masked


def test_sqlite_url() -> None:
    db = parse_database_url("sqlite:///data/shelfready.db")
    assert db.is_sqlite and not db.is_pooled
    assert db.database == "data/shelfready.db"
    assert db.port is None
    assert db.connect_args == {"check_same_thread": False}
    assert db.sqlalchemy_url.drivername == "sqlite"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:topsecret@h/app", "unknown scheme 'mysql'"),
        ("postgresql://u:topsecret@/app", "no host"),
        ("postgresql://u:topsecret@h", "no database name"),
        ("postgresql://u:topsecret@h/", "no database name"),
        ("not a url topsecret", "not a URL"),
        ("", "empty"),
        ("postgresql://u:topsecret@h:5x32/app", "port that is not a number"),
        # An unencoded '@' pushes part of the password into the host.
        ("postgresql://u:top@secret@h/app", "%40"),
    ],
)
def test_errors_name_the_problem_but_not_the_password(url: str, message: str) -> None:
    with pytest.raises(DatabaseUrlError) as caught:
        parse_database_url(url)
    assert message in str(caught.value)
    assert "DATABASE_URL" in str(caught.value)
    assert "secret" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_bad_direct_url_is_named() -> None:
    with pytest.raises(DatabaseUrlError, match="DIRECT_URL has no database name"):
        parse_database_url(SUPABASE_POOLER, direct_url="postgresql://u:pw@h")


def test_describe_lists_the_diagnostics_in_order_without_password() -> None:
    lines = describe(parse_database_url(SUPABASE_POOLER))
    assert lines == [
        "DATABASE_URL format check passed",
        "protocol: postgresql",
        "host: aws-0-eu-central-1.pooler.supabase.com",
        "port: 6543",
        "database: postgres",
        "user: postgres.abcd",
        "transaction-mode pooler detected (port 6543 / pgbouncer=true)"
        " -> migrations use a direct connection on port 5432",
        "prepared statements disabled (prepare_threshold=None) for the pooler",
    ]
    assert not any("p@ss" in line or "p%40ss" in line for line in lines)


def test_describe_direct_connection_has_no_pooler_lines() -> None:
    lines = describe(parse_database_url("postgresql://u:pw@h/app"))
    assert not any("pooler" in line or "prepared" in line for line in lines)


def _prepared_after_repeats(url: object, connect_args: dict[str, object]) -> int:
    """Run one statement repeatedly on one connection; count server-side prepared statements."""
    engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            for _ in range(8):  # psycopg auto-prepares from the 5th run by default
                assert conn.execute(text("SELECT 1")).scalar_one() == 1
            return conn.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar_one()
    finally:
        engine.dispose()


def test_pooled_engine_runs_repeated_statements_without_preparing(pg_url: str) -> None:
    db = parse_database_url(f"{pg_url}?pgbouncer=true&sslmode=disable")
    assert db.is_pooled

    assert _prepared_after_repeats(db.sqlalchemy_url, db.connect_args) == 0
    # Control: the same statements on a direct connection do get prepared, so the
    # assertion above is really about prepare_threshold=None.
    direct = parse_database_url(pg_url)
    assert _prepared_after_repeats(direct.sqlalchemy_url, direct.connect_args) > 0


def test_migration_url_connects(pg_url: str) -> None:
    db = parse_database_url(f"{pg_url}?pgbouncer=true&sslmode=disable")
    engine = create_engine(db.migration_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            name = conn.execute(text("SELECT current_database()")).scalar_one()
    finally:
        engine.dispose()
    assert name == db.database


def test_sqlite_engine_connects(tmp_path: Path) -> None:
    db = parse_database_url(f"sqlite:///{tmp_path}/x.db")
    engine = create_engine(db.sqlalchemy_url, connect_args=db.connect_args, poolclass=NullPool)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1
    engine.dispose()
