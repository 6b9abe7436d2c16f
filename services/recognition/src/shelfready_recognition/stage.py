"""The recognition stage as the pipeline sees it: photo in, validated product record out.

Registered through the `shelfready.stages` entry point (pyproject.toml). Kept free of heavy
imports: every image imports this declaration, only the recognition worker imports the job code.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shelfready_core.stages import QueuePolicy, Stage, StageSettings


class RecognitionStep(StrEnum):
    IMAGE_DOWNLOAD = "IMAGE_DOWNLOAD"
    IMAGE_RECOGNITION = "IMAGE_RECOGNITION"


class RecognitionSettings(StageSettings):
    concurrency: int = Field(
        5,
        ge=1,
        alias="RECOGNITION_CONCURRENCY",
        description="parallel jobs of the recognition worker",
    )
    # Current Sonnet from the installed SDK's model list (4.5 retires on 2026-11-30).
    model: str = Field(
        "claude-sonnet-5-5",
        alias="SHELFREADY_RECOGNITION_MODEL",
        description="Claude model that recognises the product photo",
    )


STAGE = Stage(
    name="recognition",
    # Claude vision answers in seconds; a minute covers SDK retries.
    queue=QueuePolicy("image-recognition", timeout_seconds=60),
    job="shelfready_recognition.job.run",
    steps=(
        RecognitionStep.IMAGE_DOWNLOAD,
        RecognitionStep.IMAGE_RECOGNITION,
    ),
    after=None,
    progress_done=30,
    settings=RecognitionSettings,
    description="photo in, validated product record out",
)
