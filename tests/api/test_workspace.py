"""The seller's workspace routes: list, images, edit (versions + re-check), approve, regenerate."""

from __future__ import annotations

import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr
from rq import Queue

from shelfready_core.config import Settings
from shelfready_core.models import WorkflowStatus
from shelfready_core.producer import REGENERATE_IMAGE
from shelfready_core.queues import stage_declaring, stage_job_id
from tests.api.conftest import MakeClient
from tests.api.seed import seed_completed

LONG_TITLE = "Acme Insulated Water Bottle " + "with a very long extra phrase " * 8


def test_list_is_newest_first_paged_and_filtered(client: TestClient, settings: Settings) -> None:
    first = seed_completed(settings, sku="BOT-1", source_name="first.jpg")
    second = seed_completed(settings, sku="BOT-2", source_name="second.jpg", main_passes=False)
    running = seed_completed(settings, source_name="third.jpg", status=WorkflowStatus.PROCESSING)

    page = client.get("/api/workflows", params={"limit": 2}).json()
    assert page["total"] == 3
    assert [item["id"] for item in page["items"]] == [running, second]
    rest = client.get("/api/workflows", params={"limit": 2, "offset": 2}).json()
    assert [item["id"] for item in rest["items"]] == [first]

    done = client.get("/api/workflows", params={"status": "COMPLETED"}).json()
    assert {item["id"] for item in done["items"]} == {first, second}
    flagged = client.get("/api/workflows", params={"needs_review": "true"}).json()
    assert [item["id"] for item in flagged["items"]] == [second]  # its main image fails
    assert flagged["items"][0]["needs_review"] is True
    by_sku = client.get("/api/workflows", params={"q": "bot-1"}).json()
    assert [item["id"] for item in by_sku["items"]] == [first]
    by_title = client.get("/api/workflows", params={"q": "INSULATED"}).json()
    assert by_title["total"] == 3

    bad = client.get("/api/workflows", params={"status": "DONE", "limit": 500})
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("query", "status"),
        ("query", "limit"),
    }


def test_image_urls_are_api_routes_that_serve_the_files(
    client: TestClient, settings: Settings
) -> None:
    workflow_id = seed_completed(settings)
    data = client.get(f"/api/workflows/{workflow_id}").json()
    items = data["images"]["items"]
    assert items[0]["url"] == f"/api/workflows/{workflow_id}/images/1"
    assert items[0]["thumbnail_url"] == f"/api/workflows/{workflow_id}/images/1/thumbnail"
    assert "file:" not in str(data)
    image = client.get(items[0]["url"])
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert image.content[:2] == b"\xff\xd8"
    assert client.get(items[1]["thumbnail_url"]).status_code == 200
    assert client.get(data["product"]["original_url"]).status_code == 200
    assert client.get(f"/api/workflows/{workflow_id}/images/6").status_code == 422
    assert client.get("/api/workflows/nope/images/1").status_code == 404


def test_every_new_route_needs_the_token(make_client: MakeClient, settings: Settings) -> None:
    workflow_id = seed_completed(settings)
    client = make_client(api_token=SecretStr("right-token"))
    for method, path in [
        ("GET", "/api/workflows"),
        ("GET", f"/api/workflows/{workflow_id}/images/1"),
        ("GET", f"/api/workflows/{workflow_id}/review"),
        ("PATCH", f"/api/workflows/{workflow_id}/listing"),
        ("POST", f"/api/workflows/{workflow_id}/approve"),
        ("POST", f"/api/workflows/{workflow_id}/regenerate"),
        ("GET", f"/api/workflows/{workflow_id}/export"),
        ("POST", "/api/exports"),
    ]:
        assert client.request(method, path).status_code == 401, path
    ok = client.get("/api/workflows", headers={"Authorization": "Bearer right-token"})
    assert ok.status_code == 200 and ok.json()["total"] == 1
    # The page itself is open: it holds no data until the seller's key is pasted.
    assert client.get("/").status_code == 200


def test_an_edit_is_rechecked_versioned_and_clears_approval(
    client: TestClient, settings: Settings
) -> None:
    workflow_id = seed_completed(settings)
    review = client.get(f"/api/workflows/{workflow_id}/review").json()
    assert review["findings"] == [] and review["limits"]["title_max_chars"] == 200
    assert client.post(f"/api/workflows/{workflow_id}/approve").json()["approved"] is True

    long = client.patch(f"/api/workflows/{workflow_id}/listing", json={"title": LONG_TITLE})
    assert long.status_code == 200, long.text
    body = long.json()
    assert body["listing_version"] == 2 and body["approved"] is False
    assert any(f["kind"] == "title_length" for f in body["findings"])
    assert body["quality_approved"] is False
    assert [v["source"] for v in body["versions"]] == ["generated", "edit"]
    assert body["versions"][0]["fields"]["title"] != LONG_TITLE

    refused = client.post(f"/api/workflows/{workflow_id}/approve")
    assert refused.status_code == 409 and "characters" in refused.json()["detail"]

    fixed = client.patch(
        f"/api/workflows/{workflow_id}/listing",
        json={"title": "Acme Insulated Water Bottle, 750 ml Stainless Steel, Navy Blue"},
    ).json()
    assert fixed["findings"] == [] and fixed["listing_version"] == 3
    assert client.post(f"/api/workflows/{workflow_id}/approve").json()["approved"] is True
    data = client.get(f"/api/workflows/{workflow_id}").json()
    assert data["listing"]["title"].endswith("Navy Blue") and data["listing"]["version"] == 3


def test_bad_edits_are_422s_naming_the_field(client: TestClient, settings: Settings) -> None:
    workflow_id = seed_completed(settings)
    url = f"/api/workflows/{workflow_id}/listing"
    cases = {
        "bullet_points": {"bullet_points": ["only one"]},
        "title": {"title": "x" * 6000},
        "colour": {"colour": "red"},
    }
    for field, body in cases.items():
        response = client.patch(url, json=body)
        assert response.status_code == 422, body
        assert field in str(response.json()["detail"])
    assert client.patch(url, json={}).status_code == 422
    # Nothing was stored for a refused request.
    assert client.get(f"/api/workflows/{workflow_id}/review").json()["versions"] == []


def test_unfinished_or_failing_work_cannot_be_approved(
    client: TestClient, settings: Settings
) -> None:
    running = seed_completed(settings, status=WorkflowStatus.PROCESSING)
    assert client.post(f"/api/workflows/{running}/approve").status_code == 409
    assert client.patch(f"/api/workflows/{running}/listing", json={"title": "x"}).status_code == 409
    bad_main = seed_completed(settings, main_passes=False)
    refused = client.post(f"/api/workflows/{bad_main}/approve")
    assert refused.status_code == 409 and "main image" in refused.json()["detail"]


def test_regenerate_validates_and_enqueues(
    client: TestClient, settings: Settings, redis_conn: redis.Redis
) -> None:
    workflow_id = seed_completed(settings)
    url = f"/api/workflows/{workflow_id}/regenerate"
    assert client.post(url, json={"target": "image"}).status_code == 422
    assert client.post(url, json={"target": "image", "image": 7}).status_code == 422
    image = client.post(url, json={"target": "image", "image": 3, "feedback": "brighter"})
    assert image.status_code == 202 and image.json()["workflow_id"] == workflow_id
    queue = Queue("image-generation", connection=redis_conn)
    owner = stage_declaring(REGENERATE_IMAGE)
    assert queue.job_ids == [stage_job_id(owner, workflow_id, REGENERATE_IMAGE, 3)]
    history = client.get(f"/api/workflows/{workflow_id}?events=true").json()["events"]
    assert {
        "stage": owner.name,
        "kind": "image_feedback",
        "message": "image 3: brighter",
    }.items() <= (history[-1].items())

    listing = client.post(url, json={"target": "listing", "feedback": "shorter title"})
    assert listing.status_code == 202
    new_id = listing.json()["workflow_id"]
    new = client.get(f"/api/workflows/{new_id}").json()
    assert (new["version"], new["parent_id"]) == (2, workflow_id)
    assert new["request"]["feedback"] == "shorter title"
