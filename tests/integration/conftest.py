"""Real worker processes against real Redis and Postgres, driven through the `shelfready` CLI."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest
import redis
from rq import Worker

from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.producer import get_workflow
from shelfready_core.views import workflow_json
from tests.fakes.anthropic_server import FAKE_API_KEY, FakeAnthropicServer
from tests.integration.servers import (  # noqa: F401 (fixtures)
    private_postgres,
    private_postgres_server,
    private_redis,
)
from tests.listing.answers import default_listing_answer

SHELFREADY = str(Path(sys.executable).with_name("shelfready"))
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@dataclass
class Pipeline:
    """A private deployment: its own database, Redis db, storage folder and workers."""

    env: dict[str, str]
    storage_dir: Path
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def cli(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [SHELFREADY, *args], env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"shelfready {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr[-4000:]}"
            )
        return result

    def status(self, workflow_id: str) -> dict:
        """What `shelfready status --json --events` prints, read in-process (polling a CLI
        subprocess several times a second would starve the workers of CPU)."""
        settings = Settings(_env_file=None, database_url=self.env["DATABASE_URL"])  # type: ignore[call-arg]
        with session_scope(settings) as session:
            return workflow_json(session, get_workflow(session, workflow_id), events=True)

    def status_via_cli(self, workflow_id: str) -> dict:
        return json.loads(self.cli("status", workflow_id, "--json", "--events").stdout)

    def start_worker(self, service: str, *extra: str) -> subprocess.Popen[bytes]:
        log_path = self.storage_dir.parent / f"worker-{service}-{len(self.logs)}.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            [SHELFREADY, "worker", service, *extra],
            env=self.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: we can kill pool, workers and horses
        )
        self.workers.append(process)
        self.logs.append(log_path)
        return process

    def kill(self, process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        """Signal the pool and every descendant: RQ puts each work-horse in a process group
        of its own, so signalling the pool's group alone would leave horses running."""
        try:
            tree = [process.pid] + [
                c.pid for c in psutil.Process(process.pid).children(recursive=True)
            ]
        except psutil.NoSuchProcess:
            tree = [process.pid]
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        """SIGTERM every pool at once (warm shutdown), then wait; SIGKILL what lingers."""
        running = [p for p in self.workers if p.poll() is None]
        for process in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill(process)

    def wait_for(
        self, workflow_id: str, predicate: Callable[[dict], bool], timeout: float = 120
    ) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            data = self.status(workflow_id)
            if predicate(data):
                return data
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out; last state: {json.dumps(data)[:3000]}\n{self.log_tail()}"
                )
            time.sleep(0.3)

    def wait_for_workers(self, count: int, timeout: float = 60) -> None:
        """Block until `count` RQ workers have registered (pools take seconds to boot)."""
        connection = redis.Redis.from_url(self.env["REDIS_URL"])
        deadline = time.monotonic() + timeout
        while Worker.count(connection=connection) < count:
            assert time.monotonic() < deadline, self.log_tail()
            time.sleep(0.2)
        connection.close()

    def log_tail(self, limit: int | None = 3000) -> str:
        """The end of every worker's log (all of it with limit=None)."""
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-limit if limit else 0 :]}"
            for p in self.logs
        )


def terminal(data: dict) -> bool:
    return data["status"] in ("COMPLETED", "FAILED", "CANCELLED")


@pytest.fixture
def claude_server() -> Iterator[FakeAnthropicServer]:
    server = FakeAnthropicServer(answers={"record_listing_draft": default_listing_answer}).start()
    yield server
    server.stop()


@pytest.fixture
def pipeline(
    pg_url: str, redis_url: str, tmp_path: Path, claude_server: FakeAnthropicServer
) -> Iterator[Pipeline]:
    storage_dir = tmp_path / "storage"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "ANTHROPIC_API_KEY": FAKE_API_KEY,
        "ANTHROPIC_BASE_URL": claude_server.url,
        "SHELFREADY_AI": "claude",
        "SHELFREADY_STORAGE_DIR": str(storage_dir),
        # Detect a killed worker's job within seconds instead of RQ's minute-plus.
        "SHELFREADY_JOB_MONITORING_INTERVAL": "1",
        "SHELFREADY_HEARTBEAT_GRACE": "2",
        # Small test photos: two image jobs fit easily (the default of 1 is for 24 MP photos).
        "IMAGEGEN_CONCURRENCY": "2",
        "LOG_LEVEL": "INFO",
    }
    pipe = Pipeline(env=env, storage_dir=storage_dir)
    pipe.cli("migrate")
    yield pipe
    pipe.stop_all()
