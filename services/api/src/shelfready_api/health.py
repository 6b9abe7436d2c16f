"""`GET /healthz`: 200 when Redis answers PING and the database answers SELECT 1, else 503.

Open without a token (load balancers probe it). Failures are named, but their details (hosts,
driver messages) go to the log only, since anyone can read this answer.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Response, status
from redis import Redis
from sqlalchemy import text

from shelfready_api.deps import State
from shelfready_api.models import HealthCheck, HealthStatus
from shelfready_core.config import Settings
from shelfready_core.db import get_engine

log = logging.getLogger(__name__)

router = APIRouter(tags=["health"])


def _failed(name: str, exc: Exception) -> HealthCheck:
    log.warning("health check %s failed: %s: %s", name, type(exc).__name__, exc)
    return HealthCheck(ok=False, detail=f"unreachable ({type(exc).__name__})")


def check_redis(connection: Redis) -> HealthCheck:
    try:
        connection.ping()
    except Exception as exc:  # any failure means "not reachable"
        return _failed("redis", exc)
    return HealthCheck(ok=True, detail="PING answered")


def check_database(settings: Settings) -> HealthCheck:
    try:
        with get_engine(settings).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means "not reachable"
        return _failed("database", exc)
    return HealthCheck(ok=True, detail="SELECT 1 answered")


@router.get(
    "/healthz",
    response_model=HealthStatus,
    summary="Redis and database reachability",
    responses={503: {"model": HealthStatus, "description": "Redis or the database is down"}},
)
def healthz(state: State, response: Response) -> HealthStatus:
    checks = {
        "redis": check_redis(state.probe_redis),
        "database": check_database(state.settings),
    }
    healthy = all(check.ok for check in checks.values())
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    response.headers["Cache-Control"] = "no-store"
    return HealthStatus(ok=healthy, checks=checks)
