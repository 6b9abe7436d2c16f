"""`shelfready demo`: the real pipeline on sample photos, with stand-ins for what is not set.

Unset REDIS_URL means an in-process Redis (fakeredis) and a SimpleWorker running the real job
code in this process; unset DATABASE_URL means SQLite; no API key means the offline analysers.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn
from rich.table import Table
from rq import Queue, SimpleWorker
from rq.scheduler import RQScheduler

from shelfready_core.batch import read_batch_csv
from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.migrate import migrate
from shelfready_core.producer import get_workflow, submit
from shelfready_core.redis_conn import get_redis
from shelfready_core.schemas import ListingRequest
from shelfready_core.stages import pipeline
from shelfready_core.storage import get_storage
from shelfready_core.views import workflow_json
from shelfready_runner.stage_select import load_stage, queue_names

log = logging.getLogger(__name__)

PHOTO_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
DEMO_BRAND = "Northwind"
DEMO_TIMEOUT_SECONDS = 600


SAMPLES = Path("samples")
# What a seller types for each sample (the batch CSV of `shelfready submit`): real facts for
# the listing and sizes for the dimensions image, instead of a photo and a brand alone.
SAMPLE_DETAILS = "listing-details.csv"


def sample_photos(folder: Path = SAMPLES) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES)


def demo_items(
    photos: list[Path] | None, folder: Path = SAMPLES
) -> list[tuple[Path, ListingRequest]]:
    """The photos to run with what is known about each: the samples with their seller details
    when no photos are named, else the named photos with only the demo brand."""
    if not photos and (folder / SAMPLE_DETAILS).is_file():
        return [(Path(i.source), i.request) for i in read_batch_csv(folder / SAMPLE_DETAILS)]
    return [(photo, ListingRequest(brand=DEMO_BRAND)) for photo in photos or sample_photos(folder)]


def run_demo(
    settings: Settings, photos: list[Path] | None, out_dir: Path, *, console: Console
) -> bool:
    for stage in pipeline():  # every installed stage, run here by one SimpleWorker
        load_stage(stage)
    migrate(settings)
    redis, storage = get_redis(settings), get_storage(settings)
    items = demo_items(photos)
    console.print(
        f"[bold]ShelfReady demo[/bold]: {len(items)} photo(s); "
        f"database {'SQLite' if settings.database_url is None else 'from DATABASE_URL'}, "
        f"redis {'in-process' if settings.redis_url is None else 'from REDIS_URL'}, "
        f"AI {'offline' if settings.uses_offline_ai else 'Claude'}, storage {storage.description}"
    )
    ids = {submit(settings, redis, storage, photo, request): photo for photo, request in items}
    _work_until_done(settings, redis, list(ids), console)

    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for workflow_id, photo in ids.items():
        with session_scope(settings) as session:
            data = workflow_json(session, get_workflow(session, workflow_id), events=True)
        results.append(data)
        _export(data, out_dir / photo.stem, storage)
    _print_summary(results, out_dir, console)
    return all(item["status"] == "COMPLETED" for item in results)


def _work_until_done(settings: Settings, redis, ids: list[str], console: Console) -> None:  # type: ignore[no-untyped-def]
    queues = [Queue(name, connection=redis) for name in queue_names(list(pipeline()))]
    worker = SimpleWorker(queues, connection=redis)
    scheduler = RQScheduler(queues, connection=redis)
    deadline = time.monotonic() + DEMO_TIMEOUT_SECONDS
    with Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.fields[step]}"),
        console=console,
    ) as progress:
        tasks = {i: progress.add_task(i[:8], total=100, step="queued") for i in ids}
        while time.monotonic() < deadline:
            worked = worker.work(burst=True, max_jobs=1, logging_level="WARNING")
            done = _refresh(settings, ids, progress, tasks)
            if done:
                break
            if not worked:
                scheduler.enqueue_scheduled_jobs()  # type: ignore[no-untyped-call]  # due retries
                time.sleep(0.25)


def _refresh(settings: Settings, ids: list[str], progress: Progress, tasks: dict) -> bool:  # type: ignore[type-arg]
    finished = 0
    with session_scope(settings) as session:
        for workflow_id in ids:
            workflow = get_workflow(session, workflow_id)
            label = Path(workflow.source_name).stem[:28]  # the column is 28 wide
            step = workflow.status if workflow.status != "PROCESSING" else workflow.current_step
            progress.update(
                tasks[workflow_id], completed=workflow.progress, step=step, description=label
            )
            finished += workflow.status in ("COMPLETED", "FAILED", "CANCELLED")
    return finished == len(ids)


def _export(data: dict, folder: Path, storage) -> None:  # type: ignore[type-arg,no-untyped-def]
    """Write the listing as JSON and Markdown, with its images beside it."""
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "images").mkdir(parents=True)
    names = []
    for item in (data.get("images") or {}).get("items", []):
        key = item["key"]
        if not key:
            continue
        name = f"{item['index']}-{item['kind']}{Path(key).suffix}"
        (folder / "images" / name).write_bytes(storage.get(key))
        names.append((item, name))
    (folder / "listing.json").write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    (folder / "listing.md").write_text(_markdown(data, names), encoding="utf-8")


def _markdown(data: dict, images: list) -> str:  # type: ignore[type-arg]
    listing = data.get("listing") or {}
    lines = [f"# {listing.get('title', data['source_name'])}", ""]
    lines += [f"Status: {data['status']}" + (f" ({data['error']})" if data["error"] else ""), ""]
    if listing:
        quality = listing["quality"]
        verdict = "approved" if quality["approved"] else "needs review"
        lines += [f"Quality score: {quality['score']} ({verdict})", ""]
        lines += _bullets("Why it needs review", listing.get("review_reasons"))
        lines += _bullets("Score deductions", quality.get("reasons"))
        lines += _bullets("Fixed automatically", listing.get("fixes"))
        lines += ["## Bullet points", ""] + [f"- {b}" for b in listing["bullet_points"]] + [""]
        lines += ["## Description", "", listing["description"], ""]
        lines += [
            "## Search terms",
            "",
            listing["search_terms"] or ", ".join(listing["keywords"]),
            "",
        ]
    if images:
        lines += ["## Images", ""]
        lines += _bullets("Image set review", (data.get("images") or {}).get("review_reasons"))
        for item, name in images:
            verdict = "passes" if (item.get("compliance") or {}).get("passed") else "check"
            lines.append(f"![{item['kind']}](images/{name}) {item['kind']} ({verdict})")
        lines.append("")
    return "\n".join(lines)


def _bullets(heading: str, items: list[str] | None) -> list[str]:
    """A markdown sub-section listing `items`, or nothing when there are none."""
    if not items:
        return []
    return [f"### {heading}", "", *(f"- {item}" for item in items), ""]


def _review(data: dict) -> str:  # type: ignore[type-arg]
    """What a person still has to look at (reasons per part), or "nothing"."""
    listing = data.get("listing") or {}
    images = data.get("images") or {}
    if listing.get("approved") and not images.get("needs_review"):
        return "nothing"
    parts = [
        f"{what} {len(reasons)}"
        for what, reasons in (
            ("listing", listing.get("review_reasons") or []),
            ("images", images.get("review_reasons") or []),
        )
        if reasons
    ]
    return ", ".join(parts) or "listing"


def _print_summary(results: list[dict], out_dir: Path, console: Console) -> None:  # type: ignore[type-arg]
    # A workflow's status shows where its title would be unless it completed, and the cost is
    # one line under the table: so the table fits 80 columns with room for the titles.
    table = Table("photo", "title", "score", "images", "to review")
    for column in table.columns:
        column.no_wrap = column.header not in ("title", "to review")
    table.columns[0].overflow = "ellipsis"
    table.columns[0].max_width = 22
    for data in results:
        listing = data.get("listing") or {}
        items = (data.get("images") or {}).get("items", [])
        good = sum(1 for i in items if (i.get("compliance") or {}).get("passed"))
        title = (listing.get("title") or "")[:60]
        if data["status"] != "COMPLETED":
            title = f"{data['status']}: {data['error'] or title}"[:80]
        table.add_row(
            Path(data["source_name"]).stem,
            title,
            str((listing.get("quality") or {}).get("score", "")),
            f"{good}/{len(items)} pass",
            _review(data),
        )
    console.print(table)
    cost = sum(data["usage"]["total_cost_usd"] for data in results)
    console.print(f"Cost of this run's paid API calls: ${cost:.4f}")
    console.print(
        f"Listings and images written under {out_dir}/; each listing.md says why it needs review."
    )
