"""Enqueueing a stage job is atomic: producers racing for one workflow make one job, also when
they race to replace a job that has ended. Real Redis, real RQ."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest
import redis
from rq import Queue, SimpleWorker
from rq.job import Job, JobStatus

from shelfready_core.queues import (
    STAGE_RUN,
    enqueue_stage_job,
    job_path,
    stage_declaring,
    stage_job_id,
)
from shelfready_core.stages import pipeline

# A stage as declared, its job replaced by a function that only returns.
STAGE = replace(pipeline().first, job=f"{__name__}.noop")
PRODUCERS = 8


def noop(workflow_id: str) -> str:
    return f"ran {workflow_id}"


def race(redis_url: str, enqueue: Callable[[redis.Redis], Job]) -> list[Job]:
    """Run `enqueue` in PRODUCERS threads at once, each with its own connection."""
    barrier = threading.Barrier(PRODUCERS)
    results: list[Job] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def producer() -> None:
        connection = redis.Redis.from_url(redis_url)
        try:
            barrier.wait()
            job = enqueue(connection)
            with lock:
                results.append(job)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=producer) for _ in range(PRODUCERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert len(results) == PRODUCERS
    return results


def test_producers_racing_for_one_workflow_make_one_job(
    redis_url: str, redis_conn: redis.Redis
) -> None:
    jobs = race(redis_url, lambda conn: enqueue_stage_job(conn, STAGE, STAGE_RUN, "wf-1"))

    queue = Queue(STAGE.queue.name, connection=redis_conn)
    assert queue.job_ids == [stage_job_id(STAGE, "wf-1")]
    assert {job.id for job in jobs} == {stage_job_id(STAGE, "wf-1")}
    job = Job.fetch(queue.job_ids[0], connection=redis_conn)
    assert job.meta == {"service": STAGE.name, "kind": STAGE_RUN, "workflow_id": "wf-1"}
    assert job.retries_left == STAGE.queue.max_retries
    assert job.timeout == STAGE.queue.timeout_seconds


def test_producers_racing_to_replace_an_ended_job_make_one_new_job(
    redis_url: str, redis_conn: redis.Redis
) -> None:
    first = enqueue_stage_job(redis_conn, STAGE, STAGE_RUN, "wf-2")
    queue = Queue(STAGE.queue.name, connection=redis_conn)
    SimpleWorker([queue], connection=redis_conn).work(burst=True, logging_level="WARNING")
    assert Job.fetch(first.id, connection=redis_conn).get_status() == JobStatus.FINISHED

    jobs = race(redis_url, lambda conn: enqueue_stage_job(conn, STAGE, STAGE_RUN, "wf-2"))

    assert queue.job_ids == [first.id]  # the same id, queued once
    replaced = Job.fetch(first.id, connection=redis_conn)
    assert replaced.get_status() == JobStatus.QUEUED
    assert replaced.enqueued_at is not None and first.enqueued_at is not None
    assert replaced.enqueued_at > first.enqueued_at
    assert {job.id for job in jobs} == {first.id}
    assert queue.finished_job_registry.get_job_ids() == []  # the ended one is gone


def test_a_live_job_is_returned_not_queued_again(redis_conn: redis.Redis) -> None:
    first = enqueue_stage_job(redis_conn, STAGE, STAGE_RUN, "wf-3", delay_seconds=60)
    again = enqueue_stage_job(redis_conn, STAGE, STAGE_RUN, "wf-3")
    assert again.id == first.id
    assert again.get_status() == JobStatus.SCHEDULED  # still waiting for its time
    assert Queue(STAGE.queue.name, connection=redis_conn).count == 0


def test_further_job_kinds_come_from_the_stage_that_declares_them() -> None:
    owner = stage_declaring("regenerate_image")
    assert owner.jobs["regenerate_image"] == job_path(owner, "regenerate_image")
    assert stage_job_id(owner, "wf", "regenerate_image", 3) == f"{owner.name}-wf-regenerate_image-3"
    with pytest.raises(KeyError, match="no installed or registered stage declares"):
        stage_declaring("no_such_kind")
    with pytest.raises(KeyError, match="declares no 'no_such_kind' job"):
        job_path(owner, "no_such_kind")
