"""Fixtures for real Redis and Postgres: each test run gets its own database and Redis key space."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
import redis

# The fake Anthropic server fixture (`anthropic_server`) is available to every test.
pytest_plugins = ["tests.fakes.anthropic_server"]

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_BASE_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
# Logical databases REDIS_DB_BASE + xdist worker index; override to run suites side by side.
REDIS_DB_BASE = int(os.environ.get("TEST_REDIS_DB_BASE", "10"))


def _xdist_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker[2:]) if worker.startswith("gw") else 0


@pytest.fixture
def redis_url() -> Iterator[str]:
    """A Redis logical database of our own (base + xdist worker), flushed before and after."""
    url = f"{REDIS_BASE_URL}/{REDIS_DB_BASE + _xdist_index()}"
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield url
    conn.flushdb()
    conn.close()


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(redis_url)
    yield conn
    conn.close()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    name = f"shelfready_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
