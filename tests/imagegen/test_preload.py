"""The worker pool loads imagegen's models once, before it forks; forked jobs use them."""

from __future__ import annotations

import subprocess
import sys

CHILD = """
import os
from PIL import Image, ImageDraw
from shelfready_runner.stage_select import load_stage
from shelfready_core.stages import pipeline
from shelfready_imagegen import saliency, text_detect

load_stage(pipeline().get("imagegen"))  # what the worker pool does: the declared preload
assert len(saliency._models) == 1 and text_detect._session is not None
model = next(iter(saliency._models.values()))
pid = os.fork()
if pid == 0:  # a work-horse: the parent's session, no second load
    from shelfready_imagegen.cutout import cut_out
    photo = Image.new("RGB", (400, 300), (120, 160, 200))
    ImageDraw.Draw(photo).ellipse((120, 70, 280, 230), fill=(200, 40, 40))
    cutout = cut_out(photo)
    assert saliency.load_model() is model
    left, top, right, bottom = cutout.box
    os._exit(0 if abs(left - 120) < 12 and abs(bottom - 230) < 12 else 3)
_, status = os.waitpid(pid, 0)
raise SystemExit(os.waitstatus_to_exitcode(status))
"""


def test_models_load_before_the_fork_and_work_in_the_child() -> None:
    run = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, timeout=120)
    assert run.returncode == 0, run.stderr.decode()[-2000:]
