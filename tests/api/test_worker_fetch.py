"""The recognition worker fetches through the guard: a URL that gets past the API (its name
resolved elsewhere then) still reaches nothing, fails at once, and an allowed photo is stored
without its metadata or appended bytes."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from PIL import Image
from rq import Queue, SimpleWorker
from sqlmodel import select

from shelfready_core.config import Settings, get_settings
from shelfready_core.db import session_scope
from shelfready_core.models import Product, Workflow, WorkflowEvent
from shelfready_core.producer import insert_workflow
from shelfready_core.queues import STAGE_RUN, enqueue_stage_job
from shelfready_core.schemas import ListingRequest
from shelfready_core.stages import pipeline
from shelfready_core.storage import get_storage
from tests.fakes.photo_hosts import Bystander, PhotoHost, serving

SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "ceramic-coffee-mug.jpg"


def _photo_with_secrets() -> bytes:
    exif = Image.Exif()
    exif[0xA431] = "SERIAL-DISTINCTIVE-42"
    buffer = io.BytesIO()
    with Image.open(SAMPLE) as image:
        image.save(buffer, "JPEG", exif=exif.tobytes(), quality=90)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("evil.html", "<script>1</script>")
    return buffer.getvalue() + archive.getvalue()


@pytest.fixture
def environment(
    settings: Settings, pg_url: str, redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """The stage job reads get_settings(): this test's services, photo host 127.0.0.2 allowed."""
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "SHELFREADY_STORAGE_DIR": str(settings.storage_dir),
        "SHELFREADY_AI": "offline",
        "SHELFREADY_FETCH_ALLOW": "127.0.0.2",
        "SHELFREADY_FETCH_TIMEOUT": "5",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("ANTHROPIC_API_KEY", "SHELFREADY_IMAGE_API_URL", "SHELFREADY_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def _recognise(settings: Settings, redis_conn: redis.Redis, source: str) -> Workflow:
    """Queue a workflow straight from `source` (no API check) and run recognition once."""
    workflow_id = str(uuid.uuid4())
    insert_workflow(settings, workflow_id, source, "photo.jpg", ListingRequest())
    enqueue_stage_job(redis_conn, "recognition", STAGE_RUN, workflow_id)
    queue = Queue(pipeline().get("recognition").queue.name, connection=redis_conn)
    SimpleWorker([queue], connection=redis_conn).work(burst=True, logging_level="WARNING")
    with session_scope(settings) as session:
        workflow = session.get(Workflow, workflow_id)
        assert workflow is not None
        return workflow


def _events(settings: Settings, workflow_id: str) -> list[str]:
    with session_scope(settings) as session:
        rows = session.exec(select(WorkflowEvent).where(WorkflowEvent.workflow_id == workflow_id))
        return [row.kind for row in rows]


@pytest.mark.usefixtures("environment")
def test_worker_refuses_loopback_and_redirects_to_it_at_once(
    settings: Settings, redis_conn: redis.Redis
) -> None:
    bystander = Bystander("127.0.0.1")
    host = PhotoHost(b"", "127.0.0.2")
    with serving(bystander, host):
        direct = _recognise(settings, redis_conn, f"http://127.0.0.1:{bystander.port}/a.jpg")
        redirected = _recognise(
            settings,
            redis_conn,
            f"{host.base}/redirect?to=http://2130706433:{bystander.port}/a.jpg",
        )
    assert bystander.connections == 0
    assert direct.status == "FAILED"
    assert (
        direct.error
        == "IMAGE_DOWNLOAD failed: could not download the photo from 127.0.0.1: refused"
    )
    assert redirected.status == "FAILED"
    assert redirected.error is not None and redirected.error.endswith("2130706433: refused")
    for workflow in (direct, redirected):
        assert "retrying" not in _events(settings, workflow.id)  # no retries for a refusal


@pytest.mark.usefixtures("environment")
def test_allowed_photo_is_stored_clean(settings: Settings, redis_conn: redis.Redis) -> None:
    photo = _photo_with_secrets()
    host = PhotoHost(photo, "127.0.0.2")
    with serving(host):
        workflow = _recognise(settings, redis_conn, f"{host.base}/photo")
    assert workflow.status == "PROCESSING", workflow.error  # on to the listing stage
    with session_scope(settings) as session:
        product = session.exec(select(Product).where(Product.workflow_id == workflow.id)).one()
    stored = get_storage(settings).get(product.original_key)
    assert b"SERIAL-DISTINCTIVE-42" not in stored and b"evil.html" not in stored
    assert stored.endswith(b"\xff\xd9") and len(stored) < len(photo)
