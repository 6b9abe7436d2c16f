"""Stages known through the database: how an image that installs one stage knows the rest.

A service image installs only core, its own stage and what runs it, yet its stage must hand
over to the next one (whose queue and job it has to name) and the API must know the first.
So every image records the declarations of the stages it installs (`register`, run by
`shelfready migrate` at pre-deploy and by a worker pool at start), and `stages.pipeline()`
reads them back beside the locally installed ones. A stage is part of the pipeline once its
image has been deployed; `shelfready stages` shows what is known.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, select

from shelfready_core.models import StageRecord, utcnow
from shelfready_core.stages import QueuePolicy, Stage

log = logging.getLogger(__name__)


def to_declaration(stage: Stage) -> dict[str, Any]:
    """What another image needs to know of a stage: everything but its local settings."""
    return {
        "name": stage.name,
        "queue": {
            "name": stage.queue.name,
            "timeout_seconds": stage.queue.timeout_seconds,
            "retry_intervals": list(stage.queue.retry_intervals),
        },
        "job": stage.job,
        "steps": [str(step) for step in stage.steps],
        "after": stage.after,
        "progress_done": stage.progress_done,
        "jobs": dict(stage.jobs),
        "description": stage.description,
    }


def from_declaration(data: dict[str, Any]) -> Stage:
    queue = data["queue"]
    return Stage(
        name=data["name"],
        queue=QueuePolicy(
            queue["name"],
            timeout_seconds=int(queue["timeout_seconds"]),
            retry_intervals=tuple(int(i) for i in queue["retry_intervals"]),
        ),
        job=data["job"],
        steps=tuple(data["steps"]),
        after=data.get("after"),
        progress_done=int(data["progress_done"]),
        jobs=dict(data.get("jobs") or {}),
        description=data.get("description", ""),
    )


def register(session: Session, stages: Iterable[Stage]) -> list[str]:
    """Record (or refresh) these stages' declarations; returns the names whose changed. An
    upsert: replicas of one service starting together do not trip over each other."""
    known = {row.name: row.declaration for row in session.exec(select(StageRecord)).all()}
    changed = []
    for stage in stages:
        declaration = to_declaration(stage)
        if known.get(stage.name) == declaration:
            continue
        values = {"name": stage.name, "declaration": declaration, "updated_at": utcnow()}
        insert = _insert_for(session)
        session.execute(
            insert(StageRecord)
            .values(**values)
            .on_conflict_do_update(index_elements=["name"], set_=values)
        )
        changed.append(stage.name)
    if changed:
        log.info("registered stage(s): %s", ", ".join(changed))
    return changed


def _insert_for(session: Session) -> Any:
    """The dialect's INSERT with ON CONFLICT (Postgres in production, SQLite in the demo)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


def registered(session: Session) -> list[Stage]:
    """Every stage some image has registered, as declared there."""
    stages = []
    for row in session.exec(select(StageRecord)).all():
        try:
            stages.append(from_declaration(row.declaration or {}))
        except (KeyError, TypeError, ValueError) as exc:  # written by another version
            log.warning("ignoring the unreadable registration of stage %r: %s", row.name, exc)
    return stages


def forget(session: Session, name: str) -> bool:
    """Remove a stage that is no longer deployed; True when it was registered."""
    row = session.get(StageRecord, name)
    if row is None:
        return False
    session.delete(row)
    return True
