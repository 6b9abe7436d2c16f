"""Storage backends: a local folder, and S3 against a real local S3 server (moto)."""

from __future__ import annotations

import os
import socket
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from moto.server import ThreadedMotoServer
from pydantic import SecretStr

from shelfready_core.config import Settings
from shelfready_core.storage import (
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    StorageNotFound,
    get_storage,
    validate_prefix,
    workflow_key,
    workflow_prefix,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

ACCESS_KEY = "test-access-key-shelfready-01"
SECRET_KEY = "s3cr3t-Do-Not-Leak-7f9c2a"
BAD_KEYS = [
    "",
    "/etc/passwd",
    "../outside.jpg",
    "a/../../outside.jpg",
    "a/./b.jpg",
    "a//b.jpg",
    "a/b/",
    "a\\..\\b.jpg",
    "a/b\x00.jpg",
]


# ---------------------------------------------------------------- keys


def test_workflow_key_layout() -> None:
    assert workflow_key("wf-123", 2, "original.jpg") == "workflows/wf-123/v2/original.jpg"
    assert workflow_key("wf-123", 1, "images/1-main.jpg") == "workflows/wf-123/v1/images/1-main.jpg"
    assert workflow_prefix("wf-123") == "workflows/wf-123/"
    assert workflow_prefix("wf-123", 3) == "workflows/wf-123/v3/"


@pytest.mark.parametrize(
    ("workflow_id", "version", "name"),
    [
        ("", 1, "a.jpg"),
        ("a/b", 1, "a.jpg"),
        ("..", 1, "a.jpg"),
        ("wf", -1, "a.jpg"),
        ("wf", True, "a.jpg"),
        ("wf", 1, "../a.jpg"),
        ("wf", 1, "/a.jpg"),
        ("wf", 1, ""),
    ],
)
def test_workflow_key_rejects_bad_parts(workflow_id: str, version: int, name: str) -> None:
    with pytest.raises(ValueError, match="invalid"):
        workflow_key(workflow_id, version, name)


def test_prefix_may_end_with_slash_but_not_escape() -> None:
    assert validate_prefix("workflows/wf/") == "workflows/wf/"
    for bad in ("", "/", "../", "a//", "/a/"):
        with pytest.raises(ValueError, match="invalid storage prefix"):
            validate_prefix(bad)


# ---------------------------------------------------------------- local folder


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "storage")


def test_local_round_trip(local: LocalStorage) -> None:
    assert isinstance(local, Storage)
    url = local.put("workflows/wf/v1/original.jpg", b"\xff\xd8jpeg", "image/jpeg")
    path = local.root / "workflows" / "wf" / "v1" / "original.jpg"
    assert url == path.as_uri() == local.url("workflows/wf/v1/original.jpg")
    assert path.read_bytes() == b"\xff\xd8jpeg"
    assert local.get("workflows/wf/v1/original.jpg") == b"\xff\xd8jpeg"
    assert local.exists("workflows/wf/v1/original.jpg")
    assert not local.exists("workflows/wf/v1/other.jpg")
    assert not local.exists("workflows/wf")  # a folder is not an object
    assert "local folder" in local.description


def test_local_public_base_url(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path, public_base_url="https://cdn.example.com/media")
    url = storage.put("workflows/wf/v1/a b.jpg", b"x", "image/jpeg")
    assert url == "https://cdn.example.com/media/workflows/wf/v1/a%20b.jpg"


def test_local_overwrite_is_idempotent(local: LocalStorage) -> None:
    first = local.put("k/a.jpg", b"one", "image/jpeg")
    second = local.put("k/a.jpg", b"two", "image/jpeg")
    third = local.put("k/a.jpg", b"two", "image/jpeg")
    assert first == second == third
    assert local.get("k/a.jpg") == b"two"
    assert sorted(p.name for p in (local.root / "k").iterdir()) == ["a.jpg"]  # no temp files


def test_local_failed_write_keeps_old_file_and_leaves_no_temp(
    local: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    local.put("k/a.jpg", b"old", "image/jpeg")

    def crash(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        local.put("k/a.jpg", b"new-but-never-complete", "image/jpeg")
    monkeypatch.undo()
    assert local.get("k/a.jpg") == b"old"
    assert [p.name for p in (local.root / "k").iterdir()] == ["a.jpg"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_local_rejects_keys_that_escape_the_root(local: LocalStorage, key: str) -> None:
    with pytest.raises(ValueError, match="invalid storage key") as info:
        local.put(key, b"x", "image/jpeg")
    assert repr(key) in str(info.value)
    for method in (local.get, local.exists, local.url):
        with pytest.raises(ValueError):
            method(key)
    assert not (local.root.parent / "outside.jpg").exists()


def test_local_not_found_names_the_key(local: LocalStorage) -> None:
    with pytest.raises(StorageNotFound, match=r"workflows/missing\.jpg") as info:
        local.get("workflows/missing.jpg")
    assert info.value.key == "workflows/missing.jpg"
    assert isinstance(info.value, KeyError)
    local.put("workflows/wf/a.jpg", b"x", "image/jpeg")
    with pytest.raises(KeyError):
        local.get("workflows/wf")  # a folder


def test_local_delete_prefix(local: LocalStorage) -> None:
    for key in (
        "workflows/wf/v1/original.jpg",
        "workflows/wf/v1/images/1-main.jpg",
        "workflows/wf/v2/images/1-main.jpg",
        "workflows/wf2/v1/original.jpg",
    ):
        local.put(key, b"x", "image/jpeg")
    assert local.delete_prefix("workflows/wf/v1/") == 2
    assert not (local.root / "workflows" / "wf" / "v1").exists()  # emptied folders go too
    assert local.exists("workflows/wf/v2/images/1-main.jpg")
    # A string prefix, as on S3: "workflows/wf" also covers "workflows/wf2".
    assert local.delete_prefix("workflows/wf") == 2
    assert local.delete_prefix("workflows/") == 0
    assert local.delete_prefix("nothing/here/") == 0
    assert local.root.is_dir()


def test_local_check(local: LocalStorage) -> None:
    local.check()
    assert not any((local.root / "_healthcheck").glob("*"))


def test_local_check_fails_clearly_when_folder_is_unwritable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the storage folder should be")
    storage = LocalStorage(blocker)
    with pytest.raises(StorageError, match="storage check failed for local folder"):
        storage.check()


# ---------------------------------------------------------------- S3 (moto server)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def admin_client(s3_endpoint: str) -> S3Client:
    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        region_name="us-east-1",
        aws_access_key_id="admin",
        aws_secret_access_key="admin",
    )


@pytest.fixture
def bucket(admin_client: S3Client) -> str:
    name = f"shelfready-{uuid.uuid4().hex[:12]}"
    admin_client.create_bucket(Bucket=name)
    return name


def _s3(endpoint: str, bucket: str, public_url: str | None = None) -> S3Storage:
    return S3Storage(
        bucket=bucket,
        endpoint_url=endpoint,
        access_key=SecretStr(ACCESS_KEY),
        secret_key=SecretStr(SECRET_KEY),
        public_url=public_url,
    )


def test_s3_round_trip_with_presigned_url(
    s3_endpoint: str, bucket: str, admin_client: S3Client
) -> None:
    storage = _s3(s3_endpoint, bucket)
    assert isinstance(storage, Storage)
    key = workflow_key("wf", 1, "images/1-main.jpg")
    url = storage.put(key, b"\xff\xd8image", "image/jpeg")
    assert storage.get(key) == b"\xff\xd8image"
    assert storage.exists(key)
    assert not storage.exists(workflow_key("wf", 1, "images/2-other.jpg"))

    head = admin_client.head_object(Bucket=bucket, Key=key)
    assert head["ContentType"] == "image/jpeg"
    assert "max-age=" in head["CacheControl"]

    # Presigned for 7 days, and actually fetchable without credentials.
    assert "X-Amz-Expires=604800" in url
    assert SECRET_KEY not in url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"\xff\xd8image"


def test_s3_overwrite_is_idempotent(s3_endpoint: str, bucket: str, admin_client: S3Client) -> None:
    storage = _s3(s3_endpoint, bucket)
    storage.put("k/a.json", b"one", "application/json")
    storage.put("k/a.json", b"two", "application/json")
    storage.put("k/a.json", b"two", "application/json")
    assert storage.get("k/a.json") == b"two"
    listed = admin_client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [item["Key"] for item in listed] == ["k/a.json"]
    assert admin_client.head_object(Bucket=bucket, Key="k/a.json")["ContentType"] == (
        "application/json"
    )


def test_s3_public_url(s3_endpoint: str, bucket: str) -> None:
    storage = _s3(s3_endpoint, bucket, public_url="https://img.example.com/")
    url = storage.put("workflows/wf/v1/original.jpg", b"x", "image/jpeg")
    assert url == "https://img.example.com/workflows/wf/v1/original.jpg"
    assert storage.url("workflows/wf/v1/original.jpg") == url


def test_s3_not_found_and_bad_keys(s3_endpoint: str, bucket: str) -> None:
    storage = _s3(s3_endpoint, bucket)
    with pytest.raises(StorageNotFound, match=r"workflows/missing\.jpg") as info:
        storage.get("workflows/missing.jpg")
    assert isinstance(info.value, KeyError)
    for key in BAD_KEYS:
        with pytest.raises(ValueError, match="invalid storage key"):
            storage.put(key, b"x", "image/jpeg")


def test_s3_delete_prefix(s3_endpoint: str, bucket: str, admin_client: S3Client) -> None:
    storage = _s3(s3_endpoint, bucket)
    for index in range(5):
        storage.put(workflow_key("wf", 1, f"images/{index}.jpg"), b"x", "image/jpeg")
    storage.put(workflow_key("wf", 2, "original.jpg"), b"x", "image/jpeg")
    storage.put(workflow_key("other", 1, "original.jpg"), b"x", "image/jpeg")

    assert storage.delete_prefix(workflow_prefix("wf", 1)) == 5
    assert storage.delete_prefix(workflow_prefix("wf", 1)) == 0
    remaining = [item["Key"] for item in admin_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(remaining) == ["workflows/other/v1/original.jpg", "workflows/wf/v2/original.jpg"]


def test_s3_check(s3_endpoint: str, bucket: str, admin_client: S3Client) -> None:
    storage = _s3(s3_endpoint, bucket)
    storage.check()
    assert admin_client.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_s3_never_shows_the_secret(s3_endpoint: str) -> None:
    storage = _s3(s3_endpoint, f"missing-{uuid.uuid4().hex[:8]}")
    shown = [repr(storage), str(storage), storage.description]
    assert "missing-" in storage.description and s3_endpoint in storage.description
    with pytest.raises(StorageError, match="storage check failed for R2 bucket missing-") as check:
        storage.check()
    with pytest.raises(StorageError, match="NoSuchBucket") as put:
        storage.put("a.jpg", b"x", "image/jpeg")
    with pytest.raises(StorageError) as delete:
        storage.delete_prefix("a/")
    shown += [str(check.value), repr(check.value), str(put.value), str(delete.value)]
    for text in shown:
        assert SECRET_KEY not in text
        assert ACCESS_KEY not in text


# ---------------------------------------------------------------- get_storage

R2_ENV = {
    "CLOUDFLARE_R2_ACCESS_KEY": ACCESS_KEY,
    "CLOUDFLARE_R2_SECRET_KEY": SECRET_KEY,
    "CLOUDFLARE_R2_BUCKET": "shelfready-images",
    "CLOUDFLARE_R2_ENDPOINT": "https://account.r2.cloudflarestorage.com",
}


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for name in (*R2_ENV, "CLOUDFLARE_R2_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHELFREADY_STORAGE_DIR", str(tmp_path / "local"))
    return monkeypatch


def test_get_storage_uses_r2_when_all_four_settings_are_set(clean_env: pytest.MonkeyPatch) -> None:
    for name, value in R2_ENV.items():
        clean_env.setenv(name, value)
    clean_env.setenv("CLOUDFLARE_R2_PUBLIC_URL", "https://img.example.com")
    storage = get_storage(Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(storage, S3Storage)
    assert storage.bucket == "shelfready-images"
    assert storage.url("a.jpg") == "https://img.example.com/a.jpg"
    assert SECRET_KEY not in repr(storage)


@pytest.mark.parametrize("missing", list(R2_ENV))
def test_get_storage_falls_back_to_local_when_one_is_missing(
    clean_env: pytest.MonkeyPatch, tmp_path: Path, missing: str
) -> None:
    for name, value in R2_ENV.items():
        if name != missing:
            clean_env.setenv(name, value)
    storage = get_storage(Settings(_env_file=None))  # type: ignore[call-arg]
    assert isinstance(storage, LocalStorage)
    assert storage.root == (tmp_path / "local").resolve()
