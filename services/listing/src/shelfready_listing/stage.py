"""The listing stage as the pipeline sees it: product record in, scored marketplace copy out.

Registered through the `shelfready.stages` entry point (pyproject.toml). Kept free of heavy
imports: every image imports this declaration, only the listing worker imports the job code.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shelfready_core.stages import QueuePolicy, Stage, StageSettings


class ListingStep(StrEnum):
    LISTING_GENERATION = "LISTING_GENERATION"


class ListingSettings(StageSettings):
    concurrency: int = Field(
        3, ge=1, alias="LISTING_CONCURRENCY", description="parallel jobs of the listing worker"
    )


STAGE = Stage(
    name="listing",
    # Copy plus its repair turns can take up to three model calls.
    queue=QueuePolicy("listing-generation", timeout_seconds=90),
    job="shelfready_listing.job.run",
    steps=(ListingStep.LISTING_GENERATION,),
    after="recognition",
    progress_done=60,
    settings=ListingSettings,
    description="product record in, scored marketplace copy out",
)
