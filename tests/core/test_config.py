"""Settings defaults that must stay true as the SDK and the design move on."""

from __future__ import annotations

import typing

import pytest
from anthropic._data.deprecated_models import DEPRECATED_MODELS
from anthropic.types import Model

from shelfready_core.config import Settings
from shelfready_core.stages import clear_stage_settings, get_stage_settings, pipeline
from shelfready_imagegen.stage import ImagegenSettings
from shelfready_listing.stage import ListingSettings
from shelfready_recognition.stage import RecognitionSettings


def test_default_models_are_current_models_of_the_installed_sdk() -> None:
    known = set(typing.get_args(typing.get_args(Model)[0]))
    for settings_class in (RecognitionSettings, ListingSettings):
        model = settings_class(_env_file=None).model  # type: ignore[call-arg]
        assert model in known, f"{model} is not in the SDK's model list"
        assert model not in DEPRECATED_MODELS, f"{model} is deprecated"


def test_queue_policies_match_the_fleet_we_replace() -> None:
    def figures(name: str) -> tuple[int, int]:
        stage = pipeline().get(name)
        return stage.queue.timeout_seconds, stage.settings(_env_file=None).concurrency  # type: ignore[call-arg]

    assert figures("recognition") == (60, 5)
    assert figures("listing") == (90, 3)
    # One image job per pool, not the old fleet's two: two segmentation jobs on 24 MP photos
    # exceed the 512 MB budget (docs/memory.md).
    assert figures("imagegen") == (600, 1)
    assert all(stage.queue.retry_intervals == (2, 4, 8) for stage in pipeline())


def test_concurrency_is_read_per_stage_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from shelfready_core.stages import clear_stage_settings

    # Stage settings are read once per process: read them fresh, and leave no cached copy.
    clear_stage_settings()
    monkeypatch.setenv("IMAGEGEN_CONCURRENCY", "2")
    assert pipeline().get("imagegen").load_settings().concurrency == 2
    assert pipeline().get("recognition").load_settings().concurrency == 5
    clear_stage_settings()


def test_stage_settings_keep_their_variable_names(monkeypatch: pytest.MonkeyPatch) -> None:
    values = {
        "SHELFREADY_RECOGNITION_MODEL": "claude-r",
        "SHELFREADY_LISTING_MODEL": "claude-l",
        "SHELFREADY_LISTING_CALL_BUDGET": "5",
        "SHELFREADY_IMAGE_API_URL": "http://images.example.com",
        "SHELFREADY_IMAGE_API_KEY": "sk-img",
        "SHELFREADY_IMAGE_API_MODEL": "img-1",
        "SHELFREADY_SEGMENTATION_MODEL": "/models/isnet.onnx",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    clear_stage_settings()
    try:
        recognition = get_stage_settings(RecognitionSettings)
        listing = get_stage_settings(ListingSettings)
        imagegen = get_stage_settings(ImagegenSettings)
        assert get_stage_settings(ListingSettings) is listing  # read once per process
    finally:
        clear_stage_settings()
    assert recognition.model == "claude-r"
    assert (listing.model, listing.call_budget) == ("claude-l", 5)
    assert imagegen.image_api_url == "http://images.example.com"
    assert imagegen.image_api_key is not None
    assert imagegen.image_api_key.get_secret_value() == "sk-img"
    assert imagegen.image_api_model == "img-1"
    assert str(imagegen.segmentation_model_path) == "/models/isnet.onnx"


def test_core_settings_read_no_stage_variable() -> None:
    names = {(info.alias or name).upper() for name, info in Settings.model_fields.items()}
    for stage in pipeline():
        for name, info in stage.settings.model_fields.items():
            assert (info.alias or name).upper() not in names
    assert not any("CONCURRENCY" in name for name in names)
