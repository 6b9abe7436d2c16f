"""A private deployment for the benchmark: its own PostgreSQL database (created and dropped),
its own Redis logical database (flushed before and after; no other db is touched) and a
temporary storage folder. Offline AI: the benchmark measures our processes, not Claude."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

log = logging.getLogger(__name__)

PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
# A high db number, clear of the test suite's 10 + xdist worker.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
SHELFREADY = str(Path(sys.executable).with_name("shelfready"))


@dataclass
class Stack:
    env: dict[str, str]
    database_url: str
    redis_url: str
    workdir: Path

    def cli(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [SHELFREADY, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"shelfready {args[0]} exited {result.returncode}: {result.stderr[-2000:]}"
            )
        return result.stdout

    def query(self, sql: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.database_url) as conn:
            return conn.execute(sql, params).fetchall()


@contextmanager
def private_stack() -> Iterator[Stack]:
    name = f"shelfready_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    connection = redis.Redis.from_url(REDIS_URL)
    connection.flushdb()
    try:
        with tempfile.TemporaryDirectory(prefix="shelfready-bench-") as folder:
            workdir = Path(folder)
            env = {
                "PATH": os.environ.get("PATH", ""),
                "HOME": str(workdir),
                "DATABASE_URL": database_url,
                "REDIS_URL": REDIS_URL,
                "SHELFREADY_AI": "offline",
                "SHELFREADY_STORAGE_DIR": str(workdir / "storage"),
                "LOG_LEVEL": "WARNING",
            }
            stack = Stack(env, database_url, REDIS_URL, workdir)
            stack.cli("migrate")
            yield stack
    finally:
        connection.flushdb()
        connection.close()
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
