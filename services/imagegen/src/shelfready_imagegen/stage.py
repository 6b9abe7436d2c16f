"""The imagegen stage as the pipeline sees it: listing and photo in, five listing images out.

Registered through the `shelfready.stages` entry point (pyproject.toml). Kept free of heavy
imports: every image imports this declaration, only the imagegen worker imports the job code.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shelfready_core.stages import QueuePolicy, Stage, StageSettings


class ImagegenStep(StrEnum):
    IMAGE_SET_GENERATION = "IMAGE_SET_GENERATION"


class ImagegenSettings(StageSettings):
    # One job: the segmentation model's ~180 MB of activations per job keeps two of them on
    # 24 MP photos over the 512 MB budget (docs/memory.md); scale imagegen by replicas.
    concurrency: int = Field(
        1,
        ge=1,
        alias="IMAGEGEN_CONCURRENCY",
        description="parallel jobs of the image generation worker",
    )


STAGE = Stage(
    name="imagegen",
    # Five renders (or image-API calls with polling) of up to 24 MP photos.
    queue=QueuePolicy("image-generation", timeout_seconds=600),
    job="shelfready_imagegen.job.run",
    steps=(ImagegenStep.IMAGE_SET_GENERATION,),
    after="listing",
    progress_done=100,
    settings=ImagegenSettings,
    jobs={"regenerate_image": "shelfready_imagegen.job.run_single"},
    preload="shelfready_imagegen.job.preload",
    description="listing and photo in, five listing images out",
)
