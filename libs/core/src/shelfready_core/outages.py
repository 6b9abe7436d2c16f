"""Which errors are outages (the database, Redis or storage is away, a key is rejected) rather
than the job's own fault, and how to say what happened in one sentence.

An outage defers the job (see stage.py) instead of spending its retries; everything else is
the job's fault and goes through the job's retry policy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import redis
import sqlalchemy.exc

from shelfready_core.errors import ServiceUnavailable
from shelfready_core.storage.base import StorageUnavailable

MAX_SENTENCE_CHARS = 300
# SQLAlchemy appends "(Background on this error at: https://sqlalche.me/...)" and "[SQL: ...]".
_SQLALCHEMY_NOISE = re.compile(r"\(Background on this error at:[^)]*\)|\[SQL:.*|\[parameters:.*")
# Exception type names that mean "a dependency is away", for failures known only as text
# (a traceback in RQ's failed-job record).
OUTAGE_TYPE_NAMES = frozenset(
    {
        "OperationalError",
        "InterfaceError",
        "DisconnectionError",
        "ConnectionError",
        "TimeoutError",
        "BusyLoadingError",
        "StorageUnavailable",
        "AdminShutdown",
    }
)


@dataclass(frozen=True)
class Outage:
    """`cause`: what is away, as a clause ("the database was unreachable");
    `detail`: the exception's own message in one sentence."""

    cause: str
    detail: str

    def outlasted(self, budget_seconds: float) -> str:
        """The reason a workflow fails after waiting its whole budget."""
        return f"{self.cause} for {format_duration(budget_seconds)}"


def outage_of(exc: BaseException) -> Outage | None:
    """The outage `exc` reports (itself or an exception it was raised from), or None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        cause = _cause_of(current)
        if cause is not None:
            return Outage(cause, one_sentence(current))
        current = current.__cause__
    return None


def _cause_of(exc: BaseException) -> str | None:
    if isinstance(exc, ServiceUnavailable):
        return exc.cause or "a remote service was unavailable"
    if isinstance(exc, StorageUnavailable):
        return "storage was unreachable"
    if isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        return "Redis was unreachable"
    if isinstance(
        exc,
        sqlalchemy.exc.OperationalError
        | sqlalchemy.exc.InterfaceError
        | sqlalchemy.exc.DisconnectionError
        | sqlalchemy.exc.TimeoutError,
    ):
        return "the database was unreachable"
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated:
        return "the database was unreachable"
    return None


def one_sentence(exc: BaseException) -> str:
    """The exception's own message, first line only, without SQLAlchemy's SQL and doc link."""
    source: object = exc
    if isinstance(exc, sqlalchemy.exc.StatementError) and exc.orig is not None:
        source = exc.orig  # the driver's message, without SQLAlchemy's wrapping
    return first_sentence(str(source)) or type(exc).__name__


def first_sentence(text: str) -> str:
    text = _SQLALCHEMY_NOISE.sub("", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    sentence = re.sub(r"\s+", " ", lines[0]).rstrip(" .;:")
    return sentence[:MAX_SENTENCE_CHARS]


def reason_from_traceback(exc_string: str) -> tuple[str, bool]:
    """(one-sentence reason, is it an outage) from a formatted traceback: the last line that
    names an exception type, never a continuation line or a documentation link."""
    pattern = re.compile(
        r"^([A-Za-z_][\w.]*(?:Error|Exception|Shutdown|Timeout|Unavailable|Rejected))(?::\s*(.*))?$"
    )
    found: tuple[str, str] | None = None
    for line in exc_string.splitlines():
        match = pattern.match(line.strip()) if not line.startswith((" ", "\t")) else None
        if match:
            found = (match.group(1), match.group(2) or "")
    if found is None:
        return "the job failed", False
    type_name = found[0].rsplit(".", 1)[-1]
    # SQLAlchemy prefixes the driver's message with its type: "(psycopg.OperationalError) ...".
    message = first_sentence(re.sub(r"^\([\w.]+\)\s*", "", found[1])) or type_name
    return f"{type_name}: {message}", type_name in OUTAGE_TYPE_NAMES


def format_duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds >= 120 and seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    if seconds == 60:
        return "1 minute"
    return f"{seconds} seconds" if seconds != 1 else "1 second"
