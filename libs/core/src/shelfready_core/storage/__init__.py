"""Where images live: a local folder or an S3-compatible bucket (Cloudflare R2), one contract.

All services build keys with `workflow_key` so they agree on the layout.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from shelfready_core.config import Settings
from shelfready_core.storage.base import (
    HEALTHCHECK_PREFIX,
    Storage,
    StorageCredentialRejected,
    StorageError,
    StorageNotFound,
    StorageUnavailable,
    run_health_probe,
)
from shelfready_core.storage.keys import (
    validate_key,
    validate_prefix,
    workflow_key,
    workflow_prefix,
)
from shelfready_core.storage.local import LocalStorage

if TYPE_CHECKING:
    from shelfready_core.storage.s3 import S3Storage

logger = logging.getLogger(__name__)

__all__ = [
    "HEALTHCHECK_PREFIX",
    "LocalStorage",
    "S3Storage",
    "Storage",
    "StorageCredentialRejected",
    "StorageError",
    "StorageNotFound",
    "StorageUnavailable",
    "get_storage",
    "run_health_probe",
    "validate_key",
    "validate_prefix",
    "workflow_key",
    "workflow_prefix",
]


def __getattr__(name: str) -> Any:
    # boto3 costs a second of start-up: imported only when R2 is used.
    if name == "S3Storage":
        from shelfready_core.storage.s3 import S3Storage

        return S3Storage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_storage(settings: Settings) -> Storage:
    """R2 when all four CLOUDFLARE_R2_* settings are present, else the local storage folder."""
    storage: Storage
    if settings.uses_r2:
        from shelfready_core.storage.s3 import S3Storage

        storage = S3Storage.from_settings(settings)
    else:
        storage = LocalStorage(settings.storage_dir)
    logger.info("Storage: %s", storage.description)
    return storage
