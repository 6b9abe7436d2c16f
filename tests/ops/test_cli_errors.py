"""Known failures of CLI commands: one sentence saying what to do, a non-zero exit, no
traceback. Real PostgreSQL and Redis, and ports where nothing listens."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.migrate import migrate
from shelfready_core.models import Workflow
from tests.integration.conftest import SAMPLES, SHELFREADY


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SHELFREADY, *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def env(tmp_path: Path, pg_url: str, redis_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "DATABASE_URL": pg_url,
        "REDIS_URL": redis_url,
        "SHELFREADY_AI": "offline",
        "SHELFREADY_STORAGE_DIR": str(tmp_path / "storage"),
    }


def one_sentence(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_migrate_on_a_database_that_does_not_exist(env: dict[str, str]) -> None:
    env["DATABASE_URL"] = env["DATABASE_URL"].rsplit("/", 1)[0] + "/shelfready_no_such_db"
    line = one_sentence(run(env, "migrate"))
    assert "'shelfready_no_such_db'" in line and "does not exist" in line
    assert "shelfready migrate" in line


def test_status_when_the_database_is_unreachable(env: dict[str, str]) -> None:
    env["DATABASE_URL"] = f"postgresql://postgres:s3cret@127.0.0.1:{closed_port()}/x"
    result = run(env, "status", "some-id")
    line = one_sentence(result)
    assert line.startswith("error: cannot reach the database 'x' on 127.0.0.1:")
    assert "s3cret" not in result.stdout + result.stderr


def test_status_on_an_unmigrated_database(env: dict[str, str]) -> None:
    line = one_sentence(run(env, "status", "some-id"))
    assert "run `shelfready migrate`" in line


def test_unknown_workflow_id(env: dict[str, str], pg_url: str) -> None:
    migrate(Settings(_env_file=None, database_url=pg_url))  # type: ignore[call-arg]
    for command in (["status", "nope"], ["cancel", "nope"], ["retry", "nope"]):
        line = one_sentence(run(env, *command))
        assert line == "error: no workflow with id 'nope'", command


def test_queues_when_redis_is_unreachable(env: dict[str, str]) -> None:
    env["REDIS_URL"] = f"redis://:pw-s3cret@127.0.0.1:{closed_port()}/0"
    result = run(env, "queues")
    line = one_sentence(result)
    assert line.startswith("error: cannot reach Redis at 127.0.0.1:")
    assert "pw-s3cret" not in result.stderr


def test_submit_with_redis_down_names_the_created_workflow(
    env: dict[str, str], pg_url: str
) -> None:
    settings = Settings(_env_file=None, database_url=pg_url)  # type: ignore[call-arg]
    migrate(settings)
    env["REDIS_URL"] = f"redis://127.0.0.1:{closed_port()}/0"
    result = run(env, "submit", str(sorted(SAMPLES.glob("*.jpg"))[0]))
    line = one_sentence(result)
    workflow_id = result.stdout.strip()
    assert f"workflow {workflow_id} was created" in line and "reconciler" in line
    with session_scope(settings) as session:
        assert session.get(Workflow, workflow_id) is not None


def test_bad_arguments_are_a_usage_error(env: dict[str, str]) -> None:
    result = run(env, "prune", "--older-than", "soon")
    assert result.returncode == 2
    assert "soon" in result.stderr and "30d" in result.stderr
    assert "Traceback" not in result.stderr


def test_check_shows_defaults_and_brackets_as_written(env: dict[str, str]) -> None:
    result = run(env, "check", "--no-connect")
    assert "PydanticUndefined" not in result.stdout
    assert '{"model": [input, output]}' in result.stdout
