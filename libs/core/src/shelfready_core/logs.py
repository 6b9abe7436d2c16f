"""Logging set-up: readable text by default, one JSON object per line for log platforms.

Every line a job writes carries the job's context (`workflow_id`, `job_id`, `service`,
`attempt`), bound once per job with `job_context()` through a context variable, so lines from
RQ, the SDK or our own code can all be filtered by workflow. In JSON mode they are fields; in
text mode a short bracketed suffix.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from shelfready_core.config import Settings
    from shelfready_core.stages import QueuePolicy

# The fields a job binds, in the order text mode shows them.
CONTEXT_FIELDS = ("service", "workflow_id", "job_id", "attempt")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(context)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s"
JSON_RENAMES = {"asctime": "time", "levelname": "level", "name": "logger"}

_context: ContextVar[dict[str, Any]] = ContextVar("shelfready_log_context", default={})  # noqa: B039 - never mutated, only replaced


def current_context() -> dict[str, Any]:
    return dict(_context.get())


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Add fields to every log line written inside the block (None values are left out)."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


def job_fields(job: Any) -> dict[str, Any]:
    """The context of an RQ job of ours: its workflow, id, service and attempt number."""
    meta = getattr(job, "meta", None) or {}
    args = getattr(job, "args", None) or ()
    fields: dict[str, Any] = {
        "job_id": getattr(job, "id", None),
        "workflow_id": meta.get("workflow_id") or (args[0] if args else None),
        "service": meta.get("service"),
    }
    attempt = job_attempt(job)
    if attempt is not None:
        fields["attempt"] = attempt
    return fields


def job_attempt(job: Any) -> int | None:
    """1 for the first run, 2 for the first retry, ...; None when the job has no retry policy."""
    policy = _policy_of(job)
    retries_left = getattr(job, "retries_left", None)
    if policy is None or retries_left is None:
        return 1 if policy is not None else None
    return max(1, policy.max_retries - int(retries_left) + 1)


def _policy_of(job: Any) -> QueuePolicy | None:
    """The queue policy of the installed stage a job belongs to (its `service` meta)."""
    from shelfready_core.stages import PipelineError, pipeline

    service = (getattr(job, "meta", None) or {}).get("service")
    if not service:
        return None
    try:
        return pipeline().get(service).queue
    except (KeyError, PipelineError):  # not one of ours, or no pipeline: no attempt number
        return None


@contextmanager
def job_context(job: Any) -> Iterator[None]:
    with log_context(**job_fields(job)):
        yield


class ContextFilter(logging.Filter):
    """Copies the bound context onto each record (JSON mode) and renders it (text mode)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for name, value in context.items():
            if not hasattr(record, name):
                setattr(record, name, value)
        shown = [f"{name}={context[name]}" for name in CONTEXT_FIELDS if name in context]
        record.context = f" [{' '.join(shown)}]" if shown else ""
        return True


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    # `context` is the text-mode suffix; the fields themselves are already on the record.
    return JsonFormatter(
        JSON_FIELDS,
        rename_fields=JSON_RENAMES,
        reserved_attrs=[*_RESERVED, "context"],
        json_ensure_ascii=False,
    )


_RESERVED = [
    "args",
    "created",
    "exc_info",
    "exc_text",
    "filename",
    "funcName",
    "levelno",
    "lineno",
    "module",
    "msecs",
    "msg",
    "pathname",
    "process",
    "processName",
    "relativeCreated",
    "stack_info",
    "thread",
    "threadName",
    "taskName",
]


def make_handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(ContextFilter())
    if log_format == "json":
        handler.setFormatter(_json_formatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(settings: Settings) -> None:
    root = logging.getLogger()
    root.handlers[:] = [make_handler(settings.log_format)]
    root.setLevel(settings.log_level.upper())


def expected_failure_reason(exc: BaseException | None) -> str | None:
    """The reason of a failure that is the input's fault (no traceback needed), else None."""
    from shelfready_core.errors import InvalidInput

    if isinstance(exc, InvalidInput):
        return str(exc).strip() or type(exc).__name__
    return None


def log_expected_failure(logger: logging.Logger, job: Any, exc: BaseException | None) -> bool:
    """One line for a job that failed because of its input; False for anything else, which
    keeps its traceback."""
    reason = expected_failure_reason(exc)
    if reason is None:
        return False
    logger.warning("job %s failed on its input: %s", getattr(job, "id", "?"), reason)
    return True
