"""Settings defaults that must stay true as the SDK and the design move on."""

from __future__ import annotations

import typing

from anthropic._data.deprecated_models import DEPRECATED_MODELS
from anthropic.types import Model

from shelfready_core import defaults
from shelfready_core.config import Settings


def test_default_models_are_current_models_of_the_installed_sdk() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    known = set(typing.get_args(typing.get_args(Model)[0]))
    for model in (settings.recognition_model, settings.listing_model):
        assert model in known, f"{model} is not in the SDK's model list"
        assert model not in DEPRECATED_MODELS, f"{model} is deprecated"


def test_queue_policies_match_the_fleet_we_replace() -> None:
    policies = defaults.QUEUE_POLICIES
    assert (policies["recognition"].timeout_seconds, policies["recognition"].concurrency) == (60, 5)
    assert (policies["listing"].timeout_seconds, policies["listing"].concurrency) == (90, 3)
    # One image job per pool, not the old fleet's two: two segmentation jobs on 24 MP photos
    # exceed the 512 MB budget (docs/memory.md).
    assert (policies["imagegen"].timeout_seconds, policies["imagegen"].concurrency) == (600, 1)
    assert all(p.retry_intervals == (2, 4, 8) for p in policies.values())


def test_concurrency_is_read_per_service_from_the_environment(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("IMAGEGEN_CONCURRENCY", "2")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.concurrency("imagegen") == 2
    assert settings.concurrency("recognition") == 5
