"""One upload through the real stage jobs (offline AI), read back over HTTP as COMPLETED."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from rq import Queue, SimpleWorker

from shelfready_api.app import create_app
from shelfready_core.config import Settings, get_settings
from shelfready_core.stages import pipeline

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "ceramic-coffee-mug.jpg"


@pytest.fixture
def environment(
    settings: Settings, pg_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The stage jobs read get_settings(): point the environment at this test's services."""
    monkeypatch.chdir(tmp_path)  # no developer .env
    for name, value in {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "SHELFREADY_STORAGE_DIR": str(settings.storage_dir),
        "SHELFREADY_AI": "offline",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("ANTHROPIC_API_KEY", "SHELFREADY_IMAGE_API_URL", "SHELFREADY_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.mark.slow
@pytest.mark.usefixtures("environment")
def test_uploaded_photo_becomes_a_completed_listing(redis_conn: redis.Redis) -> None:
    with TestClient(create_app()) as client:  # settings from the environment, as in production
        response = client.post(
            "/api/workflows",
            files={"file": (SAMPLE.name, SAMPLE.read_bytes(), "image/jpeg")},
            data={"brand": "Northwind", "features": ["dishwasher safe"]},
        )
        assert response.status_code == 202, response.text
        status_url = response.json()["status_url"]

        queues = [Queue(stage.queue.name, connection=redis_conn) for stage in pipeline()]
        SimpleWorker(queues, connection=redis_conn).work(burst=True, logging_level="WARNING")

        data = client.get(status_url).json()
    assert data["status"] == "COMPLETED", data["error"]
    assert data["progress"] == 100
    assert data["product"]["product_type"]
    assert data["listing"]["title"] and len(data["listing"]["bullet_points"]) == 5
    items = data["images"]["items"]
    assert len(items) == 5 and all(item["url"] for item in items)
