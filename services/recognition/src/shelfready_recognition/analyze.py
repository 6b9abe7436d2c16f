"""Recognition with Claude vision: one photo in, a validated ProductAnalysis out."""

from __future__ import annotations

import logging
from collections.abc import Callable

import redis
from PIL import Image

from shelfready_core.ai import Recognizer, StageResult
from shelfready_core.claude import ClaudeClient
from shelfready_core.config import Settings
from shelfready_core.schemas import ListingRequest, ProductAnalysis
from shelfready_core.stages import get_stage_settings
from shelfready_recognition.offline import OfflineRecognizer
from shelfready_recognition.prepare import prepare_for_claude, scale_box
from shelfready_recognition.prompts import SYSTEM_PROMPT, user_text
from shelfready_recognition.stage import RecognitionSettings

logger = logging.getLogger(__name__)

# Two attempts (the SDK's one retry) of 25 s fit the recognition queue's 60 s job timeout;
# vision answers take seconds, so a hung connection is cut early and retried once.
RECOGNITION_TIMEOUT_SECONDS = 25.0
RECOGNITION_SDK_RETRIES = 1
# A ProductAnalysis is a few hundred tokens; this leaves room without inviting rambling.
RECOGNITION_MAX_TOKENS = 2048
# Claude's box may overshoot the edge by a few pixels; beyond this it is in the wrong units.
BOX_OVERSHOOT = 0.02


def box_check(width: int, height: int) -> Callable[[ProductAnalysis], list[str]]:
    """Reject boxes that are not in the sent image's pixels (e.g. normalised 0-1000 ones)."""

    def check(analysis: ProductAnalysis) -> list[str]:
        box = analysis.bounding_box
        if box is None:
            return []
        right, bottom = box.x + box.width, box.y + box.height
        if right > width * (1 + BOX_OVERSHOOT) or bottom > height * (1 + BOX_OVERSHOOT):
            return [
                f"bounding_box: x={box.x}, y={box.y}, width={box.width}, height={box.height} "
                f"reaches ({right}, {bottom}), outside the {width}x{height} image; give it "
                f"in pixels of the image you were sent"
            ]
        return []

    return check


class ClaudeRecognizer:
    """Sends the photo (reduced to Claude's limits) with the seller's hints to Claude."""

    def __init__(
        self,
        settings: Settings,
        redis: redis.Redis,
        *,
        client: ClaudeClient | None = None,
        stage_settings: RecognitionSettings | None = None,
    ) -> None:
        stage_settings = stage_settings or get_stage_settings(RecognitionSettings)
        self.client = client or ClaudeClient(
            settings,
            stage="recognition",
            model=stage_settings.model,
            timeout=RECOGNITION_TIMEOUT_SECONDS,
            redis=redis,
            max_retries=RECOGNITION_SDK_RETRIES,
        )

    def recognize(
        self, image: Image.Image, *, filename: str, request: ListingRequest
    ) -> StageResult[ProductAnalysis]:
        prepared = prepare_for_claude(image)
        text = user_text(
            filename=filename, width=prepared.width, height=prepared.height, request=request
        )
        messages = [
            {"role": "user", "content": [prepared.content_block(), {"type": "text", "text": text}]}
        ]
        result = self.client.structured(
            system=SYSTEM_PROMPT,
            messages=messages,
            output=ProductAnalysis,
            validate=box_check(prepared.width, prepared.height),
            max_tokens=RECOGNITION_MAX_TOKENS,
        )
        analysis = result.value
        if analysis.bounding_box is not None:
            box = scale_box(analysis.bounding_box, prepared.scale, prepared.original_size)
            analysis = analysis.model_copy(update={"bounding_box": box})
        notes = {
            **result.notes,
            "sent_size": [prepared.width, prepared.height],
            "original_size": list(prepared.original_size),
            "jpeg_bytes": len(prepared.data),
            "jpeg_quality": prepared.quality,
        }
        logger.info(
            "recognised %r as %s (confidence %.2f) from a %sx%s image",
            filename,
            analysis.product_type,
            analysis.confidence,
            prepared.width,
            prepared.height,
        )
        return StageResult(value=analysis, usage=result.usage, notes=notes)


def get_recognizer(settings: Settings, redis: redis.Redis) -> Recognizer:
    """Offline when settings say so (or there is no API key in auto mode), else Claude."""
    if settings.uses_offline_ai:
        return OfflineRecognizer()
    return ClaudeRecognizer(settings, redis)
