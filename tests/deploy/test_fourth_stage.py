"""A fourth stage needs only its own package (plus its Dockerfile and Railway file): core, the
CLI, the worker pool, the health endpoint, metrics, `queues` and `diagnose` discover it, and a
workflow passes through it under the same lifecycle as the three stages before it.

The stage is a package written to a temporary folder (tests/deploy/dummy_stage.py) and found
through PYTHONPATH, the way `uv sync` would install it; no file of the repository changes.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from shelfready_core.stages import pipeline
from tests.deploy import dummy_stage
from tests.integration.conftest import SAMPLES, SHELFREADY, Pipeline
from tests.integration.conftest import claude_server as claude_server  # a fixture
from tests.integration.conftest import pipeline as deployment  # noqa: F401 - fixture

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dummy_env(tmp_path: Path) -> dict[str, str]:
    folder = dummy_stage.write_dummy_stage(tmp_path / "site")
    return {**os.environ, "PYTHONPATH": str(folder)}


def python(env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_registry_orders_it_after_the_stage_it_follows(dummy_env: dict[str, str]) -> None:
    code = (
        "import json; from shelfready_core.stages import pipeline; "
        "p = pipeline(); print(json.dumps([p.names, p.get('dummy').queue.name, "
        "p.next_after('imagegen').name, p.owner_of('DUMMY_CHECK').name]))"
    )
    names, queue, after_imagegen, owner = json.loads(python(dummy_env, code))
    assert names == [*pipeline().names, dummy_stage.NAME]
    assert queue == dummy_stage.QUEUE
    assert after_imagegen == owner == dummy_stage.NAME
    assert dummy_stage.NAME not in pipeline()  # this process never saw it: nothing installed


def test_the_cli_offers_it_and_refuses_it_where_it_is_not_installed(
    dummy_env: dict[str, str],
) -> None:
    for command in (["worker", "billing"], ["health", "--service", "billing"]):
        offered = subprocess.run(
            [SHELFREADY, *command], env=dummy_env, capture_output=True, text=True, timeout=60
        )
        assert offered.returncode == 1
        assert "no stage 'billing' is installed" in offered.stderr
        assert f"{', '.join(pipeline().names)}, dummy, all" in offered.stderr
    plain = {k: v for k, v in dummy_env.items() if k != "PYTHONPATH"}
    refused = subprocess.run(
        [SHELFREADY, "worker", "dummy"], env=plain, capture_output=True, text=True, timeout=60
    )
    assert refused.returncode == 1
    assert "no stage 'dummy' is installed in this image" in refused.stderr
    assert "Traceback" not in refused.stderr


@pytest.mark.parametrize("stage", [*pipeline().names, dummy_stage.NAME, "all"])
def test_make_runs_the_worker_of_any_stage(stage: str) -> None:
    # Under `make test` the parent make's MAKEFLAGS would make this one print "Leaving directory".
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    plan = subprocess.run(
        ["make", "--no-print-directory", "-n", f"run-{stage}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.strip().splitlines()[-1].endswith(f"shelfready worker {stage}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_its_worker_pool_serves_its_queue_with_health_metrics_and_diagnose(
    deployment: Pipeline,  # noqa: F811 - the fixture imported above
    dummy_env: dict[str, str],
    tmp_path: Path,
) -> None:
    port = free_port()
    deployment.env |= {
        "PYTHONPATH": dummy_env["PYTHONPATH"],
        "PORT": str(port),
        "DUMMY_MARKER_DIR": str(tmp_path),
    }
    deployment.start_worker(dummy_stage.NAME)
    # Two worker processes: the stage's own concurrency default (its settings), not a guess.
    deployment.wait_for_workers(2)
    health = f"http://127.0.0.1:{port}/health"
    deadline = time.monotonic() + 60
    while True:
        try:
            response = httpx.get(health, timeout=10)
            if response.status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, deployment.log_tail()
        time.sleep(0.3)
    body = response.json()
    assert body["service"] == dummy_stage.NAME
    assert f"{dummy_stage.QUEUE}: 2" in body["checks"]["heartbeat"]["detail"]
    assert (tmp_path / dummy_stage.PRELOAD_MARKER).is_file()  # its declared preload ran

    metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    assert f'shelfready_queue_workers{{queue="{dummy_stage.QUEUE}",stage="dummy"}} 2.0' in metrics

    rows = json.loads(deployment.cli("queues", "--json").stdout)
    assert {"name": dummy_stage.QUEUE, "stage": "dummy", "workers": 2}.items() <= next(
        row for row in rows if row["stage"] == "dummy"
    ).items()
    diagnosis = json.loads(deployment.cli("diagnose", "--json", check=False).stdout)
    (finding,) = [f for f in diagnosis["findings"] if f["check"] == f"queue {dummy_stage.QUEUE}"]
    assert finding["ok"], finding

    # A workflow passes through all four stages under the one lifecycle: imagegen hands over
    # to the stage after it, which claims the workflow and completes it.
    del deployment.env["PORT"]  # the other pools serve no health port here: one port each
    for service in pipeline().names:
        deployment.start_worker(service)
    photo = sorted(SAMPLES.glob("*.jpg"))[0]
    submitted = deployment.cli(
        "submit", str(photo), "--wait", "--timeout", "240", "--json", timeout=300
    )
    data = json.loads(submitted.stdout)
    assert data["status"] == "COMPLETED", (data["error"], deployment.log_tail())
    assert data["current_step"] == "DUMMY_CHECK"
    events = deployment.status_via_cli(data["id"])["events"]
    kinds = [(e["stage"], e["kind"]) for e in events]
    assert ("imagegen", "handed_over") in kinds
    handover = next(e for e in events if e["stage"] == "imagegen" and e["kind"] == "handed_over")
    assert "next: dummy" in handover["message"]
    assert kinds[-1] == ("dummy", "completed"), kinds
    assert [k for k in kinds if k[0] == "dummy"] == [("dummy", "started"), ("dummy", "completed")]
    # Its horse collects garbage, but never walks what the pool imported before forking.
    horse_gc = json.loads((tmp_path / "horse-gc.json").read_text())
    assert horse_gc["enabled"] is True
    assert horse_gc["frozen"] > 100_000, horse_gc
