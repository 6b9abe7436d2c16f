"""`shelfready_runner.health` against a real Redis and PostgreSQL, with real RQ worker records."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis
from rq import Queue, Worker
from rq.utils import utcformat

from shelfready_core.claude.breaker import RedisCircuitBreaker
from shelfready_core.config import Settings
from shelfready_core.stages import pipeline
from shelfready_runner.health import (
    HEARTBEAT_MAX_AGE_SECONDS,
    HealthReport,
    check_health,
    fetch_health,
    port_from_env,
    serve_health,
)

HOST = socket.gethostname()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])  # nothing listens once the probe closes


@pytest.fixture
def settings(pg_url: str, redis_url: str) -> Settings:
    return Settings(database_url=pg_url, redis_url=redis_url)


@pytest.fixture
def start_worker(redis_conn: redis.Redis) -> Iterator[Callable[..., Worker]]:
    """Register an RQ worker record, exactly as a starting worker does; deregister at the end."""
    workers: list[Worker] = []

    def start(*services: str) -> Worker:
        queues = [Queue(pipeline().get(s).queue.name, connection=redis_conn) for s in services]
        worker = Worker(queues, connection=redis_conn)
        worker.register_birth()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.register_death()


def test_healthy_with_redis_database_and_a_live_worker(
    settings: Settings, redis_conn: redis.Redis, start_worker: Callable[..., Worker]
) -> None:
    start_worker("listing")
    report = check_health(settings, "listing", redis=redis_conn, hostname=HOST)
    assert report.ok, report.render()
    assert set(report.checks) == {"redis", "database", "heartbeat", "credentials"}
    assert report.checks["heartbeat"][1].startswith("live workers listing-generation: ")


def test_a_rejected_key_makes_the_service_unhealthy_naming_the_key(
    settings: Settings, redis_conn: redis.Redis, start_worker: Callable[..., Worker]
) -> None:
    start_worker("listing")
    breaker = RedisCircuitBreaker(redis_conn, "anthropic", open_seconds=60)
    breaker.trip("ANTHROPIC_API_KEY was rejected")

    report = check_health(settings, "listing", redis=redis_conn, hostname=HOST)
    assert not report.ok
    assert report.checks["credentials"] == (False, "ANTHROPIC_API_KEY was rejected")
    assert report.checks["redis"][0] and report.checks["heartbeat"][0]

    breaker.record_success()  # the trial call after the key was fixed went through
    assert check_health(settings, "listing", redis=redis_conn, hostname=HOST).ok


def test_a_worker_of_another_queue_does_not_count(
    settings: Settings, redis_conn: redis.Redis, start_worker: Callable[..., Worker]
) -> None:
    start_worker("listing")
    report = check_health(settings, "recognition", redis=redis_conn)
    assert not report.ok
    assert report.checks["heartbeat"] == (
        False,
        "no worker with a fresh heartbeat on queue " + pipeline().get("recognition").queue.name,
    )
    assert report.checks["redis"][0] and report.checks["database"][0]


def test_a_stale_heartbeat_is_a_dead_worker(
    settings: Settings, redis_conn: redis.Redis, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker("imagegen")
    assert check_health(settings, "imagegen", redis=redis_conn).ok
    stale = datetime.now(UTC) - timedelta(seconds=HEARTBEAT_MAX_AGE_SECONDS + 5)
    redis_conn.hset(worker.key, "last_heartbeat", utcformat(stale))
    assert not check_health(settings, "imagegen", redis=redis_conn).ok


def test_a_container_counts_only_its_own_workers(
    settings: Settings, redis_conn: redis.Redis, start_worker: Callable[..., Worker]
) -> None:
    start_worker("recognition")
    assert check_health(settings, "recognition", redis=redis_conn, hostname=HOST).ok
    elsewhere = check_health(settings, "recognition", redis=redis_conn, hostname="other-replica")
    assert not elsewhere.ok
    assert "on host other-replica" in elsewhere.checks["heartbeat"][1]


def test_all_needs_a_worker_on_every_queue(
    settings: Settings, redis_conn: redis.Redis, start_worker: Callable[..., Worker]
) -> None:
    start_worker("recognition", "listing")
    report = check_health(settings, "all", redis=redis_conn)
    assert not report.ok
    assert pipeline().get("imagegen").queue.name in report.checks["heartbeat"][1]
    start_worker(*pipeline().names)
    assert check_health(settings, "all", redis=redis_conn).ok


def test_unreachable_redis_is_reported_quickly_without_the_password(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    start_worker("listing")
    url = f"redis://default:s3cret-pass@127.0.0.1:{closed_port()}/0"
    database = settings.database_url
    report = check_health(Settings(database_url=database, redis_url=url), "listing")
    assert not report.ok
    assert report.checks["redis"][0] is False
    assert report.checks["heartbeat"] == (False, "not checked: Redis did not answer")
    assert "s3cret-pass" not in report.render()


def test_missing_redis_url_is_named(pg_url: str) -> None:
    report = check_health(Settings(database_url=pg_url, redis_url=None), "listing")
    assert report.checks["redis"] == (False, "REDIS_URL is not set")


def test_unreachable_database_fails_the_check(
    redis_url: str, redis_conn: redis.Redis, start_worker: Callable[..., Worker]
) -> None:
    start_worker("listing")
    url = f"postgresql://postgres:db-secret@127.0.0.1:{closed_port()}/shelfready"
    report = check_health(Settings(database_url=url, redis_url=redis_url), "listing")
    assert not report.ok
    assert report.checks["database"][0] is False
    assert report.checks["database"][1].startswith("OperationalError")
    assert "db-secret" not in report.render()


def test_unknown_service_is_refused(settings: Settings) -> None:
    with pytest.raises(ValueError, match="no stage 'billing' is installed in this image"):
        check_health(settings, "billing")


def test_endpoint_answers_200_then_503_when_the_worker_is_gone(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker("listing")
    server = serve_health(settings, "listing", 0, hostname=HOST)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for path in ("/health", "/", "/health?probe=railway"):
            response = httpx.get(base + path, timeout=10)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"] == "application/json"
            assert response.json()["ok"] is True
        assert httpx.get(f"{base}/nope", timeout=10).status_code == 404
        metrics = httpx.get(f"{base}/metrics", timeout=10)  # Prometheus, beside /health
        assert metrics.status_code == 200
        assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert (
            'shelfready_queue_workers{queue="listing-generation",stage="listing"} 1.0'
            in metrics.text
        )

        worker.register_death()
        response = httpx.get(f"{base}/health", timeout=10)
        assert response.status_code == 503
        assert response.json()["checks"]["heartbeat"]["ok"] is False
    finally:
        server.shutdown()
        server.server_close()


def test_fetch_health_trusts_the_status_code(
    settings: Settings, start_worker: Callable[..., Worker]
) -> None:
    start_worker("recognition")
    server = serve_health(settings, "recognition", 0)
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/health"
        assert fetch_health(url).ok
        wrong_path = fetch_health(url.replace("/health", "/missing"))
        assert not wrong_path.ok
        assert wrong_path.checks["endpoint"][1].startswith("HTTP 404")
    finally:
        server.shutdown()
        server.server_close()
    refused = fetch_health(f"http://127.0.0.1:{closed_port()}/health", timeout=2)
    assert not refused.ok and refused.checks["endpoint"][0] is False


def test_report_round_trips_through_json() -> None:
    report = HealthReport("listing", {"redis": (True, "PING answered"), "database": (False, "x")})
    assert HealthReport.from_json(report.to_json()) == report
    assert not report.ok and not HealthReport("listing").ok
    assert "[FAIL] database: x" in report.render()


@pytest.mark.parametrize(
    ("value", "expected"), [(None, None), ("", None), ("8080", 8080), (" 3000 ", 3000)]
)
def test_port_from_env(value: str | None, expected: int | None) -> None:
    environ = {} if value is None else {"PORT": value}
    assert port_from_env(environ) == expected


@pytest.mark.parametrize("value", ["http", "0", "70000", "-1"])
def test_bad_port_is_an_error_naming_the_variable(value: str) -> None:
    with pytest.raises(ValueError, match="PORT must be a port number"):
        port_from_env({"PORT": value})
