"""Which installed stages a command means (one stage's name, or "all"), and loading a stage's
job code into a worker pool before it forks.

Everything here comes from the registry (`stages.pipeline()`): core names no stage.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import packages_distributions
from typing import cast

from shelfready_core.stages import Stage, pipeline

ALL = "all"


class StageNotInstalled(ValueError):
    """A stage name that is not installed in this image, or whose job code cannot be imported."""


def stage_choices() -> list[str]:
    """What `shelfready worker` and `shelfready health` accept: each installed stage, or all."""
    return [*pipeline().names, ALL]


def select_stages(name: str) -> list[Stage]:
    """The stages one name stands for: that stage, or every installed stage for "all"."""
    installed = pipeline()
    if name == ALL:
        return list(installed)
    if name not in installed:
        raise StageNotInstalled(
            f"no stage {name!r} is installed in this image; "
            f"choose one of {', '.join(stage_choices())}"
        )
    return [installed.get(name)]


def queue_names(stages: list[Stage]) -> list[str]:
    return [stage.queue.name for stage in stages]


def _import(stage: Stage, module: str) -> object:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".", 1)[0]
        package = next(iter(packages_distributions().get(top, [])), None)
        how = f"install it with `uv sync --package {package}`" if package else "install it"
        raise StageNotInstalled(
            f"the {stage.name} stage's job code cannot be imported here ({exc}); {how}"
        ) from exc


def _resolve(stage: Stage, dotted: str) -> object:
    module, _, attribute = dotted.rpartition(".")
    loaded = _import(stage, module)
    try:
        return getattr(loaded, attribute)
    except AttributeError as exc:
        missing = f"the {stage.name} stage declares {dotted}, which does not exist"
        raise StageNotInstalled(missing) from exc


def load_stage(stage: Stage) -> None:
    """Import a stage's job modules before forking, so every work-horse inherits them, and run
    its declared `preload` (e.g. models loaded once and shared copy-on-write by every job)."""
    for dotted in (stage.job, *stage.jobs.values()):
        _resolve(stage, dotted)
    if stage.preload:
        cast(Callable[[], object], _resolve(stage, stage.preload))()
