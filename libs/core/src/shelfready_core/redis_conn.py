"""Redis connection from REDIS_URL, or an in-process stand-in for the demo."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:  # imported where used: commands that never talk to Redis start faster
    import redis

    from shelfready_core.config import Settings

from shelfready_core.url_masking import mask_url

log = logging.getLogger(__name__)

# Hosted Redis providers that only accept TLS even when handed a redis:// URL.
TLS_ONLY_HOST_SUFFIXES = (".upstash.io",)

_fake_server: object | None = None

# Workers ride out a Redis restart (~20 s of retries); an operator's command should say
# "Redis is down" within a couple of seconds instead (the CLI lowers this, `worker` does not).
WORKER_RETRIES = 8
INTERACTIVE_RETRIES = 2
_retries = WORKER_RETRIES
# Health probes and the API's readiness check: a quick "no" beats riding out the retries.
PROBE_TIMEOUT_SECONDS = 3


def set_retries(retries: int) -> None:
    """How many times new clients retry a failed command (with backoff)."""
    global _retries
    _retries = retries


def normalise_redis_url(url: str) -> str:
    """Upgrade redis:// to rediss:// for TLS-only hosts such as Upstash."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.scheme == "redis" and host.endswith(TLS_ONLY_HOST_SUFFIXES):
        return urlunsplit(("rediss", *parts[1:]))
    return url


def mask_redis_url(url: str) -> str:
    return mask_url(url)


def connect(url: str) -> redis.Redis:
    """A client that rides out a Redis restart: retries with backoff, keepalive, health checks."""
    import redis
    from redis.backoff import ExponentialWithJitterBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        normalise_redis_url(url),
        socket_connect_timeout=5,
        socket_keepalive=True,
        health_check_interval=15,
        retry=Retry(ExponentialWithJitterBackoff(base=0.2, cap=5), retries=_retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


def get_redis(settings: Settings) -> redis.Redis:
    if settings.redis_url is not None:
        return connect(settings.redis_url.get_secret_value())
    return embedded_redis()


def embedded_redis() -> redis.Redis:
    """One in-process Redis (fakeredis) shared by everything in this process: demo mode only."""
    try:
        import fakeredis
    except ModuleNotFoundError as exc:  # worker images do not ship the demo stand-in
        raise RuntimeError(
            "REDIS_URL is not set and the in-process stand-in is not installed"
        ) from exc

    global _fake_server
    if _fake_server is None:
        _fake_server = fakeredis.FakeServer()
    return fakeredis.FakeRedis(server=_fake_server)  # type: ignore[arg-type]


def health_redis(settings: Settings) -> redis.Redis | None:
    """A Redis client for probes: short timeouts and no retries, unlike the workers' client."""
    import redis

    if settings.redis_url is None:
        return None
    return redis.Redis.from_url(
        normalise_redis_url(settings.redis_url.get_secret_value()),
        socket_connect_timeout=PROBE_TIMEOUT_SECONDS,
        socket_timeout=PROBE_TIMEOUT_SECONDS,
        retry=None,
    )
