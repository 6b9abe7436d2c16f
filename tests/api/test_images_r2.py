"""Images in an R2 bucket (a local S3 server): the API redirects to a fresh presigned URL, and a
public bucket's URLs appear as they are in the status JSON and the export files."""

from __future__ import annotations

import csv
import io
import socket
import uuid
import zipfile
from collections.abc import Iterator

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from shelfready_core.config import Settings
from tests.api.conftest import MakeClient
from tests.api.seed import seed_completed


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _r2(settings: Settings, endpoint: str, public_url: str | None) -> dict[str, object]:
    bucket = f"shelfready-{uuid.uuid4().hex[:12]}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="admin",
        aws_secret_access_key="admin",
    ).create_bucket(Bucket=bucket)
    return {
        "cloudflare_r2_access_key": SecretStr("test-access"),
        "cloudflare_r2_secret_key": SecretStr("test-secret-value"),
        "cloudflare_r2_bucket": bucket,
        "cloudflare_r2_endpoint": endpoint,
        "cloudflare_r2_public_url": public_url,
    }


def test_private_bucket_images_redirect_to_a_presigned_url(
    make_client: MakeClient, settings: Settings, s3_endpoint: str
) -> None:
    overrides = _r2(settings, s3_endpoint, None)
    workflow_id = seed_completed(settings.model_copy(update=overrides))
    client = make_client(**overrides)
    data = client.get(f"/api/workflows/{workflow_id}").json()
    url = data["images"]["items"][0]["url"]
    assert url == f"/api/workflows/{workflow_id}/images/1"  # presigned URLs expire: not shown
    redirect = client.get(url, follow_redirects=False)
    assert redirect.status_code == 307
    assert "X-Amz-Signature" in redirect.headers["location"]
    assert "test-secret-value" not in redirect.headers["location"]
    assert httpx.get(redirect.headers["location"]).content[:2] == b"\xff\xd8"


def test_public_bucket_urls_are_shown_and_exported(
    make_client: MakeClient, settings: Settings, s3_endpoint: str
) -> None:
    public = "https://images.example.com"
    overrides = _r2(settings, s3_endpoint, public)
    workflow_id = seed_completed(settings.model_copy(update=overrides), sku="PUB-1")
    client = make_client(**overrides)
    items = client.get(f"/api/workflows/{workflow_id}").json()["images"]["items"]
    assert items[0]["url"].startswith(public + "/workflows/")
    assert client.post(f"/api/workflows/{workflow_id}/approve").status_code == 200
    response = client.get(f"/api/workflows/{workflow_id}/export")
    with zipfile.ZipFile(io.BytesIO(response.content)) as pack:
        text = pack.read("amazon-listings.txt").decode()
    row = next(csv.DictReader(io.StringIO(text), delimiter="\t"))
    assert row["main_image_url"] == items[0]["url"]
    assert [row[f"other_image_url{n}"] for n in range(1, 5)] == [i["url"] for i in items[1:]]
