"""A worker rides out a Redis restart: it reconnects and serves new jobs without a restart."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.conftest import SAMPLES, Pipeline, terminal


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PrivateRedis:
    """A redis-server of this test's own, so stopping it disturbs nobody else."""

    def __init__(self, port: int, folder: Path) -> None:
        self.port, self.folder = port, folder
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.folder),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "private redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(_free_port(), tmp_path)
    server.start()
    yield server
    server.stop()


def test_worker_survives_a_redis_restart(pipeline: Pipeline, private_redis: PrivateRedis) -> None:
    pipeline.env["REDIS_URL"] = private_redis.url
    worker = pipeline.start_worker("all", "--concurrency", "1")
    photo = str(sorted(SAMPLES.glob("*.jpg"))[0])
    first = pipeline.cli("submit", photo).stdout.strip()
    assert pipeline.wait_for(first, terminal, timeout=120)["status"] == "COMPLETED"

    private_redis.stop()  # it keeps nothing on disk: the restart comes back empty
    time.sleep(2)
    private_redis.start()

    second = pipeline.cli("submit", photo).stdout.strip()
    data = pipeline.wait_for(second, terminal, timeout=120)
    assert data["status"] == "COMPLETED", (data["error"], pipeline.log_tail())
    assert worker.poll() is None  # the same worker process, never restarted
