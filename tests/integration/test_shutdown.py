"""Stopping workers the way Railway does (SIGTERM to PID 1, SIGKILL later) never loses a job.

A killed container's job (SIGKILL, no chance to clean up) started again by a worker that starts
after the heartbeat grace is covered by test_recovery.py::
test_killed_workers_job_is_picked_up_by_the_next_worker; here a pool that is already running
picks it up.
"""

from __future__ import annotations

import signal
import subprocess
import time

import psycopg
import redis
from rq import Queue
from rq.job import Job, JobStatus

from shelfready_core.queues import stage_job_id
from shelfready_core.stages import pipeline
from tests.fakes.anthropic_server import FakeAnthropicServer, Reply
from tests.integration.conftest import SAMPLES, Pipeline, terminal

RECOGNITION_RETRIES = pipeline().get("recognition").queue.max_retries
RECOGNITION_QUEUE = pipeline().get("recognition").queue.name
LISTING_QUEUE = pipeline().get("listing").queue.name
# Three pools starting and three stages on a loaded CI machine (-n 4 on 2 cores): imagegen
# alone took over 10 s there. What these tests check is where the job went, not the speed.
RUN_THROUGH_SECONDS = 90


def _submit(pipeline: Pipeline) -> str:
    return pipeline.cli("submit", str(sorted(SAMPLES.glob("*.jpg"))[0])).stdout.strip()


def _wait_until_claude_is_called(pipeline: Pipeline, server: FakeAnthropicServer) -> None:
    """The recognition job is now in progress: its horse is waiting for the (slow) answer."""
    deadline = time.monotonic() + 60
    while not server.message_requests:
        assert time.monotonic() < deadline, pipeline.log_tail()
        time.sleep(0.1)


def _exit_code(pipeline: Pipeline, process: subprocess.Popen[bytes], timeout: float) -> int:
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"worker pool still running\n{pipeline.log_tail()}") from None


def _products(pg_url: str, workflow_id: str) -> int:
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT count(*) FROM product WHERE workflow_id = %s", (workflow_id,))
        return row.fetchone()[0]


def test_sigterm_lets_the_job_in_hand_finish_and_exits_cleanly(
    pipeline: Pipeline, claude_server: FakeAnthropicServer, redis_url: str
) -> None:
    claude_server.queue(Reply.slow(4))
    pool = pipeline.start_worker("recognition")
    workflow_id = _submit(pipeline)
    _wait_until_claude_is_called(pipeline, claude_server)

    pool.send_signal(signal.SIGTERM)  # the pool process only, as Railway does

    assert _exit_code(pipeline, pool, timeout=30) == 0, pipeline.log_tail()
    data = pipeline.status(workflow_id)
    assert data["status"] == "PROCESSING" and data["current_step"] == "LISTING_GENERATION"
    assert data["product"]["product_type"]
    connection = redis.Redis.from_url(redis_url)
    recognition = Job.fetch(stage_job_id("recognition", workflow_id), connection=connection)
    assert recognition.get_status() == JobStatus.FINISHED
    # The next stage's job waits on its queue for a listing worker.
    listing_id = stage_job_id("listing", workflow_id)
    assert Job.fetch(listing_id, connection=connection).get_status() == JobStatus.QUEUED
    assert listing_id in Queue(LISTING_QUEUE, connection=connection).job_ids


def test_second_sigterm_requeues_the_job_at_once_without_spending_a_retry(
    pipeline: Pipeline, claude_server: FakeAnthropicServer, redis_url: str, pg_url: str
) -> None:
    claude_server.queue(Reply.slow(20))
    pool = pipeline.start_worker("recognition")
    workflow_id = _submit(pipeline)
    _wait_until_claude_is_called(pipeline, claude_server)

    pool.send_signal(signal.SIGTERM)
    time.sleep(1.5)  # RQ ignores a repeat within 1 s (the pool echoing a terminal's Ctrl+C)
    pool.send_signal(signal.SIGTERM)

    assert _exit_code(pipeline, pool, timeout=10) == 0, pipeline.log_tail()
    connection = redis.Redis.from_url(redis_url)
    queue = Queue(RECOGNITION_QUEUE, connection=connection)
    job = Job.fetch(stage_job_id("recognition", workflow_id), connection=connection)
    assert job.get_status() == JobStatus.QUEUED
    assert queue.job_ids == [job.id]
    assert queue.started_job_registry.get_job_ids(cleanup=False) == []
    assert job.retries_left == RECOGNITION_RETRIES
    data = pipeline.status(workflow_id)
    assert data["status"] == "PROCESSING" and data["current_step"] == "IMAGE_RECOGNITION"
    assert {"retrying", "failed"}.isdisjoint(event["kind"] for event in data["events"])

    for service in ("recognition", "listing", "imagegen"):
        pipeline.start_worker(service)
    data = pipeline.wait_for(workflow_id, terminal, timeout=RUN_THROUGH_SECONDS)
    assert data["status"] == "COMPLETED", (data["error"], pipeline.log_tail())
    assert _products(pg_url, workflow_id) == 1


def test_drain_deadline_requeues_a_job_that_would_outlast_it(
    pipeline: Pipeline, claude_server: FakeAnthropicServer, redis_url: str
) -> None:
    claude_server.queue(Reply.slow(20))
    pipeline.env["SHELFREADY_DRAIN_SECONDS"] = "2"
    pool = pipeline.start_worker("recognition")
    workflow_id = _submit(pipeline)
    _wait_until_claude_is_called(pipeline, claude_server)

    pool.send_signal(signal.SIGTERM)

    assert _exit_code(pipeline, pool, timeout=15) == 0, pipeline.log_tail()
    connection = redis.Redis.from_url(redis_url)
    job = Job.fetch(stage_job_id("recognition", workflow_id), connection=connection)
    assert job.get_status() == JobStatus.QUEUED
    assert job.retries_left == RECOGNITION_RETRIES
    assert Queue(RECOGNITION_QUEUE, connection=connection).job_ids == [job.id]


def test_running_pool_requeues_the_job_of_a_killed_container_after_the_grace(
    pipeline: Pipeline, claude_server: FakeAnthropicServer
) -> None:
    claude_server.queue(Reply.slow(20))
    doomed = pipeline.start_worker("recognition")
    workflow_id = _submit(pipeline)
    _wait_until_claude_is_called(pipeline, claude_server)
    survivor = pipeline.start_worker("recognition")  # already running when the other dies
    for service in ("listing", "imagegen"):
        pipeline.start_worker(service)

    pipeline.kill(doomed)  # SIGKILL pool, workers and horse: nothing gets to clean up

    data = pipeline.wait_for(workflow_id, terminal, timeout=RUN_THROUGH_SECONDS)
    assert data["status"] == "COMPLETED", (data["error"], pipeline.log_tail())
    assert survivor.poll() is None
    retries = [e["message"] for e in data["events"] if e["kind"] == "retrying"]
    assert any("stopped unexpectedly" in message for message in retries), data["events"]
