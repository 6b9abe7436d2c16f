"""What `shelfready status` and `--help` import: reading a workflow needs the database and
nothing else (no Redis, RQ, boto3, rich or the Anthropic SDK). Start-up time itself is
measured by hand (README, "Operating"), never asserted here."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from shelfready_core.config import Settings
from shelfready_core.migrate import migrate
from tests.integration.conftest import SAMPLES
from tests.ops.test_cli_errors import closed_port, env, run

__all__ = ["env"]

# Runs the CLI in a fresh interpreter, then lists the loaded modules it should not need.
PROBE = """
import json, sys
from shelfready_runner.cli import main
sys.argv = ["shelfready", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
heavy = ("rich", "redis", "rq", "boto3", "botocore", "anthropic", "httpx", "PIL", "numpy")
loaded = sorted({name.split(".")[0] for name in sys.modules} & set(heavy))
print("MODULES=" + json.dumps(loaded), file=sys.stderr)
"""


def loaded_modules(env: dict[str, str], *args: str) -> tuple[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], env=env, capture_output=True, text=True, timeout=120
    )
    marker = [line for line in result.stderr.splitlines() if line.startswith("MODULES=")]
    assert marker, result.stderr
    return result.stdout, json.loads(marker[0].removeprefix("MODULES="))


@pytest.fixture
def workflow_id(env: dict[str, str], pg_url: str) -> str:
    migrate(Settings(_env_file=None, database_url=pg_url))  # type: ignore[call-arg]
    # Redis down: the workflow is created in the database and nothing is queued.
    result = run(
        {**env, "REDIS_URL": f"redis://127.0.0.1:{closed_port()}/0"},
        "submit",
        str(sorted(SAMPLES.glob("*.jpg"))[0]),
    )
    return result.stdout.strip()


def test_help_imports_nothing_heavy(env: dict[str, str]) -> None:
    stdout, loaded = loaded_modules(env, "--help")
    assert "status" in stdout
    assert loaded == []


@pytest.mark.parametrize("as_json", [False, True])
def test_status_reads_the_database_only(
    env: dict[str, str], workflow_id: str, as_json: bool
) -> None:
    stdout, loaded = loaded_modules(env, "status", workflow_id, *(["--json"] if as_json else []))
    if as_json:
        assert json.loads(stdout)["id"] == workflow_id
    else:
        assert stdout.startswith(f"{workflow_id}  PENDING")
    assert loaded == []
