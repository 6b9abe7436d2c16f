"""An API app per test: its own migrated Postgres database, Redis db and storage folder."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from shelfready_api.app import create_app
from shelfready_core.config import Settings
from shelfready_core.migrate import migrate

MakeClient = Callable[..., TestClient]


def make_settings(
    database_url: str, redis_url: str, storage_dir: Path, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "SHELFREADY_STORAGE_DIR": storage_dir,
        "SHELFREADY_AI": "offline",
        "SHELFREADY_API_TOKEN": None,  # never the developer's own, from the environment
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[arg-type]


@pytest.fixture
def settings(pg_url: str, redis_url: str, tmp_path: Path) -> Settings:
    settings = make_settings(pg_url, redis_url, tmp_path / "storage")
    migrate(settings)
    return settings


@pytest.fixture
def make_client(settings: Settings) -> Iterator[MakeClient]:
    """A started app (lifespan run) for the test's settings, with any setting overridden."""
    clients: list[TestClient] = []

    def make(**overrides: object) -> TestClient:
        app_settings = settings.model_copy(update=overrides) if overrides else settings
        client = TestClient(create_app(app_settings))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: MakeClient) -> TestClient:
    return make_client()


def image_bytes(width: int = 400, height: int = 300, image_format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 80, 40)).save(buffer, format=image_format)
    return buffer.getvalue()
