"""The storage contract every backend meets, its errors, and the shared health probe."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol, runtime_checkable

from shelfready_core.errors import CredentialRejected

logger = logging.getLogger(__name__)

HEALTHCHECK_PREFIX = "_healthcheck/"


class StorageError(Exception):
    """Storage is unreachable, misconfigured or refused an operation."""


class StorageUnavailable(StorageError):
    """The storage endpoint could not be reached (or kept failing): an outage, not the job's
    fault; the stage defers the job until it answers again."""


class StorageCredentialRejected(StorageError, CredentialRejected):
    """The bucket refused our access key (HTTP 401/403): a configuration outage."""

    def __init__(self, message: str, credential: str) -> None:
        CredentialRejected.__init__(self, message, credential)


class StorageNotFound(StorageError, KeyError):
    """No object is stored under the key. Also a KeyError, so `except KeyError` works."""

    def __init__(self, key: str, where: str) -> None:
        super().__init__(f"no object stored under key {key!r} in {where}")
        self.key = key

    def __str__(self) -> str:
        # KeyError would show the repr of the message; show the message itself.
        return str(self.args[0])


@runtime_checkable
class Storage(Protocol):
    """Where images live. Keys are relative, '/'-separated and validated by both backends."""

    @property
    def description(self) -> str:
        """Where the objects go, for logs and `shelfready check`. Never contains a secret."""
        ...

    def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data` under `key` (replacing any previous object) and return its URL."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; raises StorageNotFound when there is none."""
        ...

    def exists(self, key: str) -> bool: ...

    def url(self, key: str) -> str:
        """The URL a browser or marketplace can fetch the object from."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object whose key starts with `prefix`; return how many were deleted."""
        ...

    def check(self) -> None:
        """Write, read back and delete a probe object; raise StorageError when that fails."""
        ...


def run_health_probe(storage: Storage) -> None:
    """Round-trip a small probe object under `_healthcheck/` through `storage`.

    The key is unique per call so concurrent checks (several workers starting) never delete
    each other's probe.
    """
    key = f"{HEALTHCHECK_PREFIX}{uuid.uuid4().hex}.txt"
    payload = f"shelfready storage probe {key}".encode()
    try:
        storage.put(key, payload, "text/plain")
        read_back = storage.get(key)
        deleted = storage.delete_prefix(key)
    except (StorageError, OSError) as exc:
        raise StorageError(f"storage check failed for {storage.description}: {exc}") from exc
    if read_back != payload:
        raise StorageError(
            f"storage check failed for {storage.description}: probe {key!r} read back "
            f"{len(read_back)} bytes that differ from the {len(payload)} bytes written"
        )
    if deleted != 1:
        raise StorageError(
            f"storage check failed for {storage.description}: deleting probe {key!r} "
            f"removed {deleted} objects instead of 1"
        )
    logger.info("Storage check passed for %s", storage.description)
