"""Starting workflows over HTTP: uploads, photo URLs and the old camelCase route."""

from __future__ import annotations

import json

import pytest
import redis
from fastapi.testclient import TestClient
from rq import Queue
from sqlmodel import select

from shelfready_core import defaults
from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.models import Workflow, WorkflowStatus
from shelfready_core.stages import PipelineError, pipeline
from shelfready_core.storage import get_storage, workflow_key
from tests.api.conftest import image_bytes


def _recognition_jobs(redis_conn: redis.Redis) -> list[str]:
    return Queue(pipeline().first.queue.name, connection=redis_conn).job_ids


def _workflow(settings: Settings, workflow_id: str) -> Workflow:
    with session_scope(settings) as session:
        workflow = session.get(Workflow, workflow_id)
        assert workflow is not None, f"no workflow row {workflow_id}"
        return workflow


def _workflow_count(settings: Settings) -> int:
    with session_scope(settings) as session:
        return len(session.exec(select(Workflow)).all())


def test_upload_creates_pending_workflow_stores_photo_and_enqueues_recognition(
    client: TestClient, settings: Settings, redis_conn: redis.Redis
) -> None:
    response = client.post(
        "/api/workflows",
        files={"file": ("my mug (1).png", image_bytes(), "image/png")},
        data={
            "brand": "Northwind",
            "market": "uk",
            "features": ["dishwasher safe", "350 ml"],
            "specifications": json.dumps({"Capacity": "350 ml"}),
        },
    )

    assert response.status_code == 202, response.text
    body = response.json()
    workflow_id = body["workflow_id"]
    assert body["status"] == "PENDING"
    assert body["status_url"] == f"/api/workflows/{workflow_id}"
    assert response.headers["location"] == body["status_url"]

    workflow = _workflow(settings, workflow_id)
    assert workflow.status == WorkflowStatus.PENDING
    key = workflow_key(workflow_id, 1, "upload/my-mug-1-.png")
    assert workflow.source == f"storage:{key}"
    assert workflow.brand == "Northwind"
    assert workflow.market == "UK"
    assert workflow.request["features"] == ["dishwasher safe", "350 ml"]
    assert workflow.request["specifications"] == {"Capacity": "350 ml"}
    assert get_storage(settings).get(key) == image_bytes()
    assert _recognition_jobs(redis_conn) == [f"recognition-{workflow_id}"]


def test_json_image_url_creates_workflow_that_downloads_the_url(
    client: TestClient, settings: Settings, redis_conn: redis.Redis
) -> None:
    url = "https://cdn.example.com/photos/lamp.jpg?sig=a%2Fb"
    response = client.post(
        "/api/workflows",
        json={"image_url": url, "category": "Home > Lighting", "emphasis": ["brass"]},
    )

    assert response.status_code == 202, response.text
    workflow_id = response.json()["workflow_id"]
    workflow = _workflow(settings, workflow_id)
    assert workflow.source == url  # exactly as sent: signed URLs must survive
    assert workflow.source_name == "lamp.jpg"
    assert workflow.category == "Home > Lighting"
    assert workflow.request["emphasis"] == ["brass"]
    assert _recognition_jobs(redis_conn) == [f"recognition-{workflow_id}"]


def test_legacy_camel_case_start_route(
    client: TestClient, settings: Settings, redis_conn: redis.Redis
) -> None:
    response = client.post(
        "/api/workflows/start",
        json={"imageUrl": "http://example.com/a.jpg", "category": "Kitchen", "brand": "Acme"},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"workflowId": body["workflowId"], "status": "queued"}
    workflow = _workflow(settings, body["workflowId"])
    assert (workflow.brand, workflow.category) == ("Acme", "Kitchen")
    assert _recognition_jobs(redis_conn) == [f"recognition-{body['workflowId']}"]


def test_non_image_upload_is_refused_naming_the_problem(
    client: TestClient, settings: Settings, redis_conn: redis.Redis
) -> None:
    response = client.post(
        "/api/workflows",
        files={"file": ("invoice.jpg", b"%PDF-1.7 this is not a photo", "image/jpeg")},
    )

    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "invoice.jpg" in detail and "not an image" in detail
    assert _workflow_count(settings) == 0
    assert _recognition_jobs(redis_conn) == []


def test_truncated_and_tiny_images_are_refused(client: TestClient) -> None:
    truncated = image_bytes(image_format="PNG")[:200]
    response = client.post("/api/workflows", files={"file": ("cut.png", truncated, "image/png")})
    assert response.status_code == 422
    assert "cut.png" in response.json()["detail"]

    tiny = image_bytes(120, 90)
    response = client.post("/api/workflows", files={"file": ("tiny.png", tiny, "image/png")})
    assert response.status_code == 422
    assert "120x90" in response.json()["detail"] and "200 px" in response.json()["detail"]


def test_oversized_upload_is_refused_with_413(client: TestClient, settings: Settings) -> None:
    # Just over the photo limit, but within the request limit: the endpoint's own check.
    too_big = image_bytes() + b"\0" * defaults.MAX_DOWNLOAD_BYTES
    response = client.post("/api/workflows", files={"file": ("big.png", too_big, "image/png")})

    assert response.status_code == 413
    assert "big.png" in response.json()["detail"]
    assert str(defaults.MAX_DOWNLOAD_BYTES) in response.json()["detail"]
    assert _workflow_count(settings) == 0


def test_oversized_body_is_refused_while_it_arrives(client: TestClient) -> None:
    chunk = b" " * (1024 * 1024)

    def endless_json():  # type: ignore[no-untyped-def]
        yield b'{"image_url": "https://example.com/a.jpg", "tone": "'
        for _ in range(defaults.MAX_DOWNLOAD_BYTES // len(chunk) + 2):
            yield chunk

    # A generator body goes out chunked, without Content-Length: only counting catches it.
    response = client.post(
        "/api/workflows", content=endless_json(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413

    declared = client.post(
        "/api/workflows",
        content=b"{}",
        headers={"content-type": "application/json", "content-length": str(10**9)},
    )
    assert declared.status_code == 413


def test_image_url_must_be_http_or_https(client: TestClient, settings: Settings) -> None:
    for url in ("ftp://example.com/a.jpg", "file:///etc/passwd", "example.com/a.jpg"):
        response = client.post("/api/workflows", json={"image_url": url})
        assert response.status_code == 422, url
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "image_url"]
        assert "http:// or https://" in error["msg"]

    legacy = client.post("/api/workflows/start", json={"imageUrl": "javascript:alert(1)"})
    assert legacy.status_code == 422
    assert _workflow_count(settings) == 0


def test_invalid_fields_are_named(client: TestClient) -> None:
    response = client.post(
        "/api/workflows", json={"image_url": "https://example.com/a.jpg", "colour": "red"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "colour"]

    response = client.post(
        "/api/workflows",
        files={"file": ("a.png", image_bytes(), "image/png")},
        data={"specifications": "not json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "specifications"]

    response = client.post("/api/workflows", data={"brand": "Acme"}, files={"other": ("x", b"x")})
    assert response.status_code == 422
    assert "'file'" in response.json()["detail"]

    response = client.post(
        "/api/workflows", content=b"{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422


def test_other_content_types_get_415(client: TestClient) -> None:
    response = client.post(
        "/api/workflows", content=b"image_url=x", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 415
    assert "text/plain" in response.json()["detail"]


def test_a_pipeline_without_its_first_stage_is_a_503_and_stores_nothing(
    client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_first_stage() -> None:
        raise PipelineError(
            "no stage comes first: 'recognition' is neither installed nor registered"
        )

    monkeypatch.setattr("shelfready_api.limits.pipeline", no_first_stage)
    before = _workflow_count(settings)
    response = client.post(
        "/api/workflows", files={"file": ("cup.png", image_bytes(), "image/png")}
    )
    assert response.status_code == 503
    assert "pipeline" in response.json()["detail"]
    assert _workflow_count(settings) == before
