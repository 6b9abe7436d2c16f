"""The listing stage as the pipeline sees it: product record in, scored marketplace copy out.

Registered through the `shelfready.stages` entry point (pyproject.toml). Kept free of heavy
imports: every image imports this declaration, only the listing worker imports the job code.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from shelfready_core.config import env_notes
from shelfready_core.stages import QueuePolicy, Stage, StageSettings


class ListingStep(StrEnum):
    LISTING_GENERATION = "LISTING_GENERATION"


class ListingSettings(StageSettings):
    concurrency: int = Field(
        3, ge=1, alias="LISTING_CONCURRENCY", description="parallel jobs of the listing worker"
    )
    model: str = Field(
        "claude-sonnet-5-5",
        alias="SHELFREADY_LISTING_MODEL",
        description="Claude model that writes the listing copy",
    )
    # Draft + one structural repair + one judgement repair; counted across RQ attempts.
    call_budget: int = Field(
        3,
        ge=1,
        alias="SHELFREADY_LISTING_CALL_BUDGET",
        description="most Claude calls one listing stage makes, across all its attempts",
        json_schema_extra=env_notes(
            details="Draft, structural repair, judgement repair; kept in Redis per workflow."
        ),
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
