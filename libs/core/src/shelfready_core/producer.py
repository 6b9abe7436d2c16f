"""Starting workflows: the Python entry point behind the CLI (and any web front end).

A local photo is uploaded to storage first, so a worker on another machine can read it; a
URL is checked here (an address we never fetch from is refused before anything is queued) and
fetched by the recognition worker through the same fetch guard. If creating the workflow fails
after an upload was stored, the upload is removed again.
"""

from __future__ import annotations

import logging
import mimetypes
import re
import uuid
from pathlib import Path

from pydantic import ValidationError
from redis import Redis
from sqlmodel import Session

from shelfready_core import defaults
from shelfready_core.config import Settings
from shelfready_core.db import session_scope
from shelfready_core.errors import InvalidInput, WorkflowNotFound
from shelfready_core.fetch_guard import check_url_before_queueing, policy_from_settings
from shelfready_core.models import Workflow, WorkflowStatus, utcnow
from shelfready_core.queues import STAGE_RUN, enqueue_stage_job, stage_declaring, stage_job_id
from shelfready_core.schemas import ListingRequest
from shelfready_core.stage import event
from shelfready_core.stages import pipeline
from shelfready_core.storage import Storage, workflow_key, workflow_prefix

log = logging.getLogger(__name__)

STORAGE_SOURCE_PREFIX = "storage:"
_URL_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
MAX_SOURCE_CHARS = 2048  # workflow.source
# The job kind a stage declares (`Stage.jobs`) to re-render one image of a finished set.
REGENERATE_IMAGE = "regenerate_image"


def url_scheme(source: str) -> str | None:
    """The lower-cased scheme when `source` is written as a URL (HTTP://, ftp://...)."""
    match = _URL_SCHEME.match(source.strip())
    return match.group(1).lower() if match else None


def safe_filename(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).name).strip("-.") or "photo"
    return stem[:120]


def submit(
    settings: Settings,
    redis: Redis,
    storage: Storage,
    source: str | Path,
    request: ListingRequest | None = None,
    *,
    owner: str | None = None,
) -> str:
    """Create a workflow for one photo (local path or http(s) URL) and enqueue recognition."""
    request = request or ListingRequest()
    workflow_id = str(uuid.uuid4())
    text = str(source)
    scheme = url_scheme(text) if isinstance(source, str) else None
    if scheme is not None:
        if scheme not in ("http", "https"):
            raise InvalidInput(f"photo URL scheme {scheme!r} is not supported: use http(s)://")
        text = text.strip()
        if len(text) > MAX_SOURCE_CHARS:
            raise InvalidInput(f"photo URL is over {MAX_SOURCE_CHARS} characters")
        check_url_before_queueing(text, policy_from_settings(settings))
        stored, name = text, safe_filename(text.split("?", 1)[0].rsplit("/", 1)[-1])
        return create_workflow(settings, redis, workflow_id, stored, name, request, owner=owner)
    path = Path(source)
    if not path.is_file():
        raise InvalidInput(f"{path} is not a file")
    if path.stat().st_size > defaults.MAX_DOWNLOAD_BYTES:
        raise InvalidInput(
            f"{path} is {path.stat().st_size} bytes; the limit is {defaults.MAX_DOWNLOAD_BYTES}"
        )
    name = safe_filename(path.name)
    key = workflow_key(workflow_id, 1, f"upload/{name}")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    storage.put(key, path.read_bytes(), content_type)
    stored = STORAGE_SOURCE_PREFIX + key
    return create_workflow_for_upload(
        settings, redis, storage, workflow_id, stored, name, request, owner=owner
    )


def create_workflow_for_upload(
    settings: Settings,
    redis: Redis,
    storage: Storage,
    workflow_id: str,
    source: str,
    source_name: str,
    request: ListingRequest,
    *,
    owner: str | None = None,
) -> str:
    """`create_workflow` for a photo already stored: if the workflow row cannot be written,
    the photo is removed, so no stored upload is left without a workflow. (Once the row is
    committed the photo stays: the reconciler enqueues a job whose enqueue failed.)"""
    try:
        job_id = insert_workflow(settings, workflow_id, source, source_name, request, owner=owner)
    except BaseException:
        removed = storage.delete_prefix(workflow_prefix(workflow_id))
        log.info("removed %d stored file(s) of uncreated workflow %s", removed, workflow_id)
        raise
    return _enqueue_new(redis, workflow_id, job_id, source_name)


def create_workflow(
    settings: Settings,
    redis: Redis,
    workflow_id: str,
    source: str,
    source_name: str,
    request: ListingRequest,
    *,
    parent: Workflow | None = None,
    owner: str | None = None,
) -> str:
    job_id = insert_workflow(
        settings, workflow_id, source, source_name, request, parent=parent, owner=owner
    )
    return _enqueue_new(redis, workflow_id, job_id, source_name)


def insert_workflow(
    settings: Settings,
    workflow_id: str,
    source: str,
    source_name: str,
    request: ListingRequest,
    *,
    parent: Workflow | None = None,
    owner: str | None = None,
) -> str:
    """Write the PENDING workflow row; returns the id of its first stage's job."""
    job_id = stage_job_id(pipeline().first, workflow_id)
    with session_scope(settings) as session:
        session.add(
            Workflow(
                id=workflow_id,
                source=source,
                source_name=source_name,
                brand=request.brand,
                category=request.category,
                marketplace=request.marketplace,
                market=request.market,
                language=request.language,
                request=request.model_dump(),
                job_id=job_id,
                version=parent.version + 1 if parent else 1,
                parent_id=parent.id if parent else None,
                owner=parent.owner if parent else owner,
            )
        )
    return job_id


def _enqueue_new(redis: Redis, workflow_id: str, job_id: str, source_name: str) -> str:
    # Committed first: if we die before enqueueing, the reconciler finds the job missing.
    try:
        enqueue_stage_job(redis, pipeline().first, STAGE_RUN, workflow_id, job_id=job_id)
    except Exception as exc:
        exc.workflow_id = workflow_id  # type: ignore[attr-defined]  # the caller can name it
        raise
    log.info("submitted workflow %s (%s)", workflow_id, source_name)
    return workflow_id


def get_workflow(session: Session, workflow_id: str, *, lock: bool = False) -> Workflow:
    """The workflow; `lock` holds its row (SELECT ... FOR UPDATE) until the transaction ends,
    for a change that must not interleave with a stage's hand-over."""
    workflow = session.get(Workflow, workflow_id, with_for_update=lock)
    if workflow is None:
        raise WorkflowNotFound(workflow_id)
    return workflow


def retry(settings: Settings, redis: Redis, workflow_id: str) -> str:
    """Resume a FAILED workflow from the step that failed, with a fresh retry budget."""
    with session_scope(settings) as session:
        workflow = get_workflow(session, workflow_id)
        if workflow.status != WorkflowStatus.FAILED:
            raise InvalidInput(
                f"workflow {workflow_id} is {workflow.status}; only FAILED workflows can be retried"
            )
        step = workflow.failed_step or workflow.current_step
        try:
            stage = pipeline(session).owner_of(step)
        except KeyError:
            raise InvalidInput(
                f"workflow {workflow_id} failed at {step}, which no deployed stage handles"
            ) from None
        service = stage.name
        job_id = stage_job_id(stage, workflow_id)
        workflow.status = WorkflowStatus.PROCESSING
        workflow.current_step = step
        workflow.error = None
        workflow.failed_step = None
        workflow.job_id = job_id
        workflow.updated_at = utcnow()
        session.add(event(workflow_id, service, "retry_requested", f"resuming at {step}"))
    enqueue_stage_job(redis, stage, STAGE_RUN, workflow_id, job_id=job_id)
    return service


def regenerate(
    settings: Settings, redis: Redis, workflow_id: str, *, feedback: str | None = None
) -> str:
    """A new version of a workflow's listing: same photo, the seller's feedback, parent linked."""
    with session_scope(settings) as session:
        parent = get_workflow(session, workflow_id)
        request = ListingRequest.model_validate(parent.request or {})
        if feedback:
            # Validated like every seller field: bounded, control and bidi characters removed.
            try:
                request = ListingRequest.model_validate(
                    {**request.model_dump(), "feedback": feedback}
                )
            except ValidationError as exc:
                raise InvalidInput(f"feedback: {exc.errors()[0]['msg']}") from exc
        session.expunge(parent)
    return create_workflow(
        settings,
        redis,
        str(uuid.uuid4()),
        parent.source,
        parent.source_name,
        request,
        parent=parent,
    )


def regenerate_image(settings: Settings, redis: Redis, workflow_id: str, index: int) -> None:
    """Re-render one image (1-5) of a COMPLETED workflow's set; the rest stay as they are."""
    if not 1 <= index <= 5:
        raise InvalidInput(f"image index {index} is out of range: images are numbered 1 to 5")
    stage = stage_declaring(REGENERATE_IMAGE)
    with session_scope(settings) as session:
        workflow = get_workflow(session, workflow_id)
        if workflow.status != WorkflowStatus.COMPLETED:
            raise InvalidInput(
                f"workflow {workflow_id} is {workflow.status}; images can be regenerated "
                "once it has COMPLETED"
            )
        session.add(
            event(workflow_id, stage.name, "image_regeneration_requested", f"image {index}")
        )
    # One job per image: asking again while it waits or runs does not queue a second.
    enqueue_stage_job(redis, stage, REGENERATE_IMAGE, workflow_id, index)
