"""What a worker checks before it takes a job, in the order operators read it in the log:
environment, database URL diagnostics, schema revision."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from shelfready_core.checks import print_database_diagnostics
from shelfready_core.config import Settings, get_settings
from shelfready_core.db import get_engine
from shelfready_core.envcheck import check_environment, settings_environment
from shelfready_core.migrate import current_revision, head_revision


class StartupError(RuntimeError):
    """The process must not start; the message says why and what to do."""


def preflight(env: Mapping[str, str], echo: Callable[[str], None]) -> Settings:
    """`env` is the process environment; the `.env` file under it is checked too."""
    report = check_environment(settings_environment(env), production=True)
    echo(report.render())
    if not report.ok:
        raise StartupError("environment check failed: " + "; ".join(report.errors))
    settings = get_settings()  # safe now: every value was validated above
    if not print_database_diagnostics(settings, echo):
        raise StartupError("DATABASE_URL cannot be used")
    with get_engine(settings).connect() as connection:
        current = current_revision(connection)
    expected = head_revision()
    if current != expected:
        raise StartupError(
            f"database schema is at revision {current or 'none'}, this code needs {expected}: "
            "run `shelfready migrate` (Railway runs it as the pre-deploy command)"
        )
    echo(f"database schema at revision {current}")
    return settings
