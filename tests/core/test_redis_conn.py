"""Redis URLs: TLS where the host demands it, passwords masked, reconnecting clients."""

from __future__ import annotations

import redis

from shelfready_core.redis_conn import connect, mask_redis_url, normalise_redis_url


def test_upstash_hosts_get_tls_even_when_given_as_redis_scheme() -> None:
    url = "redis://default:pw@eu1-happy-cat-12345.upstash.io:6379"
    assert normalise_redis_url(url) == "rediss://default:pw@eu1-happy-cat-12345.upstash.io:6379"
    assert normalise_redis_url("redis://localhost:6379/0") == "redis://localhost:6379/0"
    assert normalise_redis_url("rediss://host.example:6380") == "rediss://host.example:6380"


def test_passwords_are_masked_for_display() -> None:
    assert mask_redis_url("redis://default:s3cret@host:6379/0") == "redis://default:***@host:6379/0"
    assert mask_redis_url("redis://host:6379") == "redis://host:6379"


def test_client_retries_connection_errors(redis_url: str) -> None:
    client = connect(redis_url)
    assert client.ping()
    kwargs = client.connection_pool.connection_kwargs
    assert kwargs["retry"]._retries >= 3
    assert redis.ConnectionError in kwargs["retry_on_error"]
