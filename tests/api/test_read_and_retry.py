"""Reading a workflow's state and resuming a FAILED one over HTTP."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient
from rq import Queue

from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.models import Workflow, WorkflowStatus
from shelfready_core.stages import pipeline
from tests.api.conftest import image_bytes


def _upload(client: TestClient) -> str:
    response = client.post(
        "/api/workflows",
        files={"file": ("mug.jpg", image_bytes(image_format="JPEG"), "image/jpeg")},
        data={"brand": "Northwind"},
    )
    assert response.status_code == 202, response.text
    return str(response.json()["workflow_id"])


def test_get_returns_the_status_json(client: TestClient) -> None:
    workflow_id = _upload(client)

    response = client.get(f"/api/workflows/{workflow_id}")

    assert response.status_code == 200, response.text
    data = response.json()
    assert data["id"] == workflow_id
    assert (data["status"], data["current_step"], data["progress"]) == (
        "PENDING",
        "IMAGE_DOWNLOAD",
        0,
    )
    assert data["source_name"] == "mug.jpg"
    assert data["request"]["brand"] == "Northwind"
    assert (data["product"], data["listing"], data["images"]) == (None, None, None)
    assert data["usage"]["calls"] == 0
    assert "events" not in data

    with_events = client.get(f"/api/workflows/{workflow_id}", params={"events": True}).json()
    assert isinstance(with_events["events"], list)


def test_unknown_workflow_is_404_with_its_id(client: TestClient) -> None:
    response = client.get("/api/workflows/no-such-workflow")
    assert response.status_code == 404
    assert response.json() == {"detail": "no workflow with id 'no-such-workflow'"}

    response = client.post("/api/workflows/no-such-workflow/retry")
    assert response.status_code == 404
    assert "no-such-workflow" in response.json()["detail"]


def test_retry_of_a_workflow_that_has_not_failed_is_409(client: TestClient) -> None:
    workflow_id = _upload(client)

    response = client.post(f"/api/workflows/{workflow_id}/retry")

    assert response.status_code == 409
    assert response.json()["detail"] == (
        f"workflow {workflow_id} is PENDING; only FAILED workflows can be retried"
    )


def test_retry_resumes_a_failed_workflow_at_the_failed_step(
    client: TestClient, settings: Settings, redis_conn: redis.Redis
) -> None:
    workflow_id = _upload(client)
    with session_scope(settings) as session:
        workflow = session.get(Workflow, workflow_id)
        assert workflow is not None
        workflow.status = WorkflowStatus.FAILED
        workflow.current_step = workflow.failed_step = "LISTING_GENERATION"
        workflow.error = "listing stage gave up"
        session.add(workflow)

    response = client.post(f"/api/workflows/{workflow_id}/retry")

    assert response.status_code == 202, response.text
    assert response.json() == {
        "workflow_id": workflow_id,
        "status": "PROCESSING",
        "resumed_service": "listing",
        "status_url": f"/api/workflows/{workflow_id}",
    }
    listing_jobs = Queue(pipeline().get("listing").queue.name, connection=redis_conn).job_ids
    assert listing_jobs == [f"listing-{workflow_id}"]
    state = client.get(f"/api/workflows/{workflow_id}").json()
    assert (state["status"], state["error"]) == ("PROCESSING", None)
