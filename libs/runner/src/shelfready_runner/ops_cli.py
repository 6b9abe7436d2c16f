"""The operator commands `diagnose`, `failed`, `cancel` and `prune`, registered on the CLI."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def diagnose(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Find what is wrong (workers, queues, scheduler, breaker, stuck workflows) and say the fix."""
    from shelfready_core.redis_conn import get_redis, health_redis
    from shelfready_runner.cli import _settings, out
    from shelfready_runner.diagnose import diagnose as run_diagnose

    settings = _settings()
    redis = health_redis(settings) or get_redis(settings)  # short timeouts: a quick answer
    result = run_diagnose(settings, redis)
    if as_json:
        print(json.dumps(result.to_json()))
    else:
        out.print(result.render(), markup=False, highlight=False)
    if not result.ok:
        raise typer.Exit(1)


def failed(
    limit: Annotated[int, typer.Option(min=1, help="How many to show")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """The most recent failed workflows and why they failed."""
    from shelfready_core.workflow_ops import recent_failures
    from shelfready_runner.cli import _settings, out

    rows = recent_failures(_settings(), limit)
    if as_json:
        print(json.dumps(rows))
        return
    for row in rows:
        out.print(
            f"{row['id']} {row['failed_at']} {row['source_name']}: {row['error']}",
            markup=False,
            highlight=False,
        )
    out.print(f"{len(rows)} failed workflow(s)", markup=False)


def cancel(workflow_id: Annotated[str, typer.Argument()]) -> None:
    """Cancel a workflow that has not finished; its queued job is dropped."""
    from shelfready_core.redis_conn import get_redis
    from shelfready_core.workflow_ops import cancel as cancel_workflow
    from shelfready_runner.cli import _settings, out

    settings = _settings()
    what = cancel_workflow(settings, get_redis(settings), workflow_id)
    out.print(f"workflow {workflow_id} cancelled; {what}", markup=False)


def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Age of the finished workflows to delete: 30d, 12h")
    ] = "30d",
    delete: Annotated[
        bool, typer.Option("--delete", help="Really delete (default: only count, a dry run)")
    ] = False,
) -> None:
    """Delete finished workflows older than an age: their files and rows. Dry run by default."""
    from shelfready_core.retention import parse_age
    from shelfready_core.retention import prune as run_prune
    from shelfready_core.storage import get_storage
    from shelfready_runner.cli import _settings, out

    try:
        age = parse_age(older_than)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--older-than") from exc
    settings = _settings()
    report = run_prune(settings, get_storage(settings), age, dry_run=not delete)
    out.print(report.render(), markup=False)


def register(app: typer.Typer) -> None:
    for command in (diagnose, failed, cancel, prune):
        app.command()(command)
