"""Work a worker pool does once before it forks, so no work-horse repeats it per job.

Measured (bench/pipeline.py): a horse that configured the ORM mappers itself took ~70 ms from
its start to the workflow being claimed; with the mappers configured and the engine's dialect
initialised before the fork, less (README, Benchmarks). The claim's first statement (the
workflow by its id) is compiled here too: SQLAlchemy caches compiled statements on the engine,
which every horse inherits (measured in a forked child: 12 ms -> 5 ms for that read).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlmodel import Session

    from shelfready_core.config import Settings

log = logging.getLogger(__name__)


def warm_up_before_fork(settings: Settings) -> None:
    from sqlalchemy.orm import configure_mappers

    from shelfready_core import models  # noqa: F401  # every table's mapper, configured below
    from shelfready_core.db import get_engine, session_scope

    configure_mappers()
    try:  # the first connection initialises the dialect, once for every horse
        with get_engine(settings).connect():
            pass
    except Exception as exc:  # the database may be briefly away; horses then do it
        log.warning("database not reachable before forking: %s", type(exc).__name__)
        return
    try:
        with session_scope(settings) as session:
            read_as_a_claim_does(session)  # only the compiled statement stays
    except Exception as exc:  # not migrated yet: each horse compiles it itself
        log.debug("claim statement not compiled before forking: %s", exc)


def read_as_a_claim_does(session: Session) -> None:
    """The claim's first read, for an id that does not exist: compiles its statement in the
    process, and loads what a database backend caches per connection for it."""
    from shelfready_core.models import Workflow

    session.get(Workflow, "")
