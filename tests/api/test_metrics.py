"""`GET /metrics` on the API: the Prometheus exposition with the state read at scrape time."""

from __future__ import annotations

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import image_bytes


def test_metrics_count_the_created_workflow_and_its_waiting_job(client: TestClient) -> None:
    created = client.post("/api/workflows", files={"file": ("a.png", image_bytes(), "image/png")})
    assert created.status_code in (200, 201, 202), created.text
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert samples[("shelfready_workflows", (("status", "PENDING"),))] == 1
    waiting = (("queue", "image-recognition"), ("stage", "recognition"), ("state", "waiting"))
    assert samples[("shelfready_queue_jobs", waiting)] == 1
    assert (
        samples[
            (
                "shelfready_queue_oldest_job_age_seconds",
                (("queue", "image-recognition"), ("stage", "recognition")),
            )
        ]
        >= 0
    )
    assert (
        samples[("shelfready_breaker_state", (("breaker", "anthropic"), ("state", "closed")))] == 1
    )
