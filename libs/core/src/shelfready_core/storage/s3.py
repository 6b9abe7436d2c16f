"""Storage in an S3-compatible bucket: Cloudflare R2 in production (any S3 API works)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from pydantic import SecretStr

from shelfready_core.storage.base import (
    StorageCredentialRejected,
    StorageError,
    StorageNotFound,
    StorageUnavailable,
    run_health_probe,
)
from shelfready_core.storage.keys import validate_key, validate_prefix
from shelfready_core.url_masking import mask_url

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

    from shelfready_core.config import Settings

logger = logging.getLogger(__name__)

# SigV4 presigned URLs cannot live longer than 7 days.
PRESIGNED_URL_SECONDS = 7 * 24 * 3600
# Keys are rewritten only by retries of the same workflow version, so images can be cached
# for long; a new version gets new keys. Anything else (probes, JSON) is revalidated.
IMAGE_CACHE_CONTROL = "public, max-age=31536000"
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 60
MAX_ATTEMPTS = 3
# How S3 (and R2) say "no such key": GetObject names it, HeadObject only has the status.
_NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
# How S3 (and R2) say "this key is not accepted": a configuration outage, not the job's fault.
_REJECTED_CODES = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "Unauthorized"}
)
REJECTED_CREDENTIAL = "CLOUDFLARE_R2_ACCESS_KEY"


def _client_config() -> Config:
    return Config(
        signature_version="s3v4",
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        # Path-style works on R2 and on any endpoint, including an IP address.
        s3={"addressing_style": "path"},
        # Checksums only where the API requires them: not every S3-compatible store
        # supports the newer default CRC checksums.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )


class S3Storage:
    """Objects in one bucket. URLs are public (when `public_url` is set) or presigned."""

    def __init__(
        self,
        bucket: str,
        endpoint_url: str,
        access_key: SecretStr,
        secret_key: SecretStr,
        public_url: str | None = None,
        region_name: str = "auto",
    ) -> None:
        if not bucket:
            raise ValueError("S3 storage needs a bucket name")
        if not endpoint_url:
            raise ValueError("S3 storage needs an endpoint URL")
        self._bucket = bucket
        self._endpoint_url = endpoint_url
        self._public_url = public_url.rstrip("/") + "/" if public_url else None
        self._region_name = region_name
        # Kept only to scrub them out of messages; boto3 holds its own copy for signing.
        self._secrets = (access_key.get_secret_value(), secret_key.get_secret_value())
        self._client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region_name,
            aws_access_key_id=access_key.get_secret_value(),
            aws_secret_access_key=secret_key.get_secret_value(),
            config=_client_config(),
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> S3Storage:
        """The R2 bucket described by the CLOUDFLARE_R2_* settings (all four are required)."""
        access_key = settings.cloudflare_r2_access_key
        secret_key = settings.cloudflare_r2_secret_key
        bucket = settings.cloudflare_r2_bucket
        endpoint = settings.cloudflare_r2_endpoint
        if access_key is None or secret_key is None or not bucket or not endpoint:
            raise ValueError(
                "R2 storage needs CLOUDFLARE_R2_ACCESS_KEY, CLOUDFLARE_R2_SECRET_KEY, "
                "CLOUDFLARE_R2_BUCKET and CLOUDFLARE_R2_ENDPOINT"
            )
        return cls(
            bucket=bucket,
            endpoint_url=endpoint,
            access_key=access_key,
            secret_key=secret_key,
            public_url=settings.cloudflare_r2_public_url,
        )

    @property
    def bucket(self) -> str:
        return self._bucket

    @property
    def description(self) -> str:
        return f"R2 bucket {self._bucket} at {mask_url(self._endpoint_url or '')}"

    def __repr__(self) -> str:
        return (
            f"S3Storage(bucket={self._bucket!r}, endpoint_url={self._endpoint_url!r}, "
            f"public_url={self._public_url!r}, region_name={self._region_name!r})"
        )

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "**********")
        return text

    def _fail(self, action: str, key: str, exc: Exception) -> NoReturn:
        """Raise StorageNotFound for a missing key; StorageUnavailable when the endpoint cannot
        be reached or keeps failing, StorageCredentialRejected when it refuses our key (both
        outages: the job waits); else StorageError naming what failed."""
        error_class: type[StorageError] = StorageError
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in _NOT_FOUND_CODES:
                raise StorageNotFound(key, self.description) from None
            detail = f"{code}: {error.get('Message') or exc}"
            if code in _REJECTED_CODES or status in (401, 403):
                message = self._scrub(f"could not {action} {key!r} in {self.description}: {detail}")
                raise StorageCredentialRejected(message, REJECTED_CREDENTIAL) from None
            if status >= 500:
                error_class = StorageUnavailable
        else:
            detail = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, BotoConnectionError | HTTPClientError):
                error_class = StorageUnavailable
        raise error_class(
            self._scrub(f"could not {action} {key!r} in {self.description}: {detail}")
        )

    def put(self, key: str, data: bytes, content_type: str) -> str:
        validate_key(key)
        cache_control = IMAGE_CACHE_CONTROL if content_type.startswith("image/") else "no-cache"
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=data,
                ContentType=content_type,
                CacheControl=cache_control,
            )
        except (ClientError, BotoCoreError) as exc:
            self._fail("write", key, exc)
        logger.debug(
            "Stored %s (%d bytes, %s) in bucket %s", key, len(data), content_type, self._bucket
        )
        return self.url(key)

    def get(self, key: str) -> bytes:
        validate_key(key)
        try:
            response = self._client.get_object(Bucket=self._bucket, Key=key)
            return response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            self._fail("read", key, exc)

    def exists(self, key: str) -> bool:
        validate_key(key)
        try:
            self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in _NOT_FOUND_CODES:
                return False
            self._fail("look up", key, exc)
        except BotoCoreError as exc:
            self._fail("look up", key, exc)
        return True

    def url(self, key: str) -> str:
        validate_key(key)
        if self._public_url:
            return self._public_url + quote(key)
        try:
            return self._client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self._bucket, "Key": key},
                ExpiresIn=PRESIGNED_URL_SECONDS,
            )
        except (ClientError, BotoCoreError) as exc:
            self._fail("sign a URL for", key, exc)

    def delete_prefix(self, prefix: str) -> int:
        validate_prefix(prefix)
        deleted = 0
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self._bucket, Prefix=prefix
            )
            # A listing page holds at most 1000 keys, exactly what one DeleteObjects takes.
            for page in pages:
                keys: list[ObjectIdentifierTypeDef] = [
                    {"Key": item["Key"]} for item in page.get("Contents", [])
                ]
                if not keys:
                    continue
                response = self._client.delete_objects(
                    Bucket=self._bucket, Delete={"Objects": keys, "Quiet": True}
                )
                errors = response.get("Errors", [])
                deleted += len(keys) - len(errors)
                if errors:
                    first = errors[0]
                    raise StorageError(
                        self._scrub(
                            f"could not delete {len(errors)} of {len(keys)} objects under "
                            f"{prefix!r} in {self.description}, e.g. {first.get('Key')!r}: "
                            f"{first.get('Code')}: {first.get('Message')}"
                        )
                    )
        except (ClientError, BotoCoreError) as exc:
            self._fail("delete objects under", prefix, exc)
        logger.debug("Deleted %d objects under %s in bucket %s", deleted, prefix, self._bucket)
        return deleted

    def check(self) -> None:
        run_health_probe(self)
