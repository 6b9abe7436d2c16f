"""`shelfready`: the command line used by operators, the Makefile, the Dockerfiles and tests."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shelfready_core.errors import ShelfReadyError
from shelfready_runner.cli_console import LazyConsole

if TYPE_CHECKING:
    from sqlmodel import Session

    from shelfready_core.config import Settings
    from shelfready_core.stages import Stage

# Locals are never shown in tracebacks: they can hold secrets.
app = typer.Typer(
    help="ShelfReady: product photo to marketplace listing.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    # Plain help: rich's help renderer costs more start-up than `--help` itself.
    rich_markup_mode=None,
)
# soft_wrap: log lines stay whole in container logs instead of wrapping at 80 columns.
# Made on first use: importing rich costs start-up time that `--help` and `status` need not pay.
console = LazyConsole(stderr=True, soft_wrap=True)
out = LazyConsole(soft_wrap=True)

# The installed stages are discovered when a command needs them (`stage_select`), not here:
# `--help` and commands that run no stage stay fast and work when the pipeline does not.
STAGE_HELP = "An installed stage (the shelfready.stages entry points), or all"
# One pool for every queue (development, small deploys): a few processes shared by the stages.
ALL_STAGES_CONCURRENCY = 3


def _stages_named(name: str) -> list[Stage]:
    from shelfready_core.stages import PipelineError
    from shelfready_runner.stage_select import StageNotInstalled, select_stages

    try:
        return select_stages(name)
    except (StageNotInstalled, PipelineError) as exc:
        raise _fail(str(exc)) from exc


def _settings() -> Settings:
    from shelfready_core.config import get_settings
    from shelfready_core.logs import configure_logging

    settings = get_settings()
    configure_logging(settings)
    return settings


def _plain(text: str) -> None:
    """Print text as written: `[input, output]` in a purpose is not rich markup."""
    out.print(text, markup=False, highlight=False)


def _fail(message: str, code: int = 1) -> typer.Exit:
    console.print(f"[red]error:[/red] {console.escape(message)}")
    return typer.Exit(code)


@app.command()
def check(
    production: Annotated[
        bool, typer.Option(help="Require the production variables (default: when REDIS_URL is set)")
    ] = False,
    connect: Annotated[bool, typer.Option(help="Also try Redis, the database and storage")] = True,
) -> None:
    """Check the environment, the database URL and (by default) every connection."""
    from shelfready_core.checks import run_checks

    ok = run_checks(_settings(), os.environ, production=production, connect=connect, echo=_plain)
    if not ok:
        raise typer.Exit(1)


@app.command()
def migrate() -> None:
    """Apply database migrations through the direct connection, under an advisory lock."""
    from shelfready_core.checks import print_database_diagnostics
    from shelfready_core.migrate import migrate as run_migrate

    settings = _settings()
    print_database_diagnostics(settings, _plain)
    before, after = run_migrate(settings)
    out.print(f"schema at revision {after} (was {before or 'empty'}) via direct connection")


@app.command()
def worker(
    service: Annotated[str, typer.Argument(help=STAGE_HELP)],
    concurrency: Annotated[int | None, typer.Option(min=1, help="Worker processes")] = None,
    burst: Annotated[bool, typer.Option(help="Exit when the queues are empty")] = False,
) -> None:
    """Run the worker(s) for one stage's queue, or for all installed stages' queues."""
    import gc

    # No collections while the pool imports what its horses share (gc.freeze, run_workers).
    gc.disable()
    from shelfready_core.redis_conn import WORKER_RETRIES, get_redis, set_retries
    from shelfready_runner.stage_select import StageNotInstalled
    from shelfready_runner.startup import StartupError, preflight
    from shelfready_runner.worker import run_workers

    stages = _stages_named(service)
    try:
        preflight(os.environ, lambda text: console.print(text, markup=False, highlight=False))
    except StartupError as exc:
        raise _fail(str(exc)) from exc
    settings = _settings()
    if concurrency is not None:
        count = concurrency
    elif len(stages) == 1:
        count = stages[0].load_settings().concurrency
    else:
        count = ALL_STAGES_CONCURRENCY
    set_retries(WORKER_RETRIES)  # workers ride out a Redis restart
    try:
        run_workers(settings, get_redis(settings), stages, concurrency=count, burst=burst)
    except StageNotInstalled as exc:
        raise _fail(str(exc)) from exc


@app.command()
def submit(
    sources: Annotated[
        list[str] | None, typer.Argument(help="Photo paths, folders of photos, or http(s) URLs")
    ] = None,
    csv_file: Annotated[
        Path | None,
        typer.Option("--csv", help="A batch CSV: photo, sku, brand, category, ... per row"),
    ] = None,
    sku: Annotated[str | None, typer.Option(help="The SKU (one photo only)")] = None,
    brand: Annotated[str | None, typer.Option()] = None,
    category: Annotated[str | None, typer.Option()] = None,
    product_name: Annotated[str | None, typer.Option("--product-name")] = None,
    marketplace: Annotated[str, typer.Option(help="amazon | etsy | shopify | ebay")] = "amazon",
    market: Annotated[str, typer.Option(help="Target market, e.g. US, UK, DE, JP")] = "US",
    language: Annotated[str, typer.Option(help="Listing language: en, zh, ja, de ...")] = "en",
    spec: Annotated[list[str] | None, typer.Option(help="Specification KEY=VALUE")] = None,
    feature: Annotated[list[str] | None, typer.Option(help="A feature to mention")] = None,
    wait: Annotated[bool, typer.Option(help="Wait until each workflow has finished")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait with --wait")] = 900,
    as_json: Annotated[bool, typer.Option("--json", help="Print the workflow JSON")] = False,
) -> None:
    """Start one workflow per photo (a folder: each photo in it; --csv: one per row).

    Prints the workflow ids (or JSON). A CSV is checked whole first: one bad row queues nothing.
    """
    from pydantic import ValidationError

    from shelfready_core.batch import BatchItem, expand_sources, read_batch_csv
    from shelfready_core.producer import submit as submit_one
    from shelfready_core.redis_conn import get_redis
    from shelfready_core.schemas import ListingRequest
    from shelfready_core.storage import get_storage
    from shelfready_runner.cli_workspace import batch_summary

    settings = _settings()
    if bool(sources) == bool(csv_file):
        raise _fail("give photos (paths, folders or URLs) or --csv FILE, not both or neither")
    specifications = {}
    for item in spec or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise _fail(f"--spec {item!r} must look like KEY=VALUE")
        specifications[key.strip()] = value.strip()
    try:
        if csv_file:
            batch = read_batch_csv(csv_file)
        else:
            request = ListingRequest(
                brand=brand,
                category=category,
                sku=sku,
                product_name=product_name,
                marketplace=marketplace,
                market=market.upper(),
                language=language,
                specifications=specifications,
                features=feature or [],
            )
            batch = [BatchItem(source, request) for source in expand_sources(sources or [])]
            if sku and len(batch) > 1:
                raise _fail("--sku names one product; use --csv to give each photo its SKU")
    except ValidationError as exc:
        raise _fail(_field_errors(exc)) from exc
    except ShelfReadyError as exc:
        raise _fail(str(exc)) from exc
    redis, storage = get_redis(settings), get_storage(settings)
    ids = []
    for entry in batch:
        try:
            ids.append(submit_one(settings, redis, storage, entry.source, entry.request))
        except ShelfReadyError as exc:
            raise _fail(str(exc)) from exc
    if wait:
        _wait_for(settings, ids, timeout)
        if len(ids) > 1:
            batch_summary([_status_json(settings, i) for i in ids], console)
    elif len(ids) > 1:
        console.print(f"batch: {len(ids)} workflow(s) queued; follow them with `shelfready list`")
    for workflow_id in ids:
        if as_json:
            out.data(_status_json(settings, workflow_id))
        else:
            out.print(workflow_id)
    if wait and any(_status_json(settings, i)["status"] != "COMPLETED" for i in ids):
        raise typer.Exit(1)


def _field_errors(exc: object) -> str:
    """A pydantic error as `--field: problem` sentences (the input is never echoed)."""
    errors = exc.errors(include_input=False)  # type: ignore[attr-defined]
    return "; ".join(
        f"--{str(error['loc'][0]).replace('_', '-')}: {error['msg']}" for error in errors
    )


def _status_json(settings: Settings, workflow_id: str, events: bool = False) -> dict[str, Any]:
    from shelfready_core.db import session_scope

    with session_scope(settings) as session:
        return _workflow_data(session, workflow_id, events=events)


def _workflow_data(session: Session, workflow_id: str, events: bool = False) -> dict[str, Any]:
    from shelfready_core.errors import WorkflowNotFound
    from shelfready_core.models import Workflow
    from shelfready_core.views import workflow_json

    # Not producer.get_workflow: reading needs neither RQ nor Redis (start-up time).
    workflow = session.get(Workflow, workflow_id)
    if workflow is None:
        raise WorkflowNotFound(workflow_id)
    return workflow_json(session, workflow, events=events)


def _wait_for(settings: Settings, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    pending = set(ids)
    while pending and time.monotonic() < deadline:
        for workflow_id in list(pending):
            if _status_json(settings, workflow_id)["status"] in (
                "COMPLETED",
                "FAILED",
                "CANCELLED",
            ):
                pending.discard(workflow_id)
        if pending:
            time.sleep(0.5)
    if pending:
        console.print(f"[yellow]still running after {timeout:.0f}s:[/yellow] {', '.join(pending)}")


@app.command()
def status(
    workflow_id: Annotated[str, typer.Argument()],
    as_json: Annotated[bool, typer.Option("--json", help="Print the full workflow JSON")] = False,
    events: Annotated[bool, typer.Option(help="Include the event history")] = False,
) -> None:
    """Show a workflow: the whole listing, score, findings, images; exits 1 when FAILED."""
    from shelfready_core.db import session_scope
    from shelfready_core.text_safety import strip_unsafe
    from shelfready_runner.status_text import latest_findings, render_status

    settings = _settings()
    try:
        # One connection for both reads: with NullPool each session opens its own.
        with session_scope(settings) as session:
            data = _workflow_data(session, workflow_id, events=events)
            findings = None if as_json else latest_findings(session, workflow_id)
    except ShelfReadyError as exc:
        raise _fail(str(exc)) from exc
    if as_json:
        out.data(data)
    else:
        # Stored text is cleaned on the way in; old rows and model output are cleaned here too.
        render_status(
            data,
            findings,
            lambda line: out.line(strip_unsafe(line)),
        )
    if data["status"] == "FAILED":
        raise typer.Exit(1)


@app.command()
def queues(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table")] = False,
) -> None:
    """Per queue: waiting, running, failed, deferred and scheduled jobs; and the workers."""
    from dataclasses import asdict

    from shelfready_core.queue_stats import queue_stats
    from shelfready_core.redis_conn import get_redis

    settings = _settings()
    stats = queue_stats(get_redis(settings))
    if as_json:
        out.data([asdict(row) for row in stats])
        return
    from rich.table import Table

    columns = ("queue", "stage", "waiting", "running", "failed", "deferred", "scheduled", "workers")
    table = Table(*columns)
    for row in stats:
        counts = (row.waiting, row.running, row.failed, row.deferred, row.scheduled, row.workers)
        table.add_row(row.name, row.stage, *(str(value) for value in counts))
    out.print(table)


@app.command()
def retry(
    workflow_id: Annotated[str | None, typer.Argument(help="One FAILED workflow")] = None,
    failed_since: Annotated[
        str | None,
        typer.Option(help="Every workflow that failed since then: 2h, 30m, 1d or an ISO time"),
    ] = None,
    all_failed: Annotated[bool, typer.Option(help="Every FAILED workflow")] = False,
) -> None:
    """Resume FAILED workflows from the step that failed (one, or many after an outage)."""
    from shelfready_core.producer import retry as retry_workflow
    from shelfready_core.redis_conn import get_redis

    chosen = sum((workflow_id is not None, failed_since is not None, all_failed))
    if chosen != 1:
        raise _fail("give one of: a workflow id, --failed-since WHEN, --all-failed")
    settings = _settings()
    if workflow_id is not None:
        ids = [workflow_id]
    else:
        try:
            since = _parse_since(failed_since) if failed_since else None
        except ValueError as exc:
            raise _fail(str(exc)) from exc
        ids = _failed_workflow_ids(settings, since)
    redis = get_redis(settings)
    for one in ids:
        try:
            service = retry_workflow(settings, redis, one)
        except ShelfReadyError as exc:
            raise _fail(str(exc)) from exc
        out.print(f"workflow {one} re-enqueued on the {service} queue")
    if workflow_id is None:
        out.print(f"{len(ids)} workflow(s) re-enqueued")


def _parse_since(text: str) -> datetime:
    """`2h`, `30m`, `45s`, `1d` ago, or an ISO 8601 time (UTC when it has no zone)."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    value = text.strip()
    if value[:-1].isdigit() and value[-1:] in units:
        return datetime.now(UTC) - timedelta(seconds=int(value[:-1]) * units[value[-1]])
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"--failed-since {text!r} is neither a duration (2h, 30m, 1d) nor an ISO time"
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _failed_workflow_ids(settings: Settings, since: datetime | None) -> list[str]:
    from sqlmodel import col, select

    from shelfready_core.db import session_scope
    from shelfready_core.models import Workflow, WorkflowStatus

    query = select(Workflow.id).where(col(Workflow.status) == WorkflowStatus.FAILED)
    if since is not None:
        query = query.where(col(Workflow.updated_at) >= since)
    with session_scope(settings) as session:
        return list(session.exec(query.order_by(col(Workflow.updated_at))).all())


@app.command()
def regenerate(
    workflow_id: Annotated[str, typer.Argument()],
    feedback: Annotated[str | None, typer.Option(help="What to change in the new version")] = None,
    image: Annotated[
        int | None, typer.Option(min=1, max=5, help="Only re-render this image (1-5)")
    ] = None,
) -> None:
    """Make a new version of a workflow (with feedback), or re-render one of its images."""
    from shelfready_core.producer import regenerate as new_version
    from shelfready_core.producer import regenerate_image
    from shelfready_core.redis_conn import get_redis

    settings = _settings()
    redis = get_redis(settings)
    try:
        if image is not None:
            regenerate_image(settings, redis, workflow_id, image)
            out.print(f"image {image} of {workflow_id} queued for regeneration")
        else:
            out.print(new_version(settings, redis, workflow_id, feedback=feedback))
    except ShelfReadyError as exc:
        raise _fail(str(exc)) from exc


@app.command()
def reconcile(
    stuck_after: Annotated[
        float | None,
        typer.Option(help="Seconds without change (default: SHELFREADY_STUCK_AFTER)"),
    ] = None,
) -> None:
    """Find workflows that stopped moving and resume (or fail) them."""
    from shelfready_core.reconcile import reconcile as run_reconcile
    from shelfready_core.redis_conn import get_redis

    settings = _settings()
    actions = run_reconcile(settings, get_redis(settings), stuck_after=stuck_after)
    for action in actions:
        out.print(f"{action.workflow_id}: {action.action} ({action.detail})")
    out.print(f"{len(actions)} workflow(s) needed attention")


@app.command()
def demo(
    photos: Annotated[list[Path] | None, typer.Argument(help="Photos (default: samples/)")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Where to write listings")] = Path("out"),
) -> None:
    """Run the whole pipeline on sample photos, with embedded stand-ins for unset services."""
    try:  # the demo installs all three stages: worker images leave it out
        from shelfready_demo.demo import run_demo
    except ModuleNotFoundError as exc:
        raise _fail(
            "the demo is not installed in this image; run `make demo` in a checkout"
        ) from exc

    settings = _settings()
    if "SHELFREADY_LOG_LEVEL" not in os.environ:
        # The demo's own progress and summary are the output; each job's INFO lines would
        # bury them (set SHELFREADY_LOG_LEVEL=INFO to see them).
        from shelfready_core.logs import configure_logging

        settings = settings.model_copy(update={"log_level": "WARNING"})
        configure_logging(settings)
    ok = run_demo(settings, photos or None, out_dir, console=out.get())
    if not ok:
        raise typer.Exit(1)


api_key_app = typer.Typer(help="API keys of the HTTP API: each key sees only its own workflows.")
app.add_typer(api_key_app, name="api-key")


@api_key_app.command("add")
def api_key_add(name: Annotated[str, typer.Argument(help="Who the key is for, e.g. acme")]) -> None:
    """Create a key; it is printed once (only its SHA-256 digest is stored)."""
    from shelfready_core.api_keys import create_key

    try:
        key = create_key(_settings(), name)
    except ShelfReadyError as exc:
        raise _fail(str(exc)) from exc
    console.print(f"API key {name!r} created; it is shown only this once:")
    out.print(key, markup=False, highlight=False)


@api_key_app.command("list")
def api_key_list() -> None:
    """The database keys' names and creation times (never the keys)."""
    from shelfready_core.api_keys import list_keys

    for name, created in list_keys(_settings()):
        out.print(f"{name}  created {created}", markup=False, highlight=False)


@api_key_app.command("revoke")
def api_key_revoke(name: Annotated[str, typer.Argument()]) -> None:
    """Delete a key: it stops working at once; its workflows stay."""
    from shelfready_core.api_keys import revoke_key

    try:
        revoke_key(_settings(), name)
    except ShelfReadyError as exc:
        raise _fail(str(exc)) from exc
    out.print(f"API key {name!r} revoked")


def main() -> None:  # pragma: no cover - console-script shim
    from shelfready_runner.cli_errors import run_cli

    run_cli(app)


@app.command()
def health(
    service: Annotated[str, typer.Option(help=STAGE_HELP)],
    url: Annotated[
        str | None,
        typer.Option(help="Ask a running endpoint instead, e.g. http://127.0.0.1:8080/health"),
    ] = None,
    any_host: Annotated[
        bool, typer.Option("--any-host", help="Count workers on every host, not only this one")
    ] = False,
) -> None:
    """Check Redis, the database and the workers' heartbeat; exit 1 when unhealthy."""
    import socket

    from shelfready_runner.health import check_health, fetch_health

    _stages_named(service)  # an unknown or uninstalled name: one sentence, exit 1
    if url:
        report = fetch_health(url)
    else:
        hostname = None if any_host else socket.gethostname()
        report = check_health(_settings(), service, hostname=hostname)
    out.print(report.render(), markup=False, highlight=False)
    if not report.ok:
        raise typer.Exit(1)


def _register_workspace_commands() -> None:
    from shelfready_runner.cli_workspace import register

    register(app, _settings, out, _fail)


_register_workspace_commands()


# diagnose, failed, cancel, prune: their logic lives in ops_cli.
from shelfready_runner import ops_cli  # noqa: E402

ops_cli.register(app)
