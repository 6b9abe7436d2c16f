"""A fourth stage as a package of its own, written to a folder that goes on PYTHONPATH.

An installed distribution is a `*.dist-info` folder beside its modules on sys.path:
importlib.metadata finds its `shelfready.stages` entry point there exactly as it finds the
entry points `uv sync` installs, so nothing in the repository changes for this stage to exist.
"""

from __future__ import annotations

from pathlib import Path

NAME = "dummy"
QUEUE = "dummy-check"
CONCURRENCY_VARIABLE = "DUMMY_CONCURRENCY"
# The file the stage's preload writes: proof the pool ran it before forking.
PRELOAD_MARKER = "preloaded"

STAGE_PY = """
from enum import StrEnum

from pydantic import Field

from shelfready_core.stages import QueuePolicy, Stage, StageSettings


class DummyStep(StrEnum):
    DUMMY_CHECK = "DUMMY_CHECK"


class DummySettings(StageSettings):
    concurrency: int = Field(2, ge=1, alias="DUMMY_CONCURRENCY", description="dummy jobs")


STAGE = Stage(
    name="dummy",
    queue=QueuePolicy("dummy-check", timeout_seconds=30),
    job="shelfready_dummy.job.run",
    steps=(DummyStep.DUMMY_CHECK,),
    after="imagegen",
    progress_done=100,
    settings=DummySettings,
    preload="shelfready_dummy.job.preload",
    description="a last check after the images",
)
"""

JOB_PY = """
import gc
import json
import os
from pathlib import Path

from shelfready_core.stage import StageContext, run_stage


def preload() -> None:
    marker = os.environ.get("DUMMY_MARKER_DIR")
    if marker:
        (Path(marker) / "preloaded").write_text(str(os.getpid()))


def run(workflow_id: str) -> str:
    return run_stage("dummy", workflow_id, check)


def check(ctx: StageContext) -> str:
    marker = os.environ.get("DUMMY_MARKER_DIR")
    if marker:  # what the pool left this work-horse's garbage collector
        state = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
        (Path(marker) / "horse-gc.json").write_text(json.dumps(state))
    with ctx.session() as session:
        ctx.finish(session, "dummy checked")
    return f"dummy checked {ctx.workflow_id}"
"""


def write_dummy_stage(folder: Path) -> Path:
    """Write the package and its dist-info into `folder`; returns `folder` (for PYTHONPATH)."""
    package = folder / "shelfready_dummy"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "stage.py").write_text(STAGE_PY.lstrip())
    (package / "job.py").write_text(JOB_PY.lstrip())
    info = folder / "shelfready_dummy-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: shelfready-dummy\nVersion: 0.1\n")
    (info / "top_level.txt").write_text("shelfready_dummy\n")
    (info / "entry_points.txt").write_text(
        "[shelfready.stages]\ndummy = shelfready_dummy.stage:STAGE\n"
    )
    return folder
