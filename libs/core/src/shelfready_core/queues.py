"""Stage queues: job ids, job options and atomic, idempotent enqueueing.

Everything comes from the stage declarations (`stages.pipeline()`): a stage's queue, its job's
dotted path, its extra job kinds (`Stage.jobs`) and its retry policy. Job functions are named
by dotted path, so core never imports a service and a worker resolves only its own jobs.

Enqueueing is atomic: RQ's `unique=True` creates the job only if no job with its id exists
(one Lua script), so producers racing for one workflow make one job. A job that has ended
(finished, failed, stopped) is replaced in one transaction watched on its key: two racing
replacements cannot both succeed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from redis import Redis, WatchError
from rq import Callback, Queue, Retry
from rq.exceptions import DuplicateJobError, NoSuchJobError
from rq.job import Job, JobStatus

from shelfready_core import defaults
from shelfready_core.stages import Stage, pipeline

log = logging.getLogger(__name__)

# The kind of a stage's own job (`Stage.job`), the one that moves a workflow through its steps.
STAGE_RUN = "run"

ALIVE_STATES = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.SCHEDULED, JobStatus.DEFERRED}

FAILURE_CALLBACK = "shelfready_core.stage.on_stage_failure"
# Races lost in a row before giving up; each loss means another producer just wrote the job.
MAX_ENQUEUE_ATTEMPTS = 20


def _stage(stage: Stage | str) -> Stage:
    return stage if isinstance(stage, Stage) else pipeline().get(stage)


def stage_declaring(kind: str) -> Stage:
    """The stage whose queue runs jobs of `kind` (a name in some stage's `jobs`)."""
    for stage in pipeline():
        if kind in stage.jobs:
            return stage
    raise KeyError(f"no installed or registered stage declares a {kind!r} job")


def job_path(stage: Stage, kind: str = STAGE_RUN) -> str:
    """The dotted path of the function that runs `kind` jobs of `stage`."""
    if kind == STAGE_RUN:
        return stage.job
    try:
        return stage.jobs[kind]
    except KeyError:
        raise KeyError(f"stage {stage.name!r} declares no {kind!r} job") from None


def queue_for(stage: Stage | str, connection: Redis) -> Queue:
    return Queue(_stage(stage).queue.name, connection=connection)


def stage_job_id(stage: Stage | str, workflow_id: str, kind: str = STAGE_RUN, *args: Any) -> str:
    """One id per piece of work: a second request for it finds the first job."""
    name = stage.name if isinstance(stage, Stage) else stage
    if kind == STAGE_RUN:
        return f"{name}-{workflow_id}"
    return "-".join([name, workflow_id, kind, *(str(arg) for arg in args)])


def job_status(connection: Redis, job_id: str | None) -> JobStatus | None:
    """The RQ status of a job, or None when it does not exist (never enqueued or expired)."""
    if not job_id:
        return None
    try:
        return Job.fetch(job_id, connection=connection).get_status()
    except NoSuchJobError:
        return None


def enqueue_stage_job(
    connection: Redis,
    stage: Stage | str,
    kind: str,
    workflow_id: str,
    *args: Any,
    job_id: str | None = None,
    delay_seconds: float | None = None,
    description: str | None = None,
) -> Job:
    """Enqueue one `kind` job of `stage` for a workflow, once: a live job with the same id is
    returned as it is; an ended one is replaced by a fresh job with a fresh retry budget."""
    stage = _stage(stage)
    job_id = job_id or stage_job_id(stage, workflow_id, kind, *args)
    policy = stage.queue
    options: dict[str, Any] = dict(
        job_id=job_id,
        job_timeout=policy.timeout_seconds,
        result_ttl=defaults.RESULT_TTL_SECONDS,
        failure_ttl=defaults.FAILED_TTL_SECONDS,
        retry=Retry(max=policy.max_retries, interval=list(policy.retry_intervals)),
        on_failure=Callback(FAILURE_CALLBACK),
        description=description or f"{stage.name} {kind} workflow {workflow_id}",
        meta={"service": stage.name, "kind": kind, "workflow_id": workflow_id},
    )
    queue = queue_for(stage, connection)
    func = job_path(stage, kind)

    def put(**extra: Any) -> Job:
        if delay_seconds:
            delay = timedelta(seconds=delay_seconds)
            return queue.enqueue_in(delay, func, workflow_id, *args, **options, **extra)
        return queue.enqueue(func, workflow_id, *args, **options, **extra)

    for _ in range(MAX_ENQUEUE_ATTEMPTS):
        try:
            job = put(unique=True)
        except DuplicateJobError:
            existing = _replace_if_ended(connection, job_id, put)
            if existing is None:
                continue  # it vanished or another producer replaced it first: look again
            return existing
        log.debug("enqueued %s %s for workflow %s as %s", stage.name, kind, workflow_id, job.id)
        return job
    raise RuntimeError(f"could not enqueue job {job_id}: it kept changing under us")


def _replace_if_ended(connection: Redis, job_id: str, put: Callable[..., Job]) -> Job | None:
    """The live job with this id; or, if it has ended, a new job in its place (deleted and
    enqueued in one MULTI watched on the job's key). None: the key changed meanwhile."""
    key = Job.key_for(job_id)
    with connection.pipeline() as pipe:
        try:
            pipe.watch(key)
            try:
                existing: Job | None = Job.fetch(job_id, connection=connection)
            except NoSuchJobError:
                return None
            except Exception as exc:  # a half-written record (Redis lost part of it)
                log.debug("replacing unreadable job %s: %s", job_id, exc)
                existing = None
            if existing is not None and existing.get_status() in ALIVE_STATES:
                return existing
            pipe.multi()
            if existing is not None:
                existing.delete(pipeline=pipe)
            else:
                pipe.delete(key)
            job = put(pipeline=pipe)
            pipe.execute()
        except WatchError:
            return None
    log.debug("replaced ended job %s", job_id)
    return job
