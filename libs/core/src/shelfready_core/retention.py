"""Retention: delete finished workflows older than a cut-off, their files and their rows.

Only COMPLETED, FAILED and CANCELLED workflows are pruned; one still in flight is never
touched, however old. A dry run (the CLI's default) counts what would go and changes nothing.
Workers can prune once a day by themselves (SHELFREADY_RETENTION_DAYS), one pool at a time.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis import Redis

    from shelfready_core.config import Settings
    from shelfready_core.storage import Storage

log = logging.getLogger(__name__)

DAILY_LOCK_KEY = "shelfready:retention:daily"
DAY_SECONDS = 24 * 3600
# Workflows handled per transaction: a large first prune never holds one huge transaction.
BATCH = 200
_DURATION = re.compile(r"^\s*(\d+)\s*([dhm]?)\s*$")
_UNIT_SECONDS = {"d": DAY_SECONDS, "h": 3600, "m": 60, "": DAY_SECONDS}


def parse_age(text: str) -> timedelta:
    """`30d`, `12h`, `90m` or a plain number of days."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"{text!r} is not an age: write e.g. 30d, 12h or 90m")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


@dataclass
class PruneReport:
    cutoff: datetime
    dry_run: bool
    workflow_ids: list[str] = field(default_factory=list)
    files_deleted: int = 0
    rows_deleted: int = 0

    def render(self) -> str:
        verb = "would delete" if self.dry_run else "deleted"
        files = "their files" if self.dry_run else f"{self.files_deleted} file(s)"
        text = (
            f"{verb} {len(self.workflow_ids)} finished workflow(s) created before "
            f"{self.cutoff:%Y-%m-%d %H:%M} UTC, {files} and {self.rows_deleted} row(s)"
        )
        if self.dry_run and self.workflow_ids:
            text += "; run again with --delete to do it"
        return text


def prune(
    settings: Settings, storage: Storage, older_than: timedelta, *, dry_run: bool = True
) -> PruneReport:
    from sqlalchemy import delete, exists, func, or_, update
    from sqlalchemy.orm import aliased
    from sqlmodel import col, select

    from shelfready_core.db import session_scope
    from shelfready_core.models import (
        ApiUsage,
        ImageSet,
        Listing,
        ListingImage,
        Product,
        Workflow,
        WorkflowEvent,
        WorkflowStatus,
        utcnow,
    )
    from shelfready_core.storage.keys import workflow_prefix

    finished = [WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED]
    report = PruneReport(cutoff=utcnow() - older_than, dry_run=dry_run)
    with session_scope(settings) as session:
        # A newer version made from a workflow reads its photo: keep the original while any
        # version of it is still running or within the retention period.
        child = aliased(Workflow)
        kept_child = exists().where(
            col(child.parent_id) == col(Workflow.id),
            or_(col(child.status).not_in(finished), col(child.created_at) >= report.cutoff),
        )
        report.workflow_ids = list(
            session.exec(
                select(Workflow.id)
                .where(col(Workflow.status).in_(finished))
                .where(Workflow.created_at < report.cutoff)
                .where(~kept_child)
                .order_by(col(Workflow.created_at))
            ).all()
        )
        if dry_run:
            ids = report.workflow_ids
            for model in (WorkflowEvent, ApiUsage, Product, Listing, ImageSet):
                report.rows_deleted += session.exec(
                    select(func.count()).where(col(model.workflow_id).in_(ids))
                ).one()
            report.rows_deleted += session.exec(
                select(func.count())
                .select_from(ListingImage)
                .join(ImageSet, col(ImageSet.id) == col(ListingImage.image_set_id))
                .where(col(ImageSet.workflow_id).in_(ids))
            ).one()
            report.rows_deleted += len(ids)
            return report

    for start in range(0, len(report.workflow_ids), BATCH):
        ids = report.workflow_ids[start : start + BATCH]
        for workflow_id in ids:  # files first: rows without files are harmless, not the reverse
            report.files_deleted += storage.delete_prefix(workflow_prefix(workflow_id))
        with session_scope(settings) as session:
            set_ids = select(ImageSet.id).where(col(ImageSet.workflow_id).in_(ids))
            statements = [
                delete(ListingImage).where(col(ListingImage.image_set_id).in_(set_ids)),
                *(
                    delete(model).where(col(model.workflow_id).in_(ids))
                    for model in (ImageSet, Listing, Product, ApiUsage, WorkflowEvent)
                ),
            ]
            for statement in statements:
                report.rows_deleted += session.exec(statement).rowcount
            # Newer versions outlive the one they were made from.
            session.exec(
                update(Workflow).where(col(Workflow.parent_id).in_(ids)).values(parent_id=None)
            )
            result = session.exec(delete(Workflow).where(col(Workflow.id).in_(ids)))
            report.rows_deleted += result.rowcount
    log.info("retention: %s", report.render())
    return report


def prune_daily_among_workers(settings: Settings, redis: Redis) -> None:
    """The workers' daily prune: one pool a day does it (a Redis lock that lasts a day)."""
    days = settings.retention_days
    if not days:
        return
    if not redis.set(DAILY_LOCK_KEY, "1", nx=True, ex=DAY_SECONDS):
        return
    from shelfready_core.storage import get_storage

    prune(settings, get_storage(settings), timedelta(days=days), dry_run=False)
