"""Work a worker pool does once before it forks, so no work-horse repeats it per job.

Measured (bench/pipeline.py): a horse that configured the ORM mappers itself took ~70 ms from
its start to the workflow being claimed; with the mappers configured and the engine's dialect
initialised before the fork, less (README, Benchmarks). The claim and the hand-over are
rehearsed here too, on a stand-in workflow and rolled back: SQLAlchemy caches compiled
statements on the engine, which every horse inherits (measured in a forked child: 12 ms -> 5 ms
for the claim's read). A spare horse rehearses them again on its own connection, for what the
database backend caches per connection.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

    from redis import Redis
    from sqlmodel import Session

    from shelfready_core.config import Settings
    from shelfready_core.stages import Stage

log = logging.getLogger(__name__)


def warm_up_before_fork(settings: Settings, stages: Iterable[Stage], redis: Redis) -> None:
    from sqlalchemy.orm import configure_mappers
    from sqlmodel import Session

    from shelfready_core import models  # noqa: F401  # every table's mapper, configured below
    from shelfready_core.db import get_engine

    configure_mappers()
    try:  # the first connection initialises the dialect, once for every horse
        connection = get_engine(settings).connect()
    except Exception as exc:  # the database may be briefly away; horses then do it
        log.warning("database not reachable before forking: %s", type(exc).__name__)
        return
    with connection, Session(connection) as session:
        try:
            rehearse_a_job_start_and_end(session, stages, redis)
        except Exception as exc:  # not migrated yet: each horse compiles them itself
            log.debug("claim and hand-over not rehearsed before forking: %s", exc)
        session.rollback()  # only the compiled statements stay


def rehearse_a_job_start_and_end(session: Session, stages: Iterable[Stage], redis: Redis) -> None:
    """The claim's first read, for an id that does not exist, then each stage's claim and
    hand-over on a stand-in workflow (stage.rehearse_handoff); the caller rolls back. A
    rehearsal that fails (not migrated yet) costs only its speed-up: the job does it for real."""
    from shelfready_core.models import Workflow
    from shelfready_core.stage import rehearse_handoff

    session.get(Workflow, "")
    try:  # no SAVEPOINT: with SQLite (the demo) releasing one would commit the stand-ins
        for stage in stages:
            rehearse_handoff(session, stage, redis)
    except Exception as exc:
        session.rollback()  # the connection stays usable, and warmed up by the read
        log.debug("could not rehearse the claim and hand-over: %s", exc)
