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

from shelfready_core.api_keys import KeyEntry, configured_keys, database_has_keys, owner_of
from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.models import Workflow
from shelfready_core.redis_conn import get_redis, health_redis
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
    keys: list[KeyEntry]

    @classmethod
    def open(cls, settings: Settings) -> ApiState:
        # First: an empty key is refused at start-up (ApiKeyError), before any client opens.
        keys = configured_keys(settings)
        redis = get_redis(settings)
        return cls(settings, redis, health_redis(settings) or redis, get_storage(settings), keys)

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
    description="Required when the server has API keys (SHELFREADY_API_KEYS, SHELFREADY_API_TOKEN "
    "or keys made with `shelfready api-key add`).",
)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the name of their API key; None for the single SHELFREADY_API_TOKEN
    and on a deployment without keys (both see every workflow, as the CLI does)."""

    owner: str | None

    def may_see(self, workflow: Workflow) -> bool:
        return self.owner is None or workflow.owner == self.owner


def _refused() -> HTTPException:
    log.info("refused a request without a valid bearer token")
    return HTTPException(
        status_code=status.HTTP_401_UNAUTHORIZED,
        detail="missing or wrong bearer token (Authorization: Bearer <token>)",
        headers={"WWW-Authenticate": "Bearer"},
    )


def authenticate(
    state: State,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The caller's key: one from the environment, or one in the database. Without any key
    configured anywhere the API is open (a local, one-person deployment)."""
    given = credentials.credentials if credentials else ""
    if given:
        for entry in state.keys:
            # Constant time: the comparison must not reveal how much of a guess was right.
            if secrets.compare_digest(given.encode(), entry.key.get_secret_value().encode()):
                return Caller(entry.owner)
        with session_scope(state.settings) as session:
            owner = owner_of(session, given)
        if owner is not None:
            return Caller(owner)
        raise _refused()
    if state.keys:
        raise _refused()
    with session_scope(state.settings) as session:
        if database_has_keys(session):
            raise _refused()
    return Caller(None)


CurrentCaller = Annotated[Caller, Depends(authenticate)]
# Kept for routes declared with the old name.
require_token = authenticate
