"""Turning API input into a workflow: a photo URL, or uploaded bytes stored first.

An upload is written to storage before the workflow row exists, under the same key layout
`producer.submit` uses for a local file, so the recognition worker reads both the same way.
"""

from __future__ import annotations

import logging
import uuid

from shelfready_api.deps import ApiState
from shelfready_core.producer import (
    STORAGE_SOURCE_PREFIX,
    create_workflow_for_upload,
    safe_filename,
    submit,
)
from shelfready_core.schemas import ListingRequest
from shelfready_core.storage import workflow_key

log = logging.getLogger(__name__)

UPLOAD_VERSION = 1  # a new workflow's first version


def start_from_url(
    state: ApiState, image_url: str, request: ListingRequest, owner: str | None = None
) -> str:
    """The recognition worker downloads the photo itself, through the fetch guard; a URL the
    guard refuses raises FetchRefused here, before anything is stored or queued."""
    return submit(state.settings, state.redis, state.storage, image_url, request, owner=owner)


def start_from_upload(
    state: ApiState,
    data: bytes,
    filename: str | None,
    content_type: str,
    request: ListingRequest,
    owner: str | None = None,
) -> str:
    workflow_id = str(uuid.uuid4())
    name = safe_filename(filename or "photo")
    key = workflow_key(workflow_id, UPLOAD_VERSION, f"upload/{name}")
    state.storage.put(key, data, content_type)
    log.info("stored upload %s (%d bytes) for workflow %s", name, len(data), workflow_id)
    return create_workflow_for_upload(
        state.settings,
        state.redis,
        state.storage,
        workflow_id,
        STORAGE_SOURCE_PREFIX + key,
        name,
        request,
        owner=owner,
    )
