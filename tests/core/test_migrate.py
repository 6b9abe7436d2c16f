"""Migrations: services starting together take turns, and re-running never loses data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine
from sqlmodel import SQLModel

import shelfready_core.models  # noqa: F401  (the tables, on SQLModel.metadata)
from shelfready_core.migrate import head_revision

SHELFREADY = str(Path(sys.executable).with_name("shelfready"))


def _migrate_env(pg_url: str, tmp_path: Path) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DATABASE_URL": pg_url}


def test_three_services_migrating_at_once_all_succeed(pg_url: str, tmp_path: Path) -> None:
    env = _migrate_env(pg_url, tmp_path)
    runs = [
        subprocess.Popen(
            [SHELFREADY, "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=120)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    with psycopg.connect(pg_url) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        }
    assert revision == head_revision()  # every migration applied, once
    assert {"workflow", "product", "listing", "image_set", "listing_image", "api_usage"} <= tables
    assert {"listing_version", "api_key"} <= tables
    with psycopg.connect(pg_url) as conn:  # each image records the stages it installs
        names = {row[0] for row in conn.execute("SELECT name FROM stage_record").fetchall()}
    assert names == {"recognition", "listing", "imagegen"}


def test_migrating_again_keeps_existing_rows(pg_url: str, tmp_path: Path) -> None:
    env = _migrate_env(pg_url, tmp_path)
    subprocess.run([SHELFREADY, "migrate"], env=env, check=True, capture_output=True)
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            "INSERT INTO workflow (id, status, current_step, progress, version, source, "
            "source_name, marketplace, market, language, cost_usd, created_at, updated_at) "
            "VALUES ('keep-me', 'COMPLETED', 'IMAGE_SET_GENERATION', 100, 1, 'storage:x', "
            "'x.jpg', 'amazon', 'US', 'en', 0, now(), now())"
        )
    result = subprocess.run([SHELFREADY, "migrate"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM workflow WHERE id = 'keep-me'").fetchone() == (1,)


def test_pooled_url_migrates_through_the_derived_direct_connection(
    pg_url: str, tmp_path: Path
) -> None:
    env = _migrate_env(pg_url + "?pgbouncer=true&sslmode=disable", tmp_path)
    result = subprocess.run([SHELFREADY, "migrate"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "pooler detected" in result.stdout
    assert "via direct connection" in result.stdout


def test_the_migrations_build_exactly_the_tables_the_models_declare(
    pg_url: str, tmp_path: Path
) -> None:
    # What `alembic revision --autogenerate` would write: nothing, or a model changed without
    # its migration (a column type, length or index that the database does not have).
    env = _migrate_env(pg_url, tmp_path)
    subprocess.run([SHELFREADY, "migrate"], env=env, check=True, capture_output=True)
    engine = create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            diff = compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()
    assert diff == []
