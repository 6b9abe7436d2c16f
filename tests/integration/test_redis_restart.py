"""A worker rides out a Redis restart: it reconnects and serves new jobs without a restart."""

from __future__ import annotations

import time

from tests.integration.conftest import SAMPLES, Pipeline, terminal
from tests.integration.servers import PrivateRedis


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
