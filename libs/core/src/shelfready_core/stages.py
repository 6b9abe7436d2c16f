"""The stage registry: which stages are installed, in what order, and what each one owns.

Core never names a stage. Each service package declares one `Stage` and registers it through
the `shelfready.stages` package entry point; core discovers the installed ones here. Adding a
stage means adding a package (plus its Dockerfile and Railway file), nothing else:

    [project.entry-points."shelfready.stages"]
    mystage = "my_package.stage:STAGE"

The pipeline order comes from each stage's `after` (the stage that hands over to it). An image
that installs one service still knows every stage's queue name and steps because a stage's
*declaration* lives in a small module with no heavy imports; its job code is imported only by
the worker that runs it (by dotted path).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, TypeVar, cast

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from sqlmodel import Session

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "shelfready.stages"


class StageSettings(BaseSettings):
    """Settings one stage reads. A stage subclasses it, gives `concurrency` its default and
    env alias (e.g. RECOGNITION_CONCURRENCY) and adds its own fields, each with a description:
    the start-up check and the README's table are generated from these fields."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    concurrency: int = Field(1, ge=1, description="parallel jobs of this stage's worker pool")


StageSettingsT = TypeVar("StageSettingsT", bound=StageSettings)
_loaded_settings: dict[type[StageSettings], StageSettings] = {}


def get_stage_settings(settings_class: type[StageSettingsT]) -> StageSettingsT:
    """The stage's settings, read once per process (like `config.get_settings`)."""
    loaded = _loaded_settings.get(settings_class)
    if loaded is None:
        loaded = _loaded_settings[settings_class] = settings_class()
    return cast(StageSettingsT, loaded)


def clear_stage_settings() -> None:
    """Forget the loaded stage settings (tests that change the environment)."""
    _loaded_settings.clear()


@dataclass(frozen=True)
class QueuePolicy:
    """How one queue's jobs run: the figures the BullMQ fleet was tuned to."""

    name: str
    timeout_seconds: int
    retry_intervals: tuple[int, ...] = (2, 4, 8)  # 3 retries, exponential backoff

    @property
    def max_retries(self) -> int:
        return len(self.retry_intervals)


@dataclass(frozen=True)
class Stage:
    """One stage of the pipeline, as its own package declares it."""

    name: str  # also the service name: `shelfready worker <name>`, metric and log labels
    queue: QueuePolicy
    job: str  # dotted path of the RQ entry point, called with the workflow id
    steps: tuple[str, ...]  # the workflow steps this stage moves a workflow out of; [0] = entry
    after: str | None  # the stage that hands over to this one; None for the first stage
    # The workflow's progress (0-100) once this stage has handed over.
    progress_done: int
    settings: type[StageSettings] = StageSettings
    # Further job kinds this stage's queue runs, by name -> dotted path (e.g. regenerating one
    # image); they share the stage's lifecycle and policy.
    jobs: Mapping[str, str] = field(default_factory=dict)
    # Dotted path of a function the worker pool calls once before it forks (load models).
    preload: str | None = None
    description: str = ""

    def load_settings(self) -> StageSettings:
        """This stage's settings, read once per process (get_stage_settings)."""
        return get_stage_settings(self.settings)


class PipelineError(RuntimeError):
    """The installed stages do not form one pipeline (duplicate names, a broken chain...)."""


@dataclass(frozen=True)
class Pipeline:
    """The installed stages in pipeline order."""

    stages: tuple[Stage, ...]

    def __iter__(self) -> Iterator[Stage]:
        return iter(self.stages)

    def __len__(self) -> int:
        return len(self.stages)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    @property
    def first(self) -> Stage:
        """The stage a new workflow starts at."""
        if not self.stages or self.stages[0].after is not None:
            raise PipelineError(
                "the first stage is not installed here and has not registered yet; "
                "deploy its service (its pre-deploy `shelfready migrate` registers it)"
            )
        return self.stages[0]

    @property
    def steps(self) -> tuple[str, ...]:
        """Every step, in pipeline order."""
        return tuple(step for stage in self.stages for step in stage.steps)

    def get(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage {name!r} is installed (installed: {', '.join(self.names)})")

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def next_after(self, name: str) -> Stage | None:
        """The stage a finished `name` hands over to, or None when `name` is the last known."""
        for stage in self.stages:
            if stage.after == name:
                return stage
        return None

    def owner_of(self, step: str) -> Stage:
        """The stage that moves a workflow out of `step`."""
        for stage in self.stages:
            if step in stage.steps:
                return stage
        raise KeyError(f"no installed stage owns step {step!r}")

    def by_queue(self, queue_name: str) -> Stage:
        for stage in self.stages:
            if stage.queue.name == queue_name:
                return stage
        raise KeyError(f"no installed stage uses queue {queue_name!r}")

    def step_position(self, step: str) -> int:
        return self.steps.index(step)


def order(stages: list[Stage]) -> Pipeline:
    """Chain the stages by `after`. Refuses what cannot be one line (two stages with a name, a
    queue or a step in common, two first stages, two stages after one); a stage whose
    predecessor is not known here yet is kept, after the known line."""
    by_name: dict[str, Stage] = {}
    for stage in stages:
        if stage.name in by_name:
            raise PipelineError(f"two installed stages are named {stage.name!r}")
        by_name[stage.name] = stage
    for kind, values in (
        ("queue", [s.queue.name for s in stages]),
        ("step", [step for s in stages for step in s.steps]),
    ):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise PipelineError(f"more than one installed stage declares {kind} {repeated[0]!r}")
    firsts = [s for s in stages if s.after is None]
    if len(firsts) > 1:
        raise PipelineError(
            "exactly one stage may come first (after=None); found "
            + ", ".join(s.name for s in firsts)
        )
    followers: dict[str | None, Stage] = {}
    for stage in stages:
        if stage.after in followers:
            raise PipelineError(
                f"two stages follow {stage.after!r}: {followers[stage.after].name}, {stage.name}"
            )
        followers[stage.after] = stage
    # The known line from the first stage, then each fragment whose head waits for an unknown
    # predecessor (an image that installs one stage before the others have registered).
    heads = firsts + sorted(
        (s for s in stages if s.after is not None and s.after not in by_name),
        key=lambda s: s.progress_done,
    )
    chain: list[Stage] = []
    for head in heads:
        link: Stage | None = head
        while link is not None and link not in chain:
            chain.append(link)
            link = followers.get(link.name)
    if len(chain) != len(stages):
        looped = sorted(set(by_name) - {s.name for s in chain})
        raise PipelineError(f"stages that follow each other in a loop: {', '.join(looped)}")
    return Pipeline(tuple(chain))


@cache
def installed() -> tuple[Stage, ...]:
    """The stages installed in this environment, from the package entry points (once)."""
    found: list[Stage] = []
    for point in entry_points(group=ENTRY_POINT_GROUP):
        stage = point.load()
        if not isinstance(stage, Stage):
            raise PipelineError(f"entry point {point.name!r} ({point.value}) is not a Stage")
        found.append(stage)
    return tuple(found)


# How long this process trusts what it read of the registered stages.
REGISTERED_TTL_SECONDS = 30.0
RETRY_UNREADABLE_SECONDS = 5.0
_registered_cache: tuple[float, tuple[Stage, ...]] | None = None


def pipeline(session: Session | None = None) -> Pipeline:
    """The stages installed here plus those other images registered (stage_records.py).
    With `session`, the registrations are read fresh in that transaction; without, from a
    cache renewed every 30 s (and only the installed stages while the database is away)."""
    local = {stage.name: stage for stage in installed()}
    remote = _registered(session)
    merged = [*local.values(), *(s for s in remote if s.name not in local)]
    if not merged:
        raise PipelineError(
            f"no stage is installed (no {ENTRY_POINT_GROUP!r} entry point) or registered; "
            "install a service package, e.g. `uv sync --all-packages`"
        )
    return order(merged)


def _registered(session: Session | None) -> tuple[Stage, ...]:
    global _registered_cache
    from shelfready_core import stage_records

    if session is not None:
        return tuple(stage_records.registered(session))
    now = time.monotonic()
    if _registered_cache is not None and now < _registered_cache[0]:
        return _registered_cache[1]
    from shelfready_core.config import get_settings

    settings = get_settings()
    found: tuple[Stage, ...] = ()
    ttl = REGISTERED_TTL_SECONDS
    if settings.database_url is not None:  # the embedded demo installs every stage itself
        try:
            from shelfready_core.db import session_scope

            with session_scope(settings) as fresh:
                found = tuple(stage_records.registered(fresh))
        except Exception as exc:  # database away or not migrated yet: what is installed here
            log.debug("registered stages unavailable: %s", exc)
            ttl = RETRY_UNREADABLE_SECONDS
    _registered_cache = (now + ttl, found)
    return found


def forget_cached_registrations() -> None:
    """Read the registered stages afresh on the next `pipeline()` (tests, after a register)."""
    global _registered_cache
    _registered_cache = None
