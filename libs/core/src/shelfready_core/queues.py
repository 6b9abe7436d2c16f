"""The three stage queues: names, job options, and idempotent enqueueing.

Job functions are referenced by dotted path so the core never imports a service: each
service's image installs only its own code, and a worker resolves only its own queue's jobs.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from redis import Redis
from rq import Callback, Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from shelfready_core import defaults
from shelfready_core.models import WorkflowStep

log = logging.getLogger(__name__)

STAGE_FUNCTIONS = {
    "recognition": "shelfready_recognition.job.run",
    "listing": "shelfready_listing.job.run",
    "imagegen": "shelfready_imagegen.job.run",
}

# Which service moves a workflow out of each step.
STEP_SERVICE = {
    WorkflowStep.IMAGE_DOWNLOAD: "recognition",
    WorkflowStep.IMAGE_RECOGNITION: "recognition",
    WorkflowStep.LISTING_GENERATION: "listing",
    WorkflowStep.IMAGE_SET_GENERATION: "imagegen",
}
SERVICE_FIRST_STEP = {
    "recognition": WorkflowStep.IMAGE_DOWNLOAD,
    "listing": WorkflowStep.LISTING_GENERATION,
    "imagegen": WorkflowStep.IMAGE_SET_GENERATION,
}
STEP_ORDER = {step: position for position, step in enumerate(WorkflowStep)}

ALIVE_STATES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}

FAILURE_CALLBACK = "shelfready_core.stage.on_stage_failure"


def queue_for(service: str, connection: Redis) -> Queue:
    return Queue(defaults.QUEUE_POLICIES[service].name, connection=connection)


def stage_job_id(service: str, workflow_id: str, suffix: str = "") -> str:
    return f"{service}-{workflow_id}{suffix}"


def job_status(connection: Redis, job_id: str | None) -> JobStatus | None:
    """The RQ status of a job, or None when it does not exist (never enqueued or expired)."""
    if not job_id:
        return None
    try:
        return Job.fetch(job_id, connection=connection).get_status()
    except NoSuchJobError:
        return None


def enqueue_stage(
    connection: Redis,
    service: str,
    workflow_id: str,
    *,
    job_id: str | None = None,
    delay_seconds: float | None = None,
) -> Job:
    """Enqueue a stage job once: a live job with the same id is returned, not duplicated."""
    policy = defaults.QUEUE_POLICIES[service]
    job_id = job_id or stage_job_id(service, workflow_id)
    try:
        existing = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        existing = None
    if existing is not None:
        if existing.get_status() in ALIVE_STATES:
            return existing
        existing.delete()  # finished/failed/stopped: replace it with a fresh attempt budget

    options = dict(
        job_id=job_id,
        job_timeout=policy.timeout_seconds,
        result_ttl=defaults.RESULT_TTL_SECONDS,
        failure_ttl=defaults.FAILED_TTL_SECONDS,
        retry=Retry(max=policy.max_retries, interval=list(policy.retry_intervals)),
        on_failure=Callback(FAILURE_CALLBACK),
        description=f"{service} workflow {workflow_id}",
        meta={"service": service, "workflow_id": workflow_id},
    )
    queue = queue_for(service, connection)
    func = STAGE_FUNCTIONS[service]
    if delay_seconds:
        job = queue.enqueue_in(timedelta(seconds=delay_seconds), func, workflow_id, **options)
    else:
        job = queue.enqueue(func, workflow_id, **options)
    log.debug("enqueued %s for workflow %s as %s", service, workflow_id, job.id)
    return job


def enqueue_image_regeneration(connection: Redis, workflow_id: str, index: int) -> Job:
    """Regenerate one image of a finished set (same queue and limits as the image stage)."""
    policy = defaults.QUEUE_POLICIES["imagegen"]
    job_id = f"imagegen-{workflow_id}-image{index}"
    with contextlib.suppress(NoSuchJobError):  # a finished earlier request: start afresh
        Job.fetch(job_id, connection=connection).delete()
    return queue_for("imagegen", connection).enqueue(
        "shelfready_imagegen.job.run_single",
        workflow_id,
        index,
        job_id=job_id,
        job_timeout=policy.timeout_seconds,
        result_ttl=defaults.RESULT_TTL_SECONDS,
        failure_ttl=defaults.FAILED_TTL_SECONDS,
        retry=Retry(max=policy.max_retries, interval=list(policy.retry_intervals)),
        description=f"regenerate image {index} of workflow {workflow_id}",
        meta={"service": "imagegen", "workflow_id": workflow_id},
    )
