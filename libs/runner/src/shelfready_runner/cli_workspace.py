"""The seller's batch commands: `shelfready list` and `shelfready export`, plus the helpers
`submit` uses for folders, CSV batches and the batch summary."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from shelfready_core.errors import ShelfReadyError

if TYPE_CHECKING:  # `shelfready --help` imports this module: its libraries load when used
    from rich.console import Console

    from shelfready_core.config import Settings

EXPORT_FORMATS = ("amazon", "shopify", "csv")


def batch_summary(rows: list[dict[str, Any]], console: Console | Any) -> None:
    """One line per workflow of a batch, then the counts, on stderr (stdout keeps the ids)."""
    for data in rows:
        listing = data.get("listing") or {}
        score = listing.get("quality", {}).get("score")
        shown = listing.get("title") or data.get("error") or ""
        console.print(
            f"{data['id']}  {data['status']:<10} score {'-' if score is None else score:>3}  "
            f"{data['source_name']}: {shown[:70]}",
            markup=False,
            highlight=False,
        )
    counts = Counter(data["status"] for data in rows)
    console.print("batch: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))


def register(app: typer.Typer, settings_factory: Any, out: Console | Any, fail: Any) -> None:
    """Add `list` and `export` to the CLI (kept here so cli.py only wires them in)."""

    @app.command("list")
    def list_workflows(
        status: Annotated[
            str | None, typer.Option(help="PENDING | PROCESSING | COMPLETED | FAILED")
        ] = None,
        needs_review: Annotated[
            bool, typer.Option("--needs-review", help="Only flagged, unapproved ones")
        ] = False,
        limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    ) -> None:
        """Workflows, newest first: id, status, progress, score, review state, title."""
        from sqlalchemy import func
        from sqlmodel import col, select

        from shelfready_core.db import session_scope
        from shelfready_core.models import Listing, Workflow, WorkflowStatus
        from shelfready_core.review_state import needs_review_clause

        if status is not None and status.upper() not in WorkflowStatus.__members__:
            raise fail(f"unknown status {status!r}; choose {', '.join(WorkflowStatus)}")
        settings: Settings = settings_factory()
        flagged = needs_review_clause()
        query = (
            select(Workflow, Listing, flagged.label("flagged"))
            .join(Listing, col(Listing.workflow_id) == col(Workflow.id), isouter=True)
            .order_by(col(Workflow.created_at).desc())
        )
        if status:
            query = query.where(col(Workflow.status) == status.upper())
        if needs_review:
            query = query.where(flagged)
        with session_scope(settings) as session:
            total = session.execute(select(func.count()).select_from(query.subquery())).scalar()
            rows = session.execute(query.limit(limit)).all()
            # Plain lines, not a table: ids stay whole in a narrow terminal and in scripts.
            lines = []
            for workflow, listing, is_flagged in rows:
                review = (
                    "approved"
                    if listing and listing.approved_at
                    else ("needs-review" if is_flagged else "-")
                )
                score = str(listing.quality_score) if listing else "-"
                title = (listing.title if listing else workflow.source_name)[:60]
                lines.append(
                    f"{workflow.id}  {workflow.created_at:%Y-%m-%d %H:%M}  {workflow.status:<10} "
                    f"{workflow.progress:>3}%  score {score:>3}  {review:<12} {title}"
                )
        for line in lines:
            out.print(line, markup=False, highlight=False)
        out.print(f"{len(rows)} of {total} workflow(s)")

    @app.command()
    def export(
        workflow_ids: Annotated[list[str], typer.Argument(help="Workflow ids")],
        format: Annotated[str, typer.Option("--format", help="amazon | shopify | csv")] = "amazon",
        out_file: Annotated[Path, typer.Option("--out", help="The ZIP to write")] = Path(
            "export.zip"
        ),
        include_unapproved: Annotated[
            bool, typer.Option("--include-unapproved", help="Also listings not approved yet")
        ] = False,
    ) -> None:
        """Write an export pack (ZIP) for one or many workflows."""
        from shelfready_core.db import session_scope
        from shelfready_core.export import build_pack, gather_items
        from shelfready_core.producer import get_workflow
        from shelfready_core.storage import get_storage

        if format not in EXPORT_FORMATS:
            raise fail(f"unknown format {format!r}; choose {', '.join(EXPORT_FORMATS)}")
        settings: Settings = settings_factory()
        try:
            with session_scope(settings) as session:
                workflows = [get_workflow(session, i) for i in dict.fromkeys(workflow_ids)]
                items = gather_items(
                    session, get_storage(settings), workflows, include_unapproved=include_unapproved
                )
            data = build_pack(items, format)
        except ShelfReadyError as exc:
            raise fail(str(exc)) from exc
        out_file.parent.mkdir(parents=True, exist_ok=True)
        out_file.write_bytes(data)
        out.print(f"wrote {out_file} ({format}, {len(items)} listing(s), {len(data)} bytes)")
