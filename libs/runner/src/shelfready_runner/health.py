"""Is this worker service healthy? Redis answers, the database answers, its stages' workers
beat, and no service has rejected our credentials (a tripped breaker names the key: a 503 says why).

Three users: `shelfready health` (the images' Docker HEALTHCHECK), the two-route HTTP endpoint
a worker serves on $PORT (Railway's deploy-time healthcheck), and operators. Every probe uses
short timeouts of its own, so a dead dependency gives a quick "unhealthy" instead of a hang.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
import redis as redis_lib
from rq import Queue, Worker
from rq.defaults import DEFAULT_WORKER_TTL
from sqlalchemy import text

from shelfready_core.claude.breaker import KEY_PREFIX as BREAKER_KEY_PREFIX
from shelfready_core.config import Settings, port_from_env
from shelfready_core.db import get_engine
from shelfready_core.redis_conn import PROBE_TIMEOUT_SECONDS, health_redis
from shelfready_core.stages import Stage
from shelfready_runner.stage_select import ALL, select_stages

log = logging.getLogger(__name__)

# Seconds a probe may take: well inside Docker's HEALTHCHECK --timeout and Railway's retries.
# An idle RQ worker refreshes its heartbeat once per blocking dequeue (worker TTL - 15 s), so a
# heartbeat older than the TTL means the worker is gone even if its key has not expired yet.
HEARTBEAT_MAX_AGE_SECONDS = DEFAULT_WORKER_TTL
HEALTH_PATHS = frozenset({"/", "/health"})
METRICS_PATH = "/metrics"
MAX_DETAIL_CHARS = 200

Check = tuple[bool, str]


@dataclass(frozen=True)
class HealthReport:
    """The outcome of every probe for one service: name -> (ok, detail)."""

    service: str
    checks: dict[str, Check] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(ok for ok, _ in self.checks.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "ok": self.ok,
            "checks": {name: {"ok": ok, "detail": d} for name, (ok, d) in self.checks.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HealthReport:
        checks = {
            str(name): (bool(item.get("ok")), str(item.get("detail", "")))
            for name, item in dict(data.get("checks") or {}).items()
        }
        return cls(service=str(data.get("service", "?")), checks=checks)

    def render(self) -> str:
        lines = [f"{self.service}: {'healthy' if self.ok else 'UNHEALTHY'}"]
        for name, (ok, detail) in self.checks.items():
            lines.append(f"[{' OK ' if ok else 'FAIL'}] {name}: {detail}")
        return "\n".join(lines)


def _failure(exc: BaseException) -> Check:
    # The first line only: driver messages name host and port, never the password.
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return False, f"{type(exc).__name__}: {message}"[:MAX_DETAIL_CHARS]


def _check_redis(connection: redis_lib.Redis | None) -> Check:
    if connection is None:
        return False, "REDIS_URL is not set"
    try:
        connection.ping()
    except Exception as exc:  # any failure means "not reachable"; say which
        return _failure(exc)
    return True, "PING answered"


def _check_database(settings: Settings) -> Check:
    try:
        with get_engine(settings).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not reachable"; say which
        return _failure(exc)
    return True, "SELECT 1 answered"


def _check_heartbeat(
    connection: redis_lib.Redis, stages: list[Stage], hostname: str | None
) -> Check:
    """Every stage's queue has a worker (on `hostname`, if given) with a fresh heartbeat."""
    now = datetime.now(UTC)
    found = []
    for stage in stages:
        queue = Queue(stage.queue.name, connection=connection)
        fresh = [
            worker
            for worker in Worker.all(queue=queue)
            if (hostname is None or worker.hostname == hostname)
            and worker.last_heartbeat is not None
            and (now - worker.last_heartbeat).total_seconds() <= HEARTBEAT_MAX_AGE_SECONDS
        ]
        where = f" on host {hostname}" if hostname else ""
        if not fresh:
            return False, f"no worker{where} with a fresh heartbeat on queue {queue.name}"
        found.append(f"{queue.name}: {len(fresh)}")
    return True, "live workers " + ", ".join(found)


def _check_credentials(connection: redis_lib.Redis) -> Check:
    """Every cause a tripped breaker holds, e.g. "ANTHROPIC_API_KEY was rejected"."""
    causes = set()
    for key in connection.scan_iter(match=f"{BREAKER_KEY_PREFIX}:*:cause", count=100):
        value = connection.get(key)
        if value:
            causes.add(value.decode() if isinstance(value, bytes) else str(value))
    if causes:
        return False, "; ".join(sorted(causes))[:MAX_DETAIL_CHARS]
    return True, "no credential rejected"


def check_health(
    settings: Settings,
    service: str,
    *,
    redis: redis_lib.Redis | None = None,
    hostname: str | None = None,
) -> HealthReport:
    """Probe Redis, the database and the worker heartbeats of `service`: an installed stage's
    name, or "all" (an unknown name raises ValueError).

    `hostname` limits the heartbeat check to workers on that host (a container checking itself);
    None accepts a worker anywhere.
    """
    stages = select_stages(service)
    connection = redis if redis is not None else health_redis(settings)
    checks = {"redis": _check_redis(connection), "database": _check_database(settings)}
    if connection is None or not checks["redis"][0]:
        checks["heartbeat"] = (False, "not checked: Redis did not answer")
        checks["credentials"] = (False, "not checked: Redis did not answer")
    else:
        try:
            checks["heartbeat"] = _check_heartbeat(connection, stages, hostname)
            checks["credentials"] = _check_credentials(connection)
        except Exception as exc:  # Redis may go away between the probes
            checks.setdefault("heartbeat", _failure(exc))
            checks["credentials"] = _failure(exc)
    report = HealthReport(service=service, checks=checks)
    if not report.ok:
        failed = "; ".join(f"{name}: {detail}" for name, (ok, detail) in checks.items() if not ok)
        log.warning("%s unhealthy: %s", service, failed)
    return report


def fetch_health(url: str, *, timeout: float = 2 * PROBE_TIMEOUT_SECONDS + 2) -> HealthReport:
    """Ask a running health endpoint; a missing or garbled answer is itself unhealthy."""
    try:
        response = httpx.get(url, timeout=timeout)
        report = HealthReport.from_json(response.json())
    except Exception as exc:  # refused, timed out, not JSON: all mean "not healthy"
        return HealthReport(service="?", checks={"endpoint": _failure(exc)})
    if response.status_code != HTTPStatus.OK:
        # The status code is the contract: a 503 (or a 404 from a wrong path) is never healthy.
        endpoint = (False, f"HTTP {response.status_code} from {url}")
        return HealthReport(report.service, {**report.checks, "endpoint": endpoint})
    return report


class _DualStackServer(ThreadingHTTPServer):
    """Listens on IPv6 and IPv4 alike (Railway's network may use either)."""

    address_family = socket.AF_INET6
    daemon_threads = True

    def server_bind(self) -> None:
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


class _IPv4Server(ThreadingHTTPServer):
    daemon_threads = True


def _handler(settings: Settings, service: str, hostname: str | None) -> type:
    connection = health_redis(settings)

    class HealthHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if urlsplit(self.path).path == METRICS_PATH:
                self._send_metrics()
                return
            if urlsplit(self.path).path not in HEALTH_PATHS:
                self._send(HTTPStatus.NOT_FOUND, {"error": "not found; try /health"})
                return
            report = check_health(settings, service, redis=connection, hostname=hostname)
            status = HTTPStatus.OK if report.ok else HTTPStatus.SERVICE_UNAVAILABLE
            self._send(status, report.to_json())

        def _send_metrics(self) -> None:
            from shelfready_core import metrics

            payload = metrics.render(settings, connection)
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", metrics.CONTENT_TYPE)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            log.debug("health request: " + format, *args)

    return HealthHandler


def serve_health(
    settings: Settings,
    service: str,
    port: int,
    *,
    hostname: str | None = None,
) -> ThreadingHTTPServer:
    """Serve GET / and /health (200 healthy, 503 not) and /metrics (Prometheus) from a daemon
    thread; returns the server.

    Port 0 picks a free port (read it from `server.server_address[1]`). Call `shutdown()` to stop.
    """
    select_stages(service)  # fail now on an unknown name, not on the first request
    handler = _handler(settings, service, hostname)
    server: ThreadingHTTPServer
    try:
        server = _DualStackServer(("::", port), handler)
    except OSError:  # no IPv6 in this container
        server = _IPv4Server(("0.0.0.0", port), handler)  # every interface: a container's port
    thread = threading.Thread(target=server.serve_forever, name="health-server", daemon=True)
    thread.start()
    log.info("health endpoint listening on port %s", server.server_address[1])
    return server


def serve_health_from_env(settings: Settings, stages: list[Stage]) -> ThreadingHTTPServer | None:
    """Start the endpoint for a worker pool when $PORT is set (Railway sets it); else None."""
    port = port_from_env()
    if port is None:
        return None
    service = stages[0].name if len(stages) == 1 else ALL
    return serve_health(settings, service, port, hostname=socket.gethostname())
