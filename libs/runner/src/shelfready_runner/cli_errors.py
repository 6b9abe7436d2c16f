"""Known failures of a CLI command, each turned into one sentence saying what to do.

Anything not recognised here keeps its traceback: it is a bug, and the traceback is how it
gets fixed. Messages name hosts and databases, never passwords.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

# Exit status of a known failure (usage errors keep click's 2, Ctrl+C 130).
EXIT_KNOWN_FAILURE = 1


def _database_place() -> str:
    """`database NAME on HOST:PORT` from the configured URL, without credentials."""
    try:
        from sqlalchemy.engine import make_url

        from shelfready_core.config import get_settings

        settings = get_settings()
        if settings.database_url is None:
            return f"SQLite database {settings.sqlite_path}"
        url = make_url(settings.database_url.get_secret_value())
        return f"database {url.database!r} on {url.host}:{url.port or 5432}"
    except Exception:
        return "the database in DATABASE_URL"


def _redis_place() -> str:
    try:
        from urllib.parse import urlsplit

        from shelfready_core.config import get_settings

        url = get_settings().redis_url
        if url is None:
            return "Redis"
        parts = urlsplit(url.get_secret_value())
        return f"Redis at {parts.hostname}:{parts.port or 6379}"
    except Exception:
        return "Redis in REDIS_URL"


def _driver_text(exc: BaseException) -> str:
    return str(getattr(exc, "orig", None) or exc).strip()


def _database_sentence(exc: BaseException) -> str | None:
    text = _driver_text(exc)
    lowered = text.lower()
    if "does not exist" in lowered and "database" in lowered:
        return (
            f"the {_database_place()} does not exist: create it (e.g. `createdb`) "
            "and run `shelfready migrate`, or fix DATABASE_URL"
        )
    if "no such table" in lowered or ("relation" in lowered and "does not exist" in lowered):
        return "the database schema is missing or behind this code: run `shelfready migrate`"
    if "column" in lowered and "does not exist" in lowered:
        return "the database schema is behind this code: run `shelfready migrate`"
    if "password authentication failed" in lowered or "authentication" in lowered:
        return f"the {_database_place()} refused the credentials: fix DATABASE_URL"
    if "unable to open database file" in lowered:
        return f"cannot open the {_database_place()}: check SHELFREADY_SQLITE_PATH's folder"
    return (
        f"cannot reach the {_database_place()}: check that PostgreSQL is running "
        "and DATABASE_URL is right (`shelfready check`)"
    )


def explain(exc: BaseException) -> str | None:
    """One actionable sentence for a known failure, or None for an unexpected one."""
    from shelfready_core.errors import ShelfReadyError

    if isinstance(exc, ShelfReadyError):
        return str(exc)
    if type(exc).__name__ == "StartupError":
        return str(exc)
    # A library's error can only come from a library already imported: never import one here.
    redis = sys.modules.get("redis")
    if redis is not None:
        sentence = _redis_sentence(exc, redis)
        if sentence:
            return sentence
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import DBAPIError, OperationalError, ProgrammingError

        if isinstance(exc, OperationalError | ProgrammingError):
            return _database_sentence(exc)
        if isinstance(exc, DBAPIError) and exc.connection_invalidated:
            return _database_sentence(exc)
    if "pydantic" in sys.modules:
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            problems = "; ".join(
                f"{'.'.join(str(p) for p in error['loc']) or 'value'}: {error['msg']}"
                for error in exc.errors()
            )
            return f"a setting is invalid ({problems}): fix it and run `shelfready check`"
    return None


def _redis_sentence(exc: BaseException, redis: Any) -> str | None:
    workflow_id = getattr(exc, "workflow_id", None)
    if workflow_id and isinstance(exc, redis.RedisError):
        return (
            f"workflow {workflow_id} was created but could not be queued ({_redis_place()} "
            "did not answer); the workers' reconciler will queue it once Redis is back: "
            f"follow it with `shelfready status {workflow_id}`"
        )
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return (
            f"cannot reach {_redis_place()}: check that Redis is running "
            "and REDIS_URL is right (`shelfready check`)"
        )
    if (
        isinstance(exc, redis.AuthenticationError | redis.ResponseError)
        and "auth" in str(exc).lower()
    ):
        return f"{_redis_place()} refused the credentials: fix REDIS_URL"
    return None


def run_cli(app: Callable[[], Any]) -> None:
    """Run the typer app; known failures print one sentence and exit non-zero."""
    from shelfready_core import redis_conn

    redis_conn.set_retries(redis_conn.INTERACTIVE_RETRIES)  # `worker` sets its own
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:
        message = explain(exc)
        if message is None:
            raise
        workflow_id = getattr(exc, "workflow_id", None)
        if workflow_id:
            print(workflow_id, flush=True)  # stdout: scripts still get the id
        print(f"error: {message}", file=sys.stderr, flush=True)
        sys.exit(EXIT_KNOWN_FAILURE)
