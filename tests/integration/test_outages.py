"""Outages never fail a workflow: 20 workflows through real worker pools while the database
stops, Redis is replaced by an empty server, or the Claude API rejects the key. Every test
here runs a PostgreSQL and a Redis server of its own (tests/integration/servers.py)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.fakes.anthropic_server import FAKE_API_KEY, FakeAnthropicServer
from tests.integration.conftest import SAMPLES, Pipeline
from tests.integration.servers import PrivatePostgres, PrivateRedis, free_port

# The tests' own waits bound them (a 90 s outage, then minutes for 20 workflows on a busy
# machine); pytest-timeout only catches one that hangs.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

WORKFLOWS = 20  # the database outages: as in the issue
# Redis loss and a rejected key need fewer to show the same, and the image stage (two
# workers on two cores) sets the pace: each workflow costs seconds of rendering.
REDIS_WORKFLOWS = 10
KEY_WORKFLOWS = 6
STAGE_ORDER = {"recognition": 0, "listing": 1, "imagegen": 2}
RESULT_COUNTS = {"product": 1, "listing": 1, "image_set": 1, "listing_image": 5}


@dataclass
class Event:
    id: int
    at: datetime
    stage: str
    kind: str
    message: str


@pytest.fixture
def fleet(
    private_postgres: PrivatePostgres, private_redis: PrivateRedis, tmp_path: Path
) -> Iterator[Pipeline]:
    """A deployment on the private servers: offline analysers, the documented defaults for
    stuck workflows (30 s) and sweeps (10 s), killed workers noticed within seconds."""
    storage_dir = tmp_path / "storage"
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "DATABASE_URL": private_postgres.create_database(),
        "REDIS_URL": private_redis.url,
        "SHELFREADY_AI": "offline",
        "SHELFREADY_STORAGE_DIR": str(storage_dir),
        "SHELFREADY_JOB_MONITORING_INTERVAL": "1",
        "SHELFREADY_HEARTBEAT_GRACE": "2",
        # Small test photos: two image jobs fit easily (the default of 1 is for 24 MP photos).
        "IMAGEGEN_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
    }
    pipe = Pipeline(env=env, storage_dir=storage_dir)
    pipe.cli("migrate")
    yield pipe
    pipe.stop_all()


def start_pools(pipe: Pipeline, *, health_port: int | None = None) -> None:
    """Three pools, two workers each; the recognition pool serves /health when asked."""
    for service in ("recognition", "listing", "imagegen"):
        env = dict(pipe.env)
        if health_port and service == "recognition":
            pipe.env["PORT"] = str(health_port)
        pipe.start_worker(service, "--concurrency", "2")
        pipe.env = env
    pipe.wait_for_workers(6)


def submit(pipe: Pipeline, count: int = WORKFLOWS) -> list[str]:
    photos = list(itertools.islice(itertools.cycle(sorted(SAMPLES.glob("*.jpg"))), count))
    ids = pipe.cli("submit", *map(str, photos)).stdout.split()
    assert len(ids) == count
    return ids


def statuses(db_url: str) -> dict[str, str] | None:
    """Every workflow's status, or None while the database is away."""
    try:
        with psycopg.connect(db_url, connect_timeout=2) as conn:
            return dict(conn.execute("SELECT id, status FROM workflow").fetchall())
    except psycopg.OperationalError:
        return None


def wait_until(pipe: Pipeline, condition: object, timeout: float, what: str) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while True:
        found = statuses(pipe.env["DATABASE_URL"])
        if found is not None and condition(found):  # type: ignore[operator]
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s; {found}\n{pipe.log_tail()}")
        time.sleep(0.5)


def completed(found: dict[str, str]) -> int:
    return sum(1 for status in found.values() if status == "COMPLETED")


def terminal_all(found: dict[str, str]) -> bool:
    return all(s in ("COMPLETED", "FAILED", "CANCELLED") for s in found.values())


def events_of(db_url: str, workflow_id: str) -> list[Event]:
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT id, created_at, stage, kind, message FROM workflow_event "
            "WHERE workflow_id = %s ORDER BY id",
            (workflow_id,),
        ).fetchall()
    return [Event(*row) for row in rows]


def result_counts(db_url: str, workflow_id: str) -> dict[str, int]:
    with psycopg.connect(db_url) as conn:
        counts = {
            table: conn.execute(
                f"SELECT count(*) FROM {table} WHERE workflow_id = %s", (workflow_id,)
            ).fetchone()[0]
            for table in ("product", "listing", "image_set")
        }
        counts["listing_image"] = conn.execute(
            "SELECT count(*) FROM listing_image JOIN image_set ON image_set.id = image_set_id "
            "WHERE workflow_id = %s",
            (workflow_id,),
        ).fetchone()[0]
    return counts


def assert_all_completed_once_in_order(pipe: Pipeline, ids: list[str]) -> list[list[Event]]:
    """20/20 COMPLETED, one row of each result, and each history in order: times never go
    back, stages only forward, each stage handed over once, completed last, nothing failed."""
    db_url = pipe.env["DATABASE_URL"]
    found = statuses(db_url)
    assert found is not None
    assert completed(found) == len(ids), (found, pipe.log_tail())
    histories = []
    for workflow_id in ids:
        assert result_counts(db_url, workflow_id) == RESULT_COUNTS, workflow_id
        events = events_of(db_url, workflow_id)
        described = [(e.stage, e.kind, e.message) for e in events]
        assert [e.at for e in events] == sorted(e.at for e in events), described
        stages = [STAGE_ORDER[e.stage] for e in events]
        assert stages == sorted(stages), described
        kinds = [e.kind for e in events]
        assert kinds.count("handed_over") == 2 and kinds.count("completed") == 1, described
        assert kinds[-1] == "completed", described
        assert "failed" not in kinds and "retrying" not in kinds, described
        for position, kind in enumerate(kinds):  # every deferral is followed by a new start
            if kind == "deferred":
                assert "started" in kinds[position + 1 :], described
        histories.append(events)
    return histories


def kinds_count(histories: list[list[Event]], kind: str) -> int:
    return sum(1 for events in histories for e in events if e.kind == kind)


def deferrals(db_url: str) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute("SELECT count(*) FROM workflow_event WHERE kind = 'deferred'").fetchone()
    assert row is not None
    return int(row[0])


def test_twenty_workflows_complete_through_a_15_s_then_a_90_s_database_outage(
    fleet: Pipeline, private_postgres: PrivatePostgres
) -> None:
    """One run, two outages (one set of workflows and pools for both, to spare the suite's
    CPU): a short one after 3 workflows completed, a long one after 8."""
    db_url = fleet.env["DATABASE_URL"]
    start_pools(fleet)
    started = time.monotonic()
    ids = submit(fleet)
    figures: dict[str, float] = {}
    for seconds, completed_first in ((15, 3), (90, 8)):
        wait_until(
            fleet,
            lambda found, n=completed_first: completed(found) >= n,
            240,
            f"{completed_first} workflows completed",
        )
        deferred_before = deferrals(db_url)
        stopped_at = time.monotonic()
        private_postgres.stop()
        time.sleep(seconds)
        private_postgres.start()
        back_at = time.monotonic()
        # The outage reached jobs: they deferred (recorded once the database is back).
        wait_until(
            fleet,
            lambda found, before=deferred_before: deferrals(db_url) > before or terminal_all(found),
            120,
            "a deferral recorded",
        )
        assert deferrals(db_url) > deferred_before, f"the {seconds} s outage reached no job"
        figures[f"outage_{seconds}s_started_after_s"] = round(stopped_at - started, 1)
    wait_until(fleet, terminal_all, 300, "every workflow finished")
    done_after_db_back = time.monotonic() - back_at
    assert_all_completed_once_in_order(fleet, ids)
    assert all(worker.poll() is None for worker in fleet.workers), fleet.log_tail()
    # Deferred jobs wait 5 s doubling to 60 s: back within a minute of the database.
    assert done_after_db_back < 240
    figures |= {
        "deferrals": deferrals(db_url),
        "all_done_after_db_back_s": round(done_after_db_back, 1),
    }
    print(f"database stopped 15 s, then 90 s: {figures}")


def test_an_empty_redis_mid_run_resumes_every_workflow_within_a_minute(
    fleet: Pipeline, private_redis: PrivateRedis
) -> None:
    start_pools(fleet)
    ids = submit(fleet, REDIS_WORKFLOWS)
    wait_until(fleet, lambda found: completed(found) >= 2, 240, "2 workflows completed")
    private_redis.stop()  # keeps nothing on disk: every queued and scheduled job is gone
    private_redis.start()
    replaced = datetime.now().astimezone()
    replaced_at = time.monotonic()

    def first_resumed_move() -> float | None:
        """Seconds from the replacement to the first start of a workflow after its resume."""
        moves = []
        for workflow_id in ids:
            events = events_of(fleet.env["DATABASE_URL"], workflow_id)
            resumed = [i for i, e in enumerate(events) if e.kind == "resumed"]
            if resumed:
                later = [e for e in events[resumed[0] :] if e.kind == "started"]
                if later:
                    moves.append((later[0].at - replaced).total_seconds())
        return min(moves) if moves else None

    while (move := first_resumed_move()) is None:
        assert time.monotonic() - replaced_at < 90, fleet.log_tail()
        time.sleep(0.5)
    wait_until(fleet, terminal_all, 300, "every workflow finished")
    histories = assert_all_completed_once_in_order(fleet, ids)
    resumed = kinds_count(histories, "resumed")
    print(
        f"redis replaced: first resumed workflow moved after {move:.1f} s; "
        f"{resumed} resumed; all done after {time.monotonic() - replaced_at:.1f} s"
    )
    assert resumed > 0
    assert move < 60


def test_a_rejected_key_defers_every_workflow_until_it_is_restored(
    fleet: Pipeline, claude_server: FakeAnthropicServer
) -> None:
    fleet.env.update(
        {
            "SHELFREADY_AI": "claude",
            "ANTHROPIC_API_KEY": FAKE_API_KEY,
            "ANTHROPIC_BASE_URL": claude_server.url,
            "SHELFREADY_BREAKER_OPEN_SECONDS": "3",
        }
    )
    claude_server.rejecting_key = True
    health_port = free_port()
    start_pools(fleet, health_port=health_port)
    ids = submit(fleet, KEY_WORKFLOWS)
    rejected_at = time.monotonic()

    # Recognition defers after 5 s, 10 s, 20 s ...: wait past the first three deferrals.
    deadline = time.monotonic() + 120
    while True:
        found = statuses(fleet.env["DATABASE_URL"]) or {}
        waiting = [
            workflow_id
            for workflow_id in ids
            if any(
                e.kind == "deferred" and "ANTHROPIC_API_KEY was rejected" in e.message
                for e in events_of(fleet.env["DATABASE_URL"], workflow_id)
            )
        ]
        if len(waiting) == len(ids) and time.monotonic() - rejected_at > 25:
            break
        assert time.monotonic() < deadline, (found, fleet.log_tail())
        time.sleep(1)
    assert "FAILED" not in found.values()
    health = httpx.get(f"http://127.0.0.1:{health_port}/health", timeout=10)
    assert health.status_code == 503
    credentials = health.json()["checks"]["credentials"]
    assert credentials["ok"] is False
    assert "ANTHROPIC_API_KEY was rejected" in credentials["detail"]
    assert FAKE_API_KEY not in health.text
    # The shared breaker: the first wave of jobs calls, then one trial per open period (3 s);
    # without it every attempt would call Claude.
    refused = len(claude_server.message_requests)
    waited = time.monotonic() - rejected_at
    attempts = sum(
        e.kind == "deferred"
        for workflow_id in ids
        for e in events_of(fleet.env["DATABASE_URL"], workflow_id)
    )
    assert refused < attempts, (refused, attempts)
    assert refused <= len(ids) + waited / 3, (refused, waited)

    claude_server.rejecting_key = False  # the operator fixed the key
    restored_at = time.monotonic()
    wait_until(fleet, terminal_all, 300, "every workflow finished")
    done_after = time.monotonic() - restored_at
    assert_all_completed_once_in_order(fleet, ids)
    assert httpx.get(f"http://127.0.0.1:{health_port}/health", timeout=10).status_code == 200
    print(
        f"rejected key: {refused} calls refused for {restored_at - rejected_at:.0f} s, "
        f"all done {done_after:.1f} s after the key was restored"
    )
