"""Bearer-token auth on /api, the health endpoint, and the OpenAPI docs."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from shelfready_core.config import Settings
from tests.api.conftest import MakeClient

TOKEN = "api-token-DISTINCTIVE-5c1e"
URL_BODY = {"image_url": "https://example.com/a.jpg"}


def test_without_a_configured_token_api_routes_are_open(client: TestClient) -> None:
    assert client.post("/api/workflows", json=URL_BODY).status_code == 202
    assert client.get("/api/workflows/unknown").status_code == 404


def test_with_a_token_every_api_route_requires_it(
    make_client: MakeClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(api_token=SecretStr(TOKEN))
    requests = [
        ("POST", "/api/workflows", URL_BODY),
        ("POST", "/api/workflows/start", {"imageUrl": "https://example.com/a.jpg"}),
        ("GET", "/api/workflows/unknown", None),
        ("POST", "/api/workflows/unknown/retry", None),
    ]
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        for method, path, body in requests:
            response = client.request(method, path, json=body, headers=headers)
            assert response.status_code == 401, (method, path, headers)
            assert response.headers["www-authenticate"] == "Bearer"
            assert "bearer token" in response.json()["detail"]

    good = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/api/workflows", json=URL_BODY, headers=good).status_code == 202
    assert client.get("/api/workflows/unknown", headers=good).status_code == 404
    # Probes and docs stay open.
    assert client.get("/healthz").status_code == 200
    assert client.get("/openapi.json").status_code == 200
    assert TOKEN not in caplog.text


def test_unauthenticated_upload_is_refused_before_anything_is_stored(
    make_client: MakeClient, settings: Settings
) -> None:
    client = make_client(api_token=SecretStr(TOKEN))
    response = client.post("/api/workflows", files={"file": ("a.png", b"x", "image/png")})
    assert response.status_code == 401
    assert not settings.storage_dir.exists() or not any(settings.storage_dir.rglob("*.png"))


def test_healthz_is_ok_when_redis_and_database_answer(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "checks": {
            "redis": {"ok": True, "detail": "PING answered"},
            "database": {"ok": True, "detail": "SELECT 1 answered"},
        },
    }


def test_healthz_names_a_dead_redis(make_client: MakeClient) -> None:
    client = make_client(redis_url=SecretStr("redis://127.0.0.1:1/0"))
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"]["ok"] is False and "unreachable" in checks["redis"]["detail"]
    assert checks["database"]["ok"] is True


def test_healthz_names_a_dead_database(make_client: MakeClient) -> None:
    client = make_client(database_url=SecretStr("postgresql://postgres@127.0.0.1:1/gone"))
    response = client.get("/healthz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["database"]["ok"] is False and checks["redis"]["ok"] is True
    # The public answer names the failure, not the host it failed to reach.
    assert "127.0.0.1" not in response.text


def test_dead_database_during_a_request_is_503_naming_it(make_client: MakeClient) -> None:
    client = make_client(database_url=SecretStr("postgresql://postgres@127.0.0.1:1/gone"))
    response = client.get("/api/workflows/anything")
    assert response.status_code == 503
    assert response.json() == {"detail": "the database is unavailable; try again shortly"}


def test_openapi_docs_describe_both_request_bodies(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    create = spec["paths"]["/api/workflows"]["post"]
    content = create["requestBody"]["content"]
    assert content["application/json"]["schema"]["required"] == ["image_url"]
    assert content["multipart/form-data"]["schema"]["properties"]["file"]["format"] == "binary"
    assert "202" in create["responses"]
    assert {
        "/api/workflows/{workflow_id}",
        "/api/workflows/{workflow_id}/retry",
        "/healthz",
    } <= set(spec["paths"])
