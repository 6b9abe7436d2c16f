"""Safe at the edges over HTTP: hostile photo URLs, bad fields, owners, floods.

Everything refused here is refused before anything is stored or queued, with a 422 naming the
field (or a 429 with Retry-After), never a 500.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from pydantic import SecretStr
from rq import Queue
from sqlmodel import select

from shelfready_api.app import QueryStringFilter, create_app
from shelfready_core import defaults
from shelfready_core.api_keys import ApiKeyError, create_key, revoke_key
from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.models import Workflow, WorkflowStatus
from shelfready_core.stages import pipeline
from tests.api.conftest import MakeClient, image_bytes
from tests.fakes.photo_hosts import Bystander, serving
from tests.recognition.test_fetch_guard import hostile_urls

KEY_A = "key-a-DISTINCTIVE-0a1b2c3d"
KEY_B = "key-b-DISTINCTIVE-4e5f6a7b"
TWO_KEYS = SecretStr(f"acme:{KEY_A},globex:{KEY_B}")
URL = "https://cdn.example.com/photos/lamp.jpg"


def _auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _workflows(settings: Settings) -> list[Workflow]:
    with session_scope(settings) as session:
        return list(session.exec(select(Workflow)).all())


def _queued(redis_conn: redis.Redis) -> int:
    return Queue(pipeline().first.queue.name, connection=redis_conn).count


def _stored_files(settings: Settings) -> list[Path]:
    root = settings.storage_dir
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def bystander() -> Iterator[Bystander]:
    target = Bystander("127.0.0.1")
    with serving(target):
        yield target


# -- hostile URLs --------------------------------------------------------------------------


def test_hostile_urls_get_422_on_their_field_and_nothing_is_queued(
    client: TestClient, settings: Settings, redis_conn: redis.Redis, bystander: Bystander
) -> None:
    for url in hostile_urls(bystander.port):
        response = client.post("/api/workflows", json={"image_url": url})
        assert response.status_code == 422, (url, response.text)
        [error] = response.json()["detail"]
        assert error["loc"] == ["body", "image_url"]
        assert error["msg"].endswith(": refused")

        legacy = client.post("/api/workflows/start", json={"imageUrl": url})
        assert legacy.status_code == 422, (url, legacy.text)
        assert legacy.json()["detail"][0]["loc"] == ["body", "imageUrl"]
    assert _workflows(settings) == []
    assert _queued(redis_conn) == 0
    assert bystander.connections == 0


def test_urls_with_control_characters_are_422(client: TestClient) -> None:
    for url in ("https://example.com/a\x00.jpg", "https://example.com/a b.jpg", "http://h:x/"):
        response = client.post("/api/workflows", json={"image_url": url})
        assert response.status_code == 422, url
        assert response.json()["detail"][0]["loc"] == ["body", "image_url"]


# -- fields ------------------------------------------------------------------------------


BAD_FIELDS: list[tuple[str, object]] = [
    ("brand", "B" * 201),
    ("category", "C" * 10_000),
    ("product_name", "P" * 301),
    ("market", "ABCDEFGHI"),
    ("market", "ZZ"),
    ("language", "xx-evil"),
    ("language", "en-evil"),
    ("marketplace", "walmart"),
    ("features", ["feature"] * 20_000),
    ("features", ["F" * 301]),
    ("specifications", {f"spec {i}": "v" * 1000 for i in range(2000)}),
    ("specifications", {"Capacity": "v" * 1000}),
    ("emphasis", ["e"] * 11),
    ("tone", "t" * 101),
    ("feedback", "f" * 4001),
]


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS)
def test_bad_json_fields_get_422_naming_the_field(
    client: TestClient, settings: Settings, redis_conn: redis.Redis, field: str, value: object
) -> None:
    response = client.post("/api/workflows", json={"image_url": URL, field: value})
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert _workflows(settings) == [] and _queued(redis_conn) == 0


@pytest.mark.parametrize(("field", "value"), BAD_FIELDS[:8] + BAD_FIELDS[9:10])
def test_bad_upload_fields_get_422_and_store_nothing(
    client: TestClient, settings: Settings, field: str, value: object
) -> None:
    form = {field: json.dumps(value) if isinstance(value, dict) else value}
    response = client.post(
        "/api/workflows", files={"file": ("a.png", image_bytes(), "image/png")}, data=form
    )
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"][:2] == ["body", field]
    assert _stored_files(settings) == [] and _workflows(settings) == []


def test_legacy_route_fields_get_422(client: TestClient, settings: Settings) -> None:
    response = client.post("/api/workflows/start", json={"imageUrl": URL, "brand": "b" * 201})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "brand"]
    assert _workflows(settings) == []


def test_control_and_bidi_characters_are_stripped_not_stored(
    client: TestClient, settings: Settings
) -> None:
    response = client.post(
        "/api/workflows",
        json={
            "image_url": URL,
            "brand": "Acme\x00\u202e",
            "category": "Home\x1b[31m > Lamps",
            "features": ["warm\u2066 light\x07"],
            "specifications": {"Power\x00": "5\u200f W"},
            "market": "de",
            "language": "DE",
        },
    )
    assert response.status_code == 202, response.text
    [workflow] = _workflows(settings)
    assert (workflow.brand, workflow.category) == ("Acme", "Home[31m > Lamps")
    assert (workflow.market, workflow.language) == ("DE", "de")
    assert workflow.request is not None
    assert workflow.request["features"] == ["warm light"]
    assert workflow.request["specifications"] == {"Power": "5 W"}


def test_oversized_name_and_fields_stay_below_the_columns(client: TestClient) -> None:
    long_name = "n" * 400 + ".png"
    response = client.post(
        "/api/workflows",
        files={"file": (long_name, image_bytes(), "image/png")},
        data={"brand": "B" * 200, "category": "C" * 300},
    )
    assert response.status_code == 202, response.text


# -- no orphan files -----------------------------------------------------------------------


def test_an_upload_whose_workflow_cannot_be_written_is_removed(make_client: MakeClient) -> None:
    # The environment key authenticates without the database; the insert then fails.
    client = make_client(
        api_token=SecretStr(KEY_A),
        database_url=SecretStr("postgresql://postgres@127.0.0.1:1/gone"),
    )
    storage_dir = client.app.state.api.settings.storage_dir  # type: ignore[attr-defined]
    response = client.post(
        "/api/workflows",
        files={"file": ("a.png", image_bytes(), "image/png")},
        headers=_auth(KEY_A),
    )
    assert response.status_code == 503
    assert not storage_dir.exists() or [p for p in storage_dir.rglob("*") if p.is_file()] == []


def test_huge_decoded_upload_is_refused_before_storing(
    client: TestClient, settings: Settings
) -> None:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (7000, 7000), (255, 255, 255)).save(buffer, "PNG")
    response = client.post(
        "/api/workflows", files={"file": ("huge.png", buffer.getvalue(), "image/png")}
    )
    assert response.status_code == 422
    assert "7000x7000 PNG" in response.json()["detail"]
    assert _stored_files(settings) == []


# -- keys and owners -----------------------------------------------------------------------


def test_one_key_cannot_read_or_retry_another_keys_workflow(
    make_client: MakeClient, settings: Settings
) -> None:
    client = make_client(api_keys=TWO_KEYS)
    created = client.post("/api/workflows", json={"image_url": URL}, headers=_auth(KEY_A))
    assert created.status_code == 202
    workflow_id = created.json()["workflow_id"]
    [workflow] = _workflows(settings)
    assert workflow.owner == "acme"

    assert client.get(f"/api/workflows/{workflow_id}", headers=_auth(KEY_A)).status_code == 200
    listed_a = client.get("/api/workflows", headers=_auth(KEY_A)).json()
    listed_b = client.get("/api/workflows", headers=_auth(KEY_B)).json()
    assert workflow_id in json.dumps(listed_a) and workflow_id not in json.dumps(listed_b)
    for path in (f"/api/workflows/{workflow_id}/review", f"/api/workflows/{workflow_id}/images/1"):
        assert client.get(path, headers=_auth(KEY_B)).status_code == 404, path
    other = client.get(f"/api/workflows/{workflow_id}", headers=_auth(KEY_B))
    unknown = client.get("/api/workflows/not-a-workflow", headers=_auth(KEY_B))
    assert other.status_code == 404
    assert other.json()["detail"] == f"no workflow with id {workflow_id!r}"  # as if unknown
    assert unknown.status_code == 404
    with session_scope(settings) as session:
        row = session.get(Workflow, workflow_id)
        assert row is not None
        row.status = WorkflowStatus.FAILED
        row.failed_step = row.current_step
    assert (
        client.post(f"/api/workflows/{workflow_id}/retry", headers=_auth(KEY_B)).status_code == 404
    )
    assert (
        client.post(f"/api/workflows/{workflow_id}/retry", headers=_auth(KEY_A)).status_code == 202
    )
    assert client.get(f"/api/workflows/{workflow_id}").status_code == 401


def test_single_token_still_works_and_sees_everything_as_the_cli_does(
    make_client: MakeClient, settings: Settings
) -> None:
    client = make_client(api_token=SecretStr(KEY_A), api_keys=SecretStr(f"globex:{KEY_B}"))
    mine = client.post("/api/workflows", json={"image_url": URL}, headers=_auth(KEY_A))
    theirs = client.post("/api/workflows", json={"image_url": URL}, headers=_auth(KEY_B))
    assert mine.status_code == theirs.status_code == 202
    owners = {w.id: w.owner for w in _workflows(settings)}
    assert owners == {mine.json()["workflow_id"]: None, theirs.json()["workflow_id"]: "globex"}
    assert client.get(theirs.json()["status_url"], headers=_auth(KEY_A)).status_code == 200
    assert client.get(mine.json()["status_url"], headers=_auth(KEY_B)).status_code == 404


def test_database_keys_work_until_revoked_and_only_their_digest_is_stored(
    make_client: MakeClient, settings: Settings
) -> None:
    key = create_key(settings, "initech")
    client = make_client()
    assert client.post("/api/workflows", json={"image_url": URL}).status_code == 401
    created = client.post("/api/workflows", json={"image_url": URL}, headers=_auth(key))
    assert created.status_code == 202
    assert _workflows(settings)[0].owner == "initech"
    with pytest.raises(ApiKeyError):
        create_key(settings, "initech")

    dump = _database_text(settings)
    assert key not in dump and key[3:] not in dump

    revoke_key(settings, "initech")
    assert client.get(created.json()["status_url"], headers=_auth(key)).status_code == 401


def _database_text(settings: Settings) -> str:
    """Every row of every table, as text."""
    assert settings.database_url is not None
    with psycopg.connect(settings.database_url.get_secret_value()) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        ]
        return "\n".join(
            str(conn.execute(f'SELECT * FROM "{table}"').fetchall()) for table in tables
        )


@pytest.mark.parametrize(
    "overrides",
    [
        {"api_token": SecretStr("")},
        {"api_token": SecretStr("   ")},
        {"api_keys": SecretStr("")},
        {"api_keys": SecretStr("acme:")},
        {"api_keys": SecretStr(f"acme:{KEY_A},acme:{KEY_B}")},
        {"api_keys": SecretStr(f"default:{KEY_A}")},
    ],
)
def test_an_empty_or_broken_key_is_refused_at_start_up(
    settings: Settings, overrides: dict[str, object]
) -> None:
    app = create_app(settings.model_copy(update=overrides))
    with pytest.raises(ApiKeyError) as refused, TestClient(app):
        pass
    assert KEY_A not in str(refused.value) and KEY_B not in str(refused.value)


# -- floods --------------------------------------------------------------------------------


def _fresh_minute() -> None:
    """Start well inside a one-minute window, so a flood is counted in one window."""
    into = time.time() % 60
    if into > 45:
        time.sleep(60 - into + 0.1)


def test_a_flood_gets_429_after_the_limit(
    make_client: MakeClient, settings: Settings, redis_conn: redis.Redis
) -> None:
    client = make_client(api_keys=TWO_KEYS, max_intake_queue=0)
    _fresh_minute()
    codes = [
        client.post("/api/workflows", json={"image_url": URL}, headers=_auth(KEY_A))
        for _ in range(200)
    ]
    accepted = [r for r in codes if r.status_code == 202]
    limited = [r for r in codes if r.status_code == 429]
    assert len(accepted) == defaults.RATE_LIMIT_PER_MINUTE == 60
    assert len(limited) == 140
    assert [r.status_code for r in codes[:60]] == [202] * 60  # the limit, then 429s
    retry_after = int(limited[0].headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert len(_workflows(settings)) == 60 and _queued(redis_conn) == 60
    # Another key has a budget of its own.
    other = client.post("/api/workflows", json={"image_url": URL}, headers=_auth(KEY_B))
    assert other.status_code == 202


def test_a_full_recognition_queue_gets_429(
    make_client: MakeClient, redis_conn: redis.Redis
) -> None:
    client = make_client(max_intake_queue=3)
    for _ in range(3):
        assert client.post("/api/workflows", json={"image_url": URL}).status_code == 202
    response = client.post("/api/workflows", json={"image_url": URL})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert "queue is full" in response.json()["detail"]
    upload = client.post("/api/workflows", files={"file": ("a.png", image_bytes(), "image/png")})
    assert upload.status_code == 429
    assert _queued(redis_conn) == 3


# -- docs and logs -------------------------------------------------------------------------


def test_docs_can_be_switched_off(make_client: MakeClient) -> None:
    client = make_client(api_docs=False)
    for path in ("/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 404, path
    assert client.get("/healthz").status_code == 200


def test_access_log_lines_have_no_query_string() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/api/workflows/x?token=SECRET-VALUE", "1.1", 200),
        None,
    )
    assert QueryStringFilter().filter(record)
    assert "SECRET-VALUE" not in record.getMessage()
    assert "/api/workflows/x" in record.getMessage()
    assert any(
        isinstance(f, QueryStringFilter) for f in logging.getLogger("uvicorn.access").filters
    )


def test_status_json_and_logs_hold_no_secret(
    make_client: MakeClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = make_client(api_keys=TWO_KEYS)
    signed = f"{URL}?X-Amz-Signature=SIGNATURE-DISTINCTIVE&token=TOKEN-DISTINCTIVE"
    created = client.post("/api/workflows", json={"image_url": signed}, headers=_auth(KEY_A))
    assert created.status_code == 202
    status = client.get(created.json()["status_url"], headers=_auth(KEY_A)).text
    for secret in (KEY_A, KEY_B, "SIGNATURE-DISTINCTIVE", "TOKEN-DISTINCTIVE"):
        assert secret not in status
        assert secret not in caplog.text
    assert KEY_A not in _database_text(settings) and KEY_B not in _database_text(settings)


def test_regenerate_feedback_is_validated_like_every_field(
    client: TestClient, settings: Settings, redis_conn: redis.Redis
) -> None:
    from shelfready_core.errors import InvalidInput
    from shelfready_core.producer import regenerate

    created = client.post("/api/workflows", json={"image_url": URL})
    parent_id = created.json()["workflow_id"]
    with pytest.raises(InvalidInput, match=r"^feedback: "):
        regenerate(settings, redis_conn, parent_id, feedback="f" * 4001)
    child_id = regenerate(settings, redis_conn, parent_id, feedback="Shorter\x00 title\u202e")
    with session_scope(settings) as session:
        child = session.get(Workflow, child_id)
        assert child is not None and child.request is not None
        assert child.request["feedback"] == "Shorter title"
