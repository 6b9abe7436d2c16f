"""The CLI at the edges: refused URLs and fields before anything is stored or queued, API-key
commands, and no secret in `shelfready check` or a worker's start-up output."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from click.testing import Result
from rq import Queue
from typer.testing import CliRunner

from shelfready_core.config import Settings, get_settings
from shelfready_core.migrate import migrate
from shelfready_core.stages import pipeline
from shelfready_runner.cli import app
from shelfready_runner.startup import preflight
from tests.core.test_edge_helpers import SECRET_VALUES, SECRETS
from tests.fakes.photo_hosts import Bystander, serving
from tests.integration.conftest import SAMPLES, SHELFREADY


@pytest.fixture
def env(pg_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    migrate(Settings(_env_file=None, database_url=pg_url))  # type: ignore[call-arg]
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "SHELFREADY_AI": "offline",
        "SHELFREADY_STORAGE_DIR": str(tmp_path / "storage"),
    }


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The real `shelfready` process (start-up included)."""
    return subprocess.run(
        [SHELFREADY, *args], env=env, capture_output=True, text=True, timeout=60, cwd=env["HOME"]
    )


@pytest.fixture
def cli(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Result]]:
    """The same commands in-process (a process start costs ~1.5 s of imports)."""
    monkeypatch.chdir(env["HOME"])
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_submit_refuses_hostile_urls_and_bad_fields_before_queueing(
    env: dict[str, str], cli: Callable[..., Result], redis_conn: redis.Redis
) -> None:
    bystander = Bystander("127.0.0.1")
    photo = str(SAMPLES / "ceramic-coffee-mug.jpg")
    with serving(bystander):
        for url in (
            f"http://127.0.0.1:{bystander.port}/a.jpg",
            f"HTTP://localhost:{bystander.port}/a.jpg",  # upper case: no local-file branch
            "http://169.254.169.254/latest/meta-data/",
        ):
            result = cli("submit", url)
            assert result.exit_code == 1, result.output
            assert ": refused" in result.output, result.output
        for args, field in (
            (["--brand", "B" * 201], "--brand"),
            (["--market", "ZZ"], "--market"),
            (["--language", "xx-evil"], "--language"),
            (["--marketplace", "walmart"], "--marketplace"),
        ):
            result = cli("submit", photo, *args)
            assert result.exit_code == 1
            assert f"{field}:" in result.output, result.output
        refused = cli("submit", "gopher://127.0.0.1:6379/_x")
        assert refused.exit_code == 1 and "not supported" in refused.output
    assert bystander.connections == 0
    assert Queue(pipeline().first.queue.name, connection=redis_conn).count == 0
    storage = Path(env["SHELFREADY_STORAGE_DIR"])
    assert not storage.exists() or not any(p.is_file() for p in storage.rglob("*"))


def test_api_key_commands(env: dict[str, str]) -> None:
    added = _run(env, "api-key", "add", "acme")
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip()
    assert key.startswith("sr_") and len(key) > 40
    assert key not in added.stderr
    listed = _run(env, "api-key", "list")
    assert "acme" in listed.stdout and key not in listed.stdout


def test_api_key_mistakes_are_named(cli: Callable[..., Result]) -> None:
    assert cli("api-key", "add", "acme").exit_code == 0
    duplicate = cli("api-key", "add", "acme")
    assert duplicate.exit_code == 1 and "exists" in duplicate.output
    assert cli("api-key", "add", "bad name!").exit_code == 1
    assert cli("api-key", "revoke", "acme").exit_code == 0
    assert "acme" not in cli("api-key", "list").output
    assert cli("api-key", "revoke", "acme").exit_code == 1


def test_check_prints_no_secret(env: dict[str, str]) -> None:
    result = _run(env | SECRETS, "check", "--no-connect")
    output = result.stdout + result.stderr
    for value in SECRET_VALUES:
        assert value not in output, value
    assert "gateway.example.com" in output


def test_worker_start_up_output_holds_no_secret(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    startup_env = env | {
        k: v for k, v in SECRETS.items() if k not in ("REDIS_URL", "CLOUDFLARE_R2_PUBLIC_URL")
    }
    startup_env["ANTHROPIC_API_KEY"] = "sk-ant-DISTINCTIVE-startup"
    for name, value in startup_env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    lines: list[str] = []
    try:
        preflight(startup_env, lines.append)
    finally:
        get_settings.cache_clear()
    printed = "\n".join(lines)
    assert "database schema at revision" in printed
    for value in [*SECRET_VALUES, "sk-ant-DISTINCTIVE"]:
        assert value not in printed, value
