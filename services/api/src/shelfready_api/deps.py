"""What every request needs, made once per process at start-up (lifespan) or once per request."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis import Redis
from sqlmodel import Session

from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.health import health_redis
from shelfready_core.redis_conn import get_redis
from shelfready_core.storage import Storage, get_storage

log = logging.getLogger(__name__)


@dataclass
class ApiState:
    """The process-wide clients. `probe_redis` has short timeouts and no retries, so a dead
    Redis makes /healthz answer 503 quickly instead of riding out the retry budget."""

    settings: Settings
    redis: Redis
    probe_redis: Redis
    storage: Storage

    @classmethod
    def open(cls, settings: Settings) -> ApiState:
        redis = get_redis(settings)
        return cls(settings, redis, health_redis(settings) or redis, get_storage(settings))

    def close(self) -> None:
        self.redis.close()
        if self.probe_redis is not self.redis:
            self.probe_redis.close()


def api_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.api
    return state


State = Annotated[ApiState, Depends(api_state)]


def db_session(state: State) -> Iterator[Session]:
    """One unit of work per request: committed when the endpoint returns, rolled back on error."""
    with session_scope(state.settings) as session:
        yield session


DbSession = Annotated[Session, Depends(db_session)]

_bearer = HTTPBearer(
    auto_error=False,
    description="Required when SHELFREADY_API_TOKEN is set on the server.",
)


def require_token(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """With SHELFREADY_API_TOKEN set, only `Authorization: Bearer <that token>` gets through."""
    expected = state.settings.api_token
    if expected is None:
        return
    given = credentials.credentials if credentials else ""
    # Constant time: the comparison must not reveal how much of a guess was right.
    if not secrets.compare_digest(given.encode(), expected.get_secret_value().encode()):
        log.info("refused a request without a valid bearer token")
        raise HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail="missing or wrong bearer token (Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )
