"""Versioned schema migrations, applied through the direct (non-pooled) connection.

Three services may start at once and all run `shelfready migrate`; a Postgres advisory lock
makes them take turns, and the later ones find nothing left to do. Migrations only ever move
forward with explicit scripts: nothing is dropped to make a schema fit.
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from shelfready_core.config import Settings
from shelfready_core.db import get_engine

log = logging.getLogger(__name__)

# Arbitrary but fixed: every ShelfReady process agrees on this lock id.
MIGRATION_LOCK_ID = 7_402_311_905

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def migrate(settings: Settings, revision: str = "head") -> tuple[str | None, str | None]:
    """Upgrade the schema to `revision`; returns (revision before, revision after)."""
    engine = get_engine(settings, for_migrations=True)
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            log.info("waiting for the migration lock")
            connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
        try:
            before = current_revision(connection)
            command.upgrade(alembic_config(connection), revision)
            connection.commit()
            after = current_revision(connection)
        finally:
            if postgres:
                connection.execute(
                    text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID}
                )
                connection.commit()
    if before == after:
        log.info("schema up to date at revision %s", after)
    else:
        log.info("schema migrated from %s to %s", before, after)
    if revision == "head":
        register_installed_stages(settings)
    return before, after


def register_installed_stages(settings: Settings) -> None:
    """Record this image's stages, so the images that do not install them can hand over to
    them (stage_records.py). Run at pre-deploy (`shelfready migrate`) and by a pool's start."""
    from shelfready_core import stage_records
    from shelfready_core.db import session_scope
    from shelfready_core.stages import forget_cached_registrations, installed

    with session_scope(settings) as session:
        stage_records.register(session, installed())
    forget_cached_registrations()


def schema_is_current(settings: Settings) -> bool:
    with get_engine(settings).connect() as connection:
        return current_revision(connection) == head_revision()
