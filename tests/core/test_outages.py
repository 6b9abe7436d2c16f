"""Which errors are outages, and how their reasons read: one sentence, never a traceback line
or a documentation link. The errors are real: a database and a Redis nobody listens on."""

from __future__ import annotations

import traceback

import pytest
import redis
from botocore.exceptions import ClientError, EndpointConnectionError
from pydantic import SecretStr
from sqlalchemy import create_engine, text

from shelfready_core.claude.errors import ClaudeCredentialRejected, ClaudeUnavailable
from shelfready_core.errors import StageError
from shelfready_core.outages import (
    format_duration,
    one_sentence,
    outage_of,
    reason_from_traceback,
)
from shelfready_core.stage import deferral_delay
from shelfready_core.storage import (
    S3Storage,
    StorageCredentialRejected,
    StorageError,
    StorageUnavailable,
)
from tests.integration.servers import free_port


def database_error() -> Exception:
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/gone")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return exc
    raise AssertionError("a database answered on a free port")


def redis_error() -> Exception:
    try:
        redis.Redis(port=free_port(), socket_connect_timeout=1).ping()
    except Exception as exc:
        return exc
    raise AssertionError("a Redis answered on a free port")


def test_an_unreachable_database_is_an_outage_told_in_one_sentence() -> None:
    exc = database_error()
    assert "sqlalche.me" in str(exc)  # what SQLAlchemy itself appends

    outage = outage_of(exc)
    assert outage is not None
    assert outage.cause == "the database was unreachable"
    assert outage.detail.startswith("connection failed: connection to server at")
    assert "sqlalche.me" not in outage.detail and "\n" not in outage.detail
    assert outage.outlasted(1800) == "the database was unreachable for 30 minutes"


def test_redis_storage_and_rejected_keys_are_outages_and_own_faults_are_not() -> None:
    assert outage_of(redis_error()).cause == "Redis was unreachable"  # type: ignore[union-attr]
    assert outage_of(StorageUnavailable("could not write")).cause == "storage was unreachable"  # type: ignore[union-attr]
    rejected = ClaudeCredentialRejected("HTTP 401: invalid x-api-key", status_code=401)
    assert outage_of(rejected).cause == "ANTHROPIC_API_KEY was rejected"  # type: ignore[union-attr]
    open_breaker = ClaudeUnavailable(
        "breaker open", retry_after_seconds=3, cause="ANTHROPIC_API_KEY was rejected"
    )
    assert outage_of(open_breaker).cause == "ANTHROPIC_API_KEY was rejected"  # type: ignore[union-attr]
    assert outage_of(ValueError("bad value")) is None
    assert outage_of(StageError("invalid answer")) is None
    try:
        raise StageError("saving failed") from database_error()
    except StageError as wrapped:
        assert outage_of(wrapped).cause == "the database was unreachable"  # type: ignore[union-attr]


def test_a_reason_read_from_a_traceback_is_the_exceptions_own_message() -> None:
    exc = database_error()
    formatted = "".join(traceback.format_exception(exc))
    assert formatted.rstrip().splitlines()[-1].startswith("(Background on this error at")

    reason, outage = reason_from_traceback(formatted)
    assert outage is True
    assert reason.startswith("OperationalError: connection failed: connection to server at")
    assert "sqlalche.me" not in reason and "(psycopg" not in reason

    try:
        int("twelve")
    except ValueError as fault:
        reason, outage = reason_from_traceback("".join(traceback.format_exception(fault)))
    assert (reason, outage) == (
        "ValueError: invalid literal for int() with base 10: 'twelve'",
        False,
    )


def test_one_sentence_keeps_the_first_line_only() -> None:
    assert one_sentence(RuntimeError("first line.\n  second line")) == "first line"
    assert one_sentence(RuntimeError("")) == "RuntimeError"


def test_deferrals_grow_from_5_s_doubling_to_a_minute() -> None:
    assert [deferral_delay(n) for n in range(1, 8)] == [5, 10, 20, 40, 60, 60, 60]
    assert deferral_delay(1, retry_after=12.2) == 13  # not before the breaker lets a call by
    assert deferral_delay(1, retry_after=600) == 60


def test_durations_read_as_people_say_them() -> None:
    assert format_duration(1800) == "30 minutes"
    assert format_duration(60) == "1 minute"
    assert format_duration(90) == "90 seconds"
    assert format_duration(1) == "1 second"


@pytest.fixture
def bucket() -> S3Storage:
    return S3Storage(
        bucket="shelfready",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        access_key=SecretStr("test-access-key-id"),
        secret_key=SecretStr("test-secret-access-key"),
    )


def test_an_unreachable_bucket_is_an_outage(bucket: S3Storage) -> None:
    with pytest.raises(StorageUnavailable, match=r"could not write 'a/b\.jpg'"):
        bucket._fail("write", "a/b.jpg", EndpointConnectionError(endpoint_url="http://x"))
    with pytest.raises(StorageUnavailable) as caught:  # the real client, nothing listening
        bucket.put("a/b.jpg", b"data", "image/jpeg")
    assert outage_of(caught.value).cause == "storage was unreachable"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("code", "status"), [("InvalidAccessKeyId", 403), ("SignatureDoesNotMatch", 403), ("", 401)]
)
def test_rejected_r2_credentials_are_a_configuration_outage(
    bucket: S3Storage, code: str, status: int
) -> None:
    error = ClientError(
        {
            "Error": {"Code": code, "Message": "The key is not valid"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "PutObject",
    )
    with pytest.raises(StorageCredentialRejected) as caught:
        bucket._fail("write", "a/b.jpg", error)
    assert caught.value.cause == "CLOUDFLARE_R2_ACCESS_KEY was rejected"
    assert "test-secret-access-key" not in str(caught.value)
    assert isinstance(caught.value, StorageError)  # callers catching storage errors still do


def test_other_bucket_errors_stay_the_jobs_own(bucket: S3Storage) -> None:
    error = ClientError(
        {"Error": {"Code": "InvalidArgument"}, "ResponseMetadata": {"HTTPStatusCode": 400}},
        "PutObject",
    )
    with pytest.raises(StorageError) as caught:
        bucket._fail("write", "a/b.jpg", error)
    assert outage_of(caught.value) is None
