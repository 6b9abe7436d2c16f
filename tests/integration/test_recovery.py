"""Failures mid-way: retries, re-deliveries and killed workers never duplicate or lose work."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import redis

from shelfready_core.queues import STAGE_RUN, enqueue_stage_job
from tests.fakes.anthropic_server import FakeAnthropicServer, Reply
from tests.integration.conftest import SAMPLES, Pipeline, terminal

RESULT_TABLES = ("product", "listing", "image_set")


def _counts(pg_url: str, workflow_id: str) -> dict[str, int]:
    with psycopg.connect(pg_url) as conn:
        counts = {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE workflow_id = %s", (workflow_id,)
            ).fetchone()[0]
            for table in RESULT_TABLES
        }
        counts["listing_image"] = conn.execute(
            "SELECT count(*) FROM listing_image JOIN image_set ON image_set.id = image_set_id "
            "WHERE workflow_id = %s",
            (workflow_id,),
        ).fetchone()[0]
    return counts


def _stored_files(storage_dir: Path, workflow_id: str) -> list[str]:
    root = storage_dir / "workflows" / workflow_id
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def _rewind(pg_url: str, workflow_id: str, step: str) -> None:
    """Put a finished workflow back to a step, as if the process died right after saving."""
    with psycopg.connect(pg_url) as conn:
        conn.execute(
            "UPDATE workflow SET status = 'PROCESSING', current_step = %s, progress = 50, "
            "completed_at = NULL WHERE id = %s",
            (step, workflow_id),
        )


def test_retry_after_mid_stage_failure_and_redeliveries_keep_exactly_one_result(
    pipeline: Pipeline, claude_server: FakeAnthropicServer, pg_url: str, redis_url: str
) -> None:
    # Recognition stores the original, then Claude fails through all SDK retries: the job
    # fails once and RQ retries it after its backoff.
    claude_server.queue(Reply.server_error(), Reply.server_error(), Reply.server_error())
    for service in ("recognition", "listing", "imagegen"):
        pipeline.start_worker(service)
    workflow_id = pipeline.cli("submit", str(sorted(SAMPLES.glob("*.jpg"))[0])).stdout.strip()
    data = pipeline.wait_for(workflow_id, terminal, timeout=180)
    assert data["status"] == "COMPLETED", data["error"]
    kinds = [event["kind"] for event in data["events"]]
    assert "retrying" in kinds and "failed" not in kinds
    assert _counts(pg_url, workflow_id) == {
        "product": 1,
        "listing": 1,
        "image_set": 1,
        "listing_image": 5,
    }
    files = _stored_files(pipeline.storage_dir, workflow_id)

    # Every stage delivered again after it had saved: still one of each, same files.
    connection = redis.Redis.from_url(redis_url)
    for step, service in (
        ("IMAGE_RECOGNITION", "recognition"),
        ("LISTING_GENERATION", "listing"),
        ("IMAGE_SET_GENERATION", "imagegen"),
    ):
        _rewind(pg_url, workflow_id, step)
        enqueue_stage_job(connection, service, STAGE_RUN, workflow_id)
        again = pipeline.wait_for(workflow_id, lambda d: d["status"] == "COMPLETED", timeout=120)
        assert again["listing"]["title"]
        assert _counts(pg_url, workflow_id) == {
            "product": 1,
            "listing": 1,
            "image_set": 1,
            "listing_image": 5,
        }
        assert _stored_files(pipeline.storage_dir, workflow_id) == files


def test_killed_workers_job_is_picked_up_by_the_next_worker(
    pipeline: Pipeline, claude_server: FakeAnthropicServer
) -> None:
    claude_server.queue(Reply.slow(8))  # the first recognition call hangs while we kill
    first = pipeline.start_worker("recognition")
    workflow_id = pipeline.cli("submit", str(sorted(SAMPLES.glob("*.jpg"))[0])).stdout.strip()
    deadline = time.monotonic() + 60
    while not claude_server.message_requests:
        assert time.monotonic() < deadline, pipeline.log_tail()
        time.sleep(0.2)
    pipeline.kill(first)  # SIGKILL the pool, its worker and the work-horse

    time.sleep(3.5)  # heartbeat interval 1 s + grace 2 s: the job is now abandoned
    for service in ("recognition", "listing", "imagegen"):
        pipeline.start_worker(service)
    data = pipeline.wait_for(workflow_id, terminal, timeout=180)
    assert data["status"] == "COMPLETED", (data["error"], pipeline.log_tail())
    retry_events = [e["message"] for e in data["events"] if e["kind"] == "retrying"]
    assert any("stopped unexpectedly" in message for message in retry_events), data["events"]
