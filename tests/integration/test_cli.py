"""Operator commands: startup check, queues, retry of a failed step."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.fakes.anthropic_server import FakeAnthropicServer, Reply
from tests.integration.conftest import SAMPLES, SHELFREADY, Pipeline, terminal


def test_startup_check_names_each_missing_variable(tmp_path: Path) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:6379/15",
    }
    result = subprocess.run(
        [SHELFREADY, "check", "--production", "--no-connect"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1
    assert "DATABASE_URL" in result.stdout and "ANTHROPIC_API_KEY" in result.stdout
    assert "missing" in result.stdout


def test_check_passes_and_masks_the_password(pipeline: Pipeline) -> None:
    env = dict(pipeline.env)
    env["DATABASE_URL"] = env["DATABASE_URL"].replace("postgres@", "postgres:s3cr3t-pw@") + (
        "?pgbouncer=true&sslmode=disable"
    )
    result = subprocess.run(
        [SHELFREADY, "check"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "s3cr3t-pw" not in result.stdout + result.stderr
    assert "pgbouncer" in result.stdout  # the pooler was detected
    assert "[ OK ] database" in result.stdout


def test_failed_step_can_be_retried_from_where_it_failed(
    pipeline: Pipeline, claude_server: FakeAnthropicServer
) -> None:
    # Recognition succeeds; listing fails on all 4 attempts (the SDK does not retry a 400).
    pipeline.start_worker("recognition")
    workflow_id = pipeline.cli("submit", str(sorted(SAMPLES.glob("*.jpg"))[0])).stdout.strip()
    pipeline.wait_for(workflow_id, lambda d: d["current_step"] == "LISTING_GENERATION")
    claude_server.queue(*[Reply.error(400, "invalid_request_error", "model rejected")] * 4)
    listing = pipeline.start_worker("listing")
    failed = pipeline.wait_for(workflow_id, terminal, timeout=120)
    assert failed["status"] == "FAILED"
    assert failed["failed_step"] == "LISTING_GENERATION"
    assert "model rejected" in failed["error"]
    # FAILED only after the retries: 4 attempts were started.
    assert [e["kind"] for e in failed["events"]].count("retrying") == 3

    queues = {row["name"]: row for row in json.loads(pipeline.cli("queues", "--json").stdout)}
    assert queues["listing-generation"]["failed"] == 1
    assert queues["listing-generation"]["workers"] == 3
    assert queues["image-recognition"]["failed"] == 0

    pipeline.start_worker("imagegen")
    assert "listing" in pipeline.cli("retry", workflow_id).stdout
    done = pipeline.wait_for(workflow_id, terminal, timeout=120)
    assert done["status"] == "COMPLETED", done["error"]
    assert listing.poll() is None


def test_worker_refuses_to_start_on_an_unmigrated_database(
    pg_url: str, redis_url: str, tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABASE_URL": pg_url.replace("postgres@", "postgres:hunter2-pw@"),
        "REDIS_URL": redis_url,
        "SHELFREADY_AI": "offline",
    }
    result = subprocess.run(
        [SHELFREADY, "worker", "listing"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1
    assert "run `shelfready migrate`" in result.stderr
    assert "hunter2-pw" not in result.stderr + result.stdout
