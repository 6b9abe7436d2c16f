"""A real worker pool serves /metrics beside /health; its JSON log lines carry the job's
context; a photo that is not an image fails in one log line, without a traceback."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.conftest import SAMPLES, Pipeline, terminal


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def jobs_done(samples: dict, stage: str, outcome: str = "ok") -> float:
    return value(samples, "shelfready_job_duration_seconds_count", stage=stage, outcome=outcome)


def test_pool_metrics_and_job_context_in_json_logs(pipeline: Pipeline, tmp_path: Path) -> None:
    port = free_port()
    pipeline.env.update({"PORT": str(port), "LOG_FORMAT": "json"})
    pipeline.start_worker("all", "--concurrency", "2")
    pipeline.wait_for_workers(2)
    good = pipeline.cli("submit", str(sorted(SAMPLES.glob("*.jpg"))[0])).stdout.strip()
    bogus = tmp_path / "invoice.jpg"
    bogus.write_text("not a photo at all")
    bad = pipeline.cli("submit", str(bogus)).stdout.strip()
    assert pipeline.wait_for(good, terminal, timeout=180)["status"] == "COMPLETED"
    assert pipeline.wait_for(bad, terminal)["status"] == "FAILED"

    deadline = time.monotonic() + 20
    while True:  # the last job's horse writes its figures just after the commit
        samples = scrape(port)
        if jobs_done(samples, "imagegen") >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    for stage in ("recognition", "listing", "imagegen"):
        assert jobs_done(samples, stage) == 1
    assert jobs_done(samples, "recognition", "invalid_input") == 1
    assert value(samples, "shelfready_workflow_failures_total", stage="recognition") == 1
    assert value(samples, "shelfready_workflows", status="COMPLETED") == 1
    assert value(samples, "shelfready_workflows", status="FAILED") == 1
    recognition = {"queue": "image-recognition", "stage": "recognition"}
    assert value(samples, "shelfready_queue_workers", **recognition) == 2
    waiting = ("shelfready_queue_jobs", tuple(sorted({**recognition, "state": "waiting"}.items())))
    assert samples[waiting] == 0  # present (an absent sample would read 0 too)
    assert value(samples, "shelfready_breaker_state", breaker="anthropic", state="closed") == 1
    calls = [k for k in samples if k[0] == "shelfready_claude_calls_total"]
    assert {dict(labels)["stage"] for _, labels in calls} >= {"recognition", "listing"}
    tokens = sum(v for (name, _), v in samples.items() if name == "shelfready_claude_tokens_total")
    assert tokens > 0
    # /health still answers beside it.
    assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200

    pipeline.stop_all()
    lines = [
        json.loads(line)
        for line in pipeline.logs[0].read_text().splitlines()
        if line.startswith("{")
    ]
    assert lines, pipeline.log_tail()
    mine = [line for line in lines if line.get("workflow_id") == good]
    assert {line.get("service") for line in mine} >= {"recognition", "listing", "imagegen"}
    assert all(line["job_id"] and line["attempt"] == 1 for line in mine)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    failed = [line for line in lines if line.get("workflow_id") == bad]
    assert any("failed on its input" in line["message"] for line in failed)
    text = pipeline.logs[0].read_text()
    assert "Traceback" not in text, text[-3000:]
