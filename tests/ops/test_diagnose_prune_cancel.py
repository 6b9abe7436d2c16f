"""diagnose, prune, cancel and failed against real Redis and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from pydantic import SecretStr
from rq import Queue, Worker

from shelfready_core.claude.breaker import RedisCircuitBreaker
from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.migrate import migrate
from shelfready_core.models import (
    ApiUsage,
    EventKind,
    Workflow,
    WorkflowEvent,
    WorkflowStatus,
    utcnow,
)
from shelfready_core.producer import submit
from shelfready_core.retention import parse_age, prune
from shelfready_core.stages import pipeline
from shelfready_core.storage import LocalStorage
from shelfready_runner.diagnose import announce_pool, diagnose
from tests.integration.conftest import SAMPLES, SHELFREADY

PHOTO = sorted(SAMPLES.glob("*.jpg"))[0]
RECOGNITION_QUEUE = pipeline().get("recognition").queue.name


@pytest.fixture
def settings(pg_url: str, redis_url: str, tmp_path: Path) -> Settings:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=pg_url,
        redis_url=redis_url,
        SHELFREADY_STORAGE_DIR=tmp_path / "storage",
    )
    migrate(settings)
    return settings


@pytest.fixture
def storage(settings: Settings) -> LocalStorage:
    return LocalStorage(settings.storage_dir)


def findings(settings: Settings, conn: redis.Redis) -> dict[str, tuple[bool, str, str]]:
    return {f.check: (f.ok, f.detail, f.fix) for f in diagnose(settings, conn).findings}


def test_diagnose_names_each_problem_and_its_fix(
    settings: Settings, redis_conn: redis.Redis, storage: LocalStorage
) -> None:
    workflow_id = submit(settings, redis_conn, storage, PHOTO)
    found = findings(settings, redis_conn)
    ok, detail, fix = found["queue image-recognition"]
    assert not ok and detail.startswith("1 job(s) waiting and no live worker")
    assert "shelfready worker recognition" in fix
    assert not found["same database as the workers"][0]
    assert found["redis"][0] and found["database"][0]
    assert found["Claude breaker"][0] and found["stuck workflows"][0]

    # A pool that uses another database; a live worker on the recognition queue.
    url = settings.database_url.get_secret_value()  # type: ignore[union-attr]
    other = settings.model_copy(update={"database_url": SecretStr(url.rsplit("/", 1)[0] + "/x")})
    announce_pool(other, redis_conn, ["recognition"])
    worker = Worker([Queue(RECOGNITION_QUEUE, connection=redis_conn)], connection=redis_conn)
    worker.register_birth()
    worker.heartbeat()
    try:
        found = findings(settings, redis_conn)
    finally:
        worker.register_death()
    ok, detail, fix = found["same database as the workers"]
    assert not ok and "/x" in detail and "same DATABASE_URL" in fix
    assert found["queue image-recognition"][0]

    # An open breaker, and the workflow unchanged for an hour.
    breaker = RedisCircuitBreaker(redis_conn)
    for _ in range(5):
        breaker.record_failure()
    with session_scope(settings) as session:
        row = session.get(Workflow, workflow_id)
        assert row is not None
        row.updated_at = utcnow() - timedelta(hours=1)
    found = findings(settings, redis_conn)
    assert not found["Claude breaker"][0] and found["Claude breaker"][1].startswith("open")
    ok, detail, fix = found["stuck workflows"]
    assert not ok and workflow_id in detail and "shelfready reconcile" in fix


def test_diagnose_cli_exits_1_with_the_fix(settings: Settings, tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABASE_URL": settings.database_url.get_secret_value(),  # type: ignore[union-attr]
        "REDIS_URL": settings.redis_url.get_secret_value(),  # type: ignore[union-attr]
    }
    result = subprocess.run(
        [SHELFREADY, "diagnose"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1, result.stderr
    assert "[FAIL] queue listing-generation: no live worker" in result.stdout
    assert "fix: start `shelfready worker listing`" in result.stdout


def _finish(settings: Settings, workflow_id: str, status: str, age: timedelta) -> None:
    with session_scope(settings) as session:
        row = session.get(Workflow, workflow_id)
        assert row is not None
        row.status = status
        row.created_at = utcnow() - age
        session.add(WorkflowEvent(workflow_id=workflow_id, stage="test", kind=EventKind.COMPLETED))
        session.add(ApiUsage(workflow_id=workflow_id, stage="recognition", model="m"))


def test_prune_is_a_dry_run_until_told_to_delete(
    settings: Settings, redis_conn: redis.Redis, storage: LocalStorage
) -> None:
    old_done = submit(settings, redis_conn, storage, PHOTO)
    old_running = submit(settings, redis_conn, storage, PHOTO)
    recent_done = submit(settings, redis_conn, storage, PHOTO)
    _finish(settings, old_done, WorkflowStatus.COMPLETED, timedelta(days=40))
    _finish(settings, old_running, WorkflowStatus.PROCESSING, timedelta(days=40))
    _finish(settings, recent_done, WorkflowStatus.FAILED, timedelta(days=2))
    old_files = list((settings.storage_dir / "workflows" / old_done).rglob("*.*"))
    assert old_files

    dry = prune(settings, storage, parse_age("30d"))
    assert dry.dry_run and dry.workflow_ids == [old_done]
    assert dry.rows_deleted == 3  # its workflow, event and usage rows
    assert all(path.exists() for path in old_files)
    with session_scope(settings) as session:
        assert session.get(Workflow, old_done) is not None

    done = prune(settings, storage, parse_age("30d"), dry_run=False)
    assert done.workflow_ids == [old_done] and done.files_deleted == len(old_files)
    assert done.rows_deleted == dry.rows_deleted
    assert not any(path.exists() for path in old_files)
    with session_scope(settings) as session:
        assert session.get(Workflow, old_done) is None
        assert session.get(Workflow, old_running) is not None
        assert session.get(Workflow, recent_done) is not None
    assert (settings.storage_dir / "workflows" / recent_done).exists()


def test_parse_age() -> None:
    assert parse_age("30d") == timedelta(days=30)
    assert parse_age("12h") == timedelta(hours=12)
    assert parse_age("7") == timedelta(days=7)
    with pytest.raises(ValueError, match="30d"):
        parse_age("a month")


def test_cancel_drops_the_queued_job_and_failed_lists_failures(
    settings: Settings, redis_conn: redis.Redis, storage: LocalStorage, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABASE_URL": settings.database_url.get_secret_value(),  # type: ignore[union-attr]
        "REDIS_URL": settings.redis_url.get_secret_value(),  # type: ignore[union-attr]
    }
    queued = submit(settings, redis_conn, storage, PHOTO)
    queue = Queue(RECOGNITION_QUEUE, connection=redis_conn)
    assert queue.count == 1

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SHELFREADY, *args], env=env, capture_output=True, text=True, timeout=60
        )

    result = cli("cancel", queued)
    assert result.returncode == 0, result.stderr
    assert "removed from the queue" in result.stdout
    assert queue.count == 0
    with session_scope(settings) as session:
        row = session.get(Workflow, queued)
        assert row is not None and row.status == WorkflowStatus.CANCELLED
    again = cli("cancel", queued)
    assert again.returncode == 1 and "already CANCELLED" in again.stderr

    broken = submit(settings, redis_conn, storage, PHOTO)
    with session_scope(settings) as session:
        row = session.get(Workflow, broken)
        assert row is not None
        row.status, row.failed_step = WorkflowStatus.FAILED, "IMAGE_RECOGNITION"
        row.error = "IMAGE_RECOGNITION failed: 'x.jpg' is not an image [sic]"
    listed = cli("failed")
    assert listed.returncode == 0, listed.stderr
    assert broken in listed.stdout and "is not an image [sic]" in listed.stdout
    assert queued not in listed.stdout
