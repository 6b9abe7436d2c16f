"""A real deployment for the browser: migrated Postgres, Redis, real RQ workers (offline AI),
the API as its own process, and Debian's Chromium driven by Playwright (never a downloaded
browser: `playwright install` is not used)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("SHELFREADY_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BIN = Path(sys.executable).parent
TOKEN = "web-test-key-not-a-secret"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Deployment:
    url: str
    token: str
    env: dict[str, str]
    storage_dir: Path
    logs: list[Path]

    def log_tail(self, limit: int = 3000) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-limit:]}" for p in self.logs
        )


def _start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        command,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: the pool and its work-horses stop together
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture
def deployment(pg_url: str, redis_url: str, tmp_path: Path) -> Iterator[Deployment]:
    port = _free_port()
    storage_dir = tmp_path / "storage"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "SHELFREADY_AI": "offline",
        "SHELFREADY_STORAGE_DIR": str(storage_dir),
        "SHELFREADY_API_TOKEN": TOKEN,
        "LOG_LEVEL": "INFO",
    }
    subprocess.run([str(BIN / "shelfready"), "migrate"], env=env, check=True, capture_output=True)
    logs = [tmp_path / "workers.log", tmp_path / "api.log"]
    processes = [
        _start([str(BIN / "shelfready"), "worker", "all", "--concurrency", "2"], env, logs[0]),
        # PORT only for the API: a worker pool would serve its health endpoint on it.
        _start([str(BIN / "shelfready-api")], {**env, "PORT": str(port)}, logs[1]),
    ]
    deployment = Deployment(f"http://127.0.0.1:{port}", TOKEN, env, storage_dir, logs)
    deadline = time.monotonic() + 60
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{deployment.url}/healthz", timeout=2).status_code == 200:
                break
        assert time.monotonic() < deadline, deployment.log_tail()
        time.sleep(0.3)
    for process in processes:
        assert process.poll() is None, deployment.log_tail()
    yield deployment
    for process in processes:
        _stop(process)


@pytest.fixture
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
