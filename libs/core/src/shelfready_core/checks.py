"""`shelfready check`: environment, database URL diagnostics and live connectivity."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sqlalchemy import text

from shelfready_core.config import Settings
from shelfready_core.db import database_url, get_engine
from shelfready_core.dburl import DatabaseUrlError, describe
from shelfready_core.envcheck import check_environment, settings_environment
from shelfready_core.redis_conn import get_redis, mask_redis_url
from shelfready_core.storage import get_storage

Echo = Callable[[str], None]


def print_database_diagnostics(settings: Settings, echo: Echo) -> bool:
    try:
        db = database_url(settings)
    except DatabaseUrlError as exc:
        echo(f"DATABASE_URL: {exc}")
        return False
    for line in describe(db):
        echo(f"database: {line}")
    return True


def _probe(name: str, echo: Echo, action: Callable[[], str]) -> bool:
    try:
        detail = action()
    except Exception as exc:  # report every kind of failure the same way, then go on
        echo(f"[FAIL] {name}: {type(exc).__name__}: {exc}")
        return False
    echo(f"[ OK ] {name}: {detail}")
    return True


def run_checks(
    settings: Settings,
    env: Mapping[str, str],
    *,
    production: bool,
    connect: bool,
    echo: Echo,
) -> bool:
    # The process environment (`env`) over the `.env` file: what Settings sees.
    visible = settings_environment(env)
    report = check_environment(visible, production=production or settings.redis_url is not None)
    echo(report.render())
    ok = report.ok and print_database_diagnostics(settings, echo)
    if not (ok and connect):
        return ok

    def redis_ping() -> str:
        get_redis(settings).ping()
        url = settings.redis_url
        return mask_redis_url(url.get_secret_value()) if url else "in-process stand-in"

    def database_query() -> str:
        with get_engine(settings).connect() as connection:
            connection.execute(text("SELECT 1"))
        return database_url(settings).masked

    def storage_roundtrip() -> str:
        storage = get_storage(settings)
        storage.check()
        return storage.description

    results = [
        _probe("redis", echo, redis_ping),
        _probe("database", echo, database_query),
        _probe("storage", echo, storage_roundtrip),
    ]
    return all(results)
