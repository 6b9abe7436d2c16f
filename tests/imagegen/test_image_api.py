"""OpenAIImagesProvider against a local server speaking the images protocol, and the provider
driven through build_image_set."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import pytest
import redis
from PIL import Image
from pydantic import SecretStr

from shelfready_core.claude.breaker import RedisCircuitBreaker
from shelfready_core.errors import CredentialRejected
from shelfready_core.schemas import ListingDraft, ListingRequest, ProductAnalysis
from shelfready_imagegen.image_api import (
    ImageAPICredentialRejected,
    ImageAPIError,
    ImageAPIUnavailable,
    OpenAIImagesProvider,
    provider_from_settings,
)
from shelfready_imagegen.imageset import build_image_set
from shelfready_imagegen.photo import load_photo
from shelfready_imagegen.stage import ImagegenSettings
from tests.fakes.image_api_server import FakeImageAPI, serve_image_api

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
KEY = "sk-test-image-key"
REFERENCE = b"\xff\xd8 not really a jpeg, the fake only counts bytes"


class Sleeps:
    """Records waits instead of sleeping, so retries and polling cost no time."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def _provider(api: FakeImageAPI, sleeps: Sleeps, **kwargs) -> OpenAIImagesProvider:
    return OpenAIImagesProvider(
        api.base_url,
        SecretStr(KEY),
        "gpt-image-1",
        sleep=sleeps,
        poll_interval=0.5,
        timeout=10,
        **kwargs,
    )


def _is_image(data: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(data)).size


def test_edits_immediate_b64() -> None:
    with serve_image_api() as api:
        image = _provider(api, Sleeps()).generate(kind="scene", prompt="a mug", reference=REFERENCE)
    assert _is_image(image) == (1024, 1024)
    [request] = api.requests
    assert (request.method, request.path) == ("POST", "/v1/images/edits")
    assert request.authorization == f"Bearer {KEY}"
    assert request.image_bytes == len(REFERENCE)
    assert request.fields == {
        "model": "gpt-image-1",
        "prompt": "a mug",
        "size": "1024x1024",
        "n": "1",
        "response_format": "b64_json",
    }


def test_generations_json_and_base_url_with_v1_suffix() -> None:
    with serve_image_api() as api:
        provider = OpenAIImagesProvider(
            api.base_url + "/v1/", SecretStr(KEY), "m", mode="generations", sleep=Sleeps()
        )
        image = provider.generate(kind="detail", prompt="close-up", reference=REFERENCE)
    assert _is_image(image) == (1024, 1024)
    assert api.requests[0].path == "/v1/images/generations"
    assert api.requests[0].fields["prompt"] == "close-up"


def test_async_task_is_polled_until_it_succeeds() -> None:
    sleeps = Sleeps()
    with serve_image_api(FakeImageAPI(mode="async", polls_before_done=2)) as api:
        image = _provider(api, sleeps).generate(kind="scene", prompt="p", reference=REFERENCE)
    assert _is_image(image) == (1024, 1024)
    assert [r.path for r in api.requests] == [
        "/v1/images/edits",
        "/v1/images/tasks/task-1",
        "/v1/images/tasks/task-1",
        "/v1/images/tasks/task-1",
    ]
    assert sleeps.calls == [0.5, 0.5, 0.5]


def test_async_task_failure_is_an_error_with_the_server_message() -> None:
    api_server = serve_image_api(FakeImageAPI(mode="async", fail_prompts={"forbidden"}))
    with api_server as api, pytest.raises(ImageAPIError, match="failed: generation failed"):
        _provider(api, Sleeps()).generate(kind="scene", prompt="forbidden", reference=b"")


def test_async_task_that_never_finishes_times_out() -> None:
    with serve_image_api(FakeImageAPI(mode="async", polls_before_done=10_000)) as api:
        provider = _provider(api, Sleeps(), task_timeout=0.3)
        provider.poll_interval = 0.05
        with pytest.raises(ImageAPIUnavailable, match="did not finish"):
            provider.generate(kind="scene", prompt="p", reference=b"")


def test_url_answer_is_downloaded_without_sending_the_key_to_another_host() -> None:
    with serve_image_api(FakeImageAPI(mode="url")) as api:
        # The image URL names "localhost" while the API is "127.0.0.1": another host.
        api_base = api.base_url
        api.base_url = api_base.replace("127.0.0.1", "localhost")
        provider = OpenAIImagesProvider(api_base, SecretStr(KEY), "m", sleep=Sleeps())
        image = provider.generate(kind="scene", prompt="p", reference=REFERENCE)
    assert _is_image(image) == (1024, 1024)
    download = api.requests[-1]
    assert download.path.startswith("/files/") and download.authorization is None


def test_429_honours_retry_after_then_succeeds() -> None:
    sleeps = Sleeps()
    with serve_image_api(FakeImageAPI(rate_limit_next=2, retry_after="3")) as api:
        image = _provider(api, sleeps).generate(kind="scene", prompt="p", reference=REFERENCE)
    assert _is_image(image) == (1024, 1024)
    assert len(api.requests) == 3
    assert sleeps.calls == [3.0, 3.0]


def test_refused_prompt_is_not_retried_and_names_the_reason(redis_conn: redis.Redis) -> None:
    breaker = RedisCircuitBreaker(redis_conn, "image-api-test-refused", failure_threshold=1)
    refused = pytest.raises(ImageAPIError, match="400: prompt rejected by content policy")
    with serve_image_api(FakeImageAPI(fail_prompts={"bad"})) as api, refused:
        _provider(api, Sleeps(), breaker=breaker).generate(
            kind="scene", prompt="bad", reference=b""
        )
    assert len(api.requests) == 1
    breaker.admit()  # a refused prompt does not open the breaker


def test_connection_errors_retry_then_open_the_breaker(
    caplog: pytest.LogCaptureFixture, redis_conn: redis.Redis
) -> None:
    with serve_image_api() as api:
        dead_url = api.base_url
    sleeps = Sleeps()
    breaker = RedisCircuitBreaker(
        redis_conn, "image-api-test-dead", failure_threshold=1, open_seconds=60
    )
    provider = OpenAIImagesProvider(
        dead_url, SecretStr(KEY), "m", sleep=sleeps, max_attempts=3, breaker=breaker
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(ImageAPIUnavailable) as failure:
        provider.generate(kind="scene", prompt="p", reference=b"")
    assert len(sleeps.calls) == 2  # three attempts
    with pytest.raises(ImageAPIUnavailable, match="circuit breaker"):
        provider.generate(kind="scene", prompt="p", reference=b"")
    # The key appears nowhere: not in errors, logs or the repr.
    assert KEY not in str(failure.value) and KEY not in repr(provider)
    assert KEY not in caplog.text


def test_wrong_key_is_a_clear_error_without_the_key() -> None:
    with serve_image_api() as api:
        provider = OpenAIImagesProvider(api.base_url, SecretStr("sk-wrong"), "m", sleep=Sleeps())
        with pytest.raises(ImageAPIError, match="401: invalid api key") as failure:
            provider.generate(kind="scene", prompt="p", reference=b"")
    assert "sk-wrong" not in str(failure.value)


def test_a_rejected_key_trips_the_shared_breaker_naming_the_key(redis_conn: redis.Redis) -> None:
    breaker = RedisCircuitBreaker(redis_conn, "image-api-test-rejected", open_seconds=60)
    with serve_image_api() as api:
        provider = OpenAIImagesProvider(
            api.base_url, SecretStr("sk-wrong"), "m", sleep=Sleeps(), breaker=breaker
        )
        with pytest.raises(ImageAPICredentialRejected) as failure:
            provider.generate(kind="scene", prompt="p", reference=b"")
        assert len(api.requests) == 1  # not retried
        with pytest.raises(ImageAPIUnavailable, match="SHELFREADY_IMAGE_API_KEY was rejected"):
            provider.generate(kind="scene", prompt="p", reference=b"")
        assert len(api.requests) == 1  # every other caller is refused without a call
    assert failure.value.cause == "SHELFREADY_IMAGE_API_KEY was rejected"
    assert breaker.cause() == "SHELFREADY_IMAGE_API_KEY was rejected"


def test_provider_from_settings(redis_conn: redis.Redis) -> None:
    assert provider_from_settings(redis_conn, ImagegenSettings(_env_file=None)) is None
    settings = ImagegenSettings(
        _env_file=None,
        SHELFREADY_IMAGE_API_URL="http://127.0.0.1:9",
        SHELFREADY_IMAGE_API_KEY="sk-settings",
        SHELFREADY_IMAGE_API_MODEL="img-model",
    )
    provider = provider_from_settings(redis_conn, settings)
    assert provider is not None and provider.model == "img-model"
    assert provider.breaker is not None and provider.breaker.name == "image-api"
    assert "sk-settings" not in repr(provider)


def test_a_rejected_key_defers_the_image_set_instead_of_delivering_it_partial(
    redis_conn: redis.Redis,
) -> None:
    """The stage defers on CredentialRejected (a configuration outage), so the set must not
    swallow it as one failed image."""
    photo = load_photo((SAMPLES / "wireless-headphones.png").read_bytes())
    listing = ListingDraft(
        title="Wireless Headphones",
        bullet_points=["a: b"] * 5,
        description="d",
        keywords=["headphones"],
        image_prompts=["p"] * 5,
    )
    product = ProductAnalysis(
        product_type="headphones",
        product_name="Headphones",
        category="Electronics",
        confidence=0.9,
        description="Over-ear headphones.",
    )
    breaker = RedisCircuitBreaker(redis_conn, "image-api-test-set-rejected", open_seconds=60)
    with serve_image_api() as api:
        provider = OpenAIImagesProvider(
            api.base_url, SecretStr("sk-wrong"), "m", sleep=Sleeps(), breaker=breaker
        )
        with pytest.raises(CredentialRejected) as rejected:
            build_image_set(
                photo,
                bbox=None,
                product=product,
                listing=listing,
                request=ListingRequest(),
                provider=provider,
            )
        assert len(api.requests) == 1  # the first secondary image's call, then nothing
    assert rejected.value.cause == "SHELFREADY_IMAGE_API_KEY was rejected"
