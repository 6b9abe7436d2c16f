"""The fallback scheduler on real Redis: it breaks only a dead scheduler's lock, then moves due
retries to their queue; a live scheduler's lock is left alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import redis
from rq import Queue
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler

from shelfready_runner.rq_worker import SCHEDULER_LOCK_TTL, FallbackScheduler, stale_lock_ttl

QUEUE = "fallback-test"


@pytest.mark.parametrize(
    ("grace", "unrefreshed_for"),
    [(1, 5), (5, 5), (12, 12), (60, 30), (600, 30)],
)
def test_a_lock_is_stale_after_the_grace_clamped_to_5_to_30_seconds(grace, unrefreshed_for):
    assert stale_lock_ttl(grace) == SCHEDULER_LOCK_TTL - unrefreshed_for
    assert stale_lock_ttl(grace) > 0  # was 0 at the default grace: nothing was ever broken


def _due_job(conn: redis.Redis) -> Queue:
    queue = Queue(QUEUE, connection=conn)
    queue.enqueue_at(datetime.now(UTC) - timedelta(seconds=5), "os.getpid")
    assert ScheduledJobRegistry(QUEUE, connection=conn).count == 1
    return queue


def _hold_lock(conn: redis.Redis, ttl: int) -> str:
    key = RQScheduler.get_locking_key(QUEUE)
    conn.set(key, "another-scheduler", ex=ttl)
    return key


@pytest.mark.parametrize("ttl", [30, 10])
def test_a_dead_schedulers_lock_is_broken_and_due_jobs_move_at_the_default_grace(redis_conn, ttl):
    queue = _due_job(redis_conn)
    key = _hold_lock(redis_conn, ttl)  # last refreshed 31 s (or more) ago

    moved = FallbackScheduler(redis_conn, [QUEUE], heartbeat_grace=60).run_once()

    assert moved == 1
    assert queue.count == 1
    assert ScheduledJobRegistry(QUEUE, connection=redis_conn).count == 0
    assert not redis_conn.exists(key)  # released after its run, not left to block others


@pytest.mark.parametrize("ttl", [SCHEDULER_LOCK_TTL, 45, 32])
def test_a_live_schedulers_lock_is_kept_and_its_jobs_left_to_it(redis_conn, ttl):
    queue = _due_job(redis_conn)
    key = _hold_lock(redis_conn, ttl)

    moved = FallbackScheduler(redis_conn, [QUEUE], heartbeat_grace=60).run_once()

    assert moved == 0
    assert queue.count == 0
    assert redis_conn.get(key) == b"another-scheduler"


def test_a_short_grace_still_spares_a_lock_refreshed_seconds_ago(redis_conn):
    _due_job(redis_conn)
    key = _hold_lock(redis_conn, SCHEDULER_LOCK_TTL - 4)  # 4 s: a busy, live scheduler

    assert FallbackScheduler(redis_conn, [QUEUE], heartbeat_grace=1).run_once() == 0
    assert redis_conn.get(key) == b"another-scheduler"

    redis_conn.expire(key, SCHEDULER_LOCK_TTL - 5)
    assert FallbackScheduler(redis_conn, [QUEUE], heartbeat_grace=1).run_once() == 1


def test_a_lock_without_expiry_is_never_broken(redis_conn):
    """Not one RQ wrote: the script only deletes a lock whose TTL shows it went unrefreshed."""
    _due_job(redis_conn)
    key = RQScheduler.get_locking_key(QUEUE)
    redis_conn.set(key, "someone")

    assert FallbackScheduler(redis_conn, [QUEUE], heartbeat_grace=60).run_once() == 0
    assert redis_conn.get(key) == b"someone"


def test_with_no_lock_held_it_takes_one_runs_and_releases_it(redis_conn):
    queue = _due_job(redis_conn)

    assert FallbackScheduler(redis_conn, [QUEUE], heartbeat_grace=60).run_once() == 1
    assert queue.count == 1
    assert not redis_conn.exists(RQScheduler.get_locking_key(QUEUE))
