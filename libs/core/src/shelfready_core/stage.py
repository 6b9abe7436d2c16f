"""The lifecycle every stage job shares: claim, run, finish or fail, never duplicate.

A stage saves its results and finishes (`ctx.finish`) in ONE transaction: the workflow moves
to the next stage of `pipeline()` (or completes after the last), and the next job is enqueued
under a deterministic id once that commits. If the process dies between the two, the
reconciler sees a workflow whose job does not exist and enqueues it (see reconcile.py).

A stage's further job kinds (`Stage.jobs`, e.g. regenerating one image) run under the same
lifecycle on a COMPLETED workflow: claimed, deferred through outages, retried, their failure
recorded as an event of the workflow, which stays COMPLETED.

An outage (outages.py: the database, Redis or storage away, a key rejected) raised anywhere in
the job is not the job's fault: the job returns an RQ `Retry`, which re-schedules this same job
after 5, 10, 20 ... 60 s without touching its retry budget, until the workflow's outage budget
is spent. Whatever could not be written meanwhile waits in the job's meta (journal.py).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from redis import Redis
from rq import Retry, get_current_job
from rq.exceptions import AbandonedJobError
from rq.job import Job
from rq.timeouts import JobTimeoutException
from sqlmodel import Session, col, update

from shelfready_core import defaults, journal
from shelfready_core.claude.breaker import make_breaker
from shelfready_core.config import Settings, get_settings
from shelfready_core.db import session_scope
from shelfready_core.errors import (
    CredentialRejected,
    InvalidInput,
    NotRetryable,
    OutageOutlasted,
    ReadableStageError,
)
from shelfready_core.metrics import (
    count_deferral,
    count_failure,
    count_retry,
    count_usage,
    observed_stage,
)
from shelfready_core.models import (
    ApiUsage,
    EventKind,
    Workflow,
    WorkflowEvent,
    WorkflowStatus,
    utcnow,
)
from shelfready_core.outages import Outage, format_duration, one_sentence, outage_of
from shelfready_core.queues import STAGE_RUN, enqueue_stage_job, stage_job_id
from shelfready_core.redis_conn import get_redis
from shelfready_core.schemas import CallUsage
from shelfready_core.stages import QueuePolicy, Stage, pipeline
from shelfready_core.storage import Storage, StorageCredentialRejected, get_storage

log = logging.getLogger(__name__)

TERMINAL = {WorkflowStatus.COMPLETED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED}
# Job meta: the current outage of this job, {"since": epoch seconds, "deferrals": n}.
OUTAGE_META = "outage"
# Job meta: how its last attempt failed, {"reason": ..., "outage": bool}, for the reconciler.
FAILURE_META = "failure"
# Retry.max of a deferral: the outage budget, not a count, decides when deferring stops.
DEFER_WITHOUT_LIMIT = 10**9
# Breaker that carries a storage credential rejection to the health check.
STORAGE_BREAKER = "storage"
# A workflow's progress once its last stage has finished.
PROGRESS_DONE = 100


@dataclass
class StageContext:
    """What a stage body needs: settings, connections, and helpers to record progress."""

    stage: Stage
    workflow_id: str
    settings: Settings
    redis: Redis
    kind: str = STAGE_RUN  # the stage's own job, or one of its `Stage.jobs`
    _after_commit: list[Callable[[], Any]] = field(default_factory=list)
    # Paid calls added to a session that has not committed yet.
    _unsaved_usage: list[CallUsage] = field(default_factory=list)

    @property
    def service(self) -> str:
        return self.stage.name

    @cached_property
    def storage(self) -> Storage:
        """Built on first use, after the claim: with R2 that is a boto3 client, which a
        redundant delivery never needs and a handoff should not wait for."""
        return get_storage(self.settings)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.settings) as session:
            yield session
        self._unsaved_usage.clear()  # committed

    def workflow(self, session: Session, *, lock: bool = False) -> Workflow:
        """This job's workflow; `lock` reads it afresh and holds its row until the commit, so
        a cancel and this stage's end cannot interleave."""
        workflow = session.get(
            Workflow, self.workflow_id, with_for_update=lock, populate_existing=lock
        )
        if workflow is None:
            raise InvalidInput(f"workflow {self.workflow_id} no longer exists")
        return workflow

    def set_progress(self, progress: int, step: str | None = None) -> None:
        with self.session() as session:
            workflow = self.workflow(session)
            workflow.progress = max(workflow.progress, progress)
            if step is not None:
                workflow.current_step = step
            workflow.updated_at = utcnow()

    def record_usage(self, session: Session, usage: list[CallUsage]) -> None:
        """Store paid calls and add their cost to the workflow's total."""
        workflow = self.workflow(session)
        self._unsaved_usage.extend(usage)
        for call in usage:
            session.add(ApiUsage(workflow_id=self.workflow_id, **call.model_dump()))
            workflow.cost_usd = round(workflow.cost_usd + call.cost_usd, 6)
        count_usage(usage)

    def finish(self, session: Session, message: str = "") -> None:
        """This stage is done, inside the caller's transaction: hand over to the stage after
        it in the pipeline (its job is enqueued once the transaction commits), or complete the
        workflow when this stage is the last."""
        if self.kind != STAGE_RUN:
            raise RuntimeError(f"a {self.kind} job does not move its workflow: it cannot finish")
        workflow = self.workflow(session, lock=True)
        if workflow.status != WorkflowStatus.PROCESSING:
            # Cancelled while this stage ran: its results stay, the workflow moves no further.
            log.info("workflow %s is %s: not moving it on", self.workflow_id, workflow.status)
            return
        following = pipeline(session).next_after(self.stage.name)
        workflow.error = None
        workflow.failed_step = None
        workflow.updated_at = utcnow()
        if following is None:
            workflow.status = WorkflowStatus.COMPLETED
            workflow.progress = PROGRESS_DONE
            workflow.completed_at = workflow.updated_at
            session.add(event(self.workflow_id, self.service, "completed", message))
            return
        job_id = stage_job_id(following, self.workflow_id)
        workflow.current_step = following.steps[0]
        workflow.progress = max(workflow.progress, self.stage.progress_done)
        workflow.job_id = job_id
        note = f"next: {following.name}"
        session.add(
            event(
                self.workflow_id,
                self.service,
                "handed_over",
                f"{message}; {note}" if message else note,
            )
        )
        self._after_commit.append(
            lambda: enqueue_stage_job(
                self.redis, following, STAGE_RUN, self.workflow_id, job_id=job_id
            )
        )


def event(workflow_id: str, stage: str, kind: str, message: str = "") -> WorkflowEvent:
    return WorkflowEvent(
        workflow_id=workflow_id, stage=stage, kind=EventKind(kind), message=message[:2000]
    )


@observed_stage
def run_stage(
    service: str,
    workflow_id: str,
    body: Callable[[StageContext], str],
    *,
    kind: str = STAGE_RUN,
) -> Any:
    """Run one job of a stage (its own, or one of its `Stage.jobs` kinds) for one workflow
    under the shared lifecycle. Returns a short outcome, or an rq `Retry` that re-schedules
    this same job when an outage (a circuit breaker open, a dependency away) deferred it."""
    settings = get_settings()
    job = get_current_job()
    stage = pipeline().get(service)
    if kind != STAGE_RUN and kind not in stage.jobs:
        raise KeyError(f"stage {service!r} declares no {kind!r} job")
    # The worker's connection, open since the job was fetched; a new client would connect first.
    redis = job.connection if job is not None else get_redis(settings)
    ctx = StageContext(stage, workflow_id, settings, redis, kind=kind)
    try:
        return _run(ctx, job, body)
    except Exception as exc:
        outage = outage_of(exc)
        if outage is None or job is None:
            raise
        return _defer(ctx, job, outage, exc)


def _run(ctx: StageContext, job: Job | None, body: Callable[[StageContext], str]) -> str:
    skip = _claim(ctx, job)
    if skip:
        _run_after_commit(ctx)
        log.info("[%s] skipped workflow %s: %s", ctx.service, ctx.workflow_id, skip)
        return skip

    log.info("[%s] started: workflow %s", ctx.service, ctx.workflow_id)
    try:
        with _lease(ctx):
            outcome = body(ctx)
    except (InvalidInput, NotRetryable) as exc:
        # Bad input (or a failure that would recur, such as a draft still unusable after its
        # repair turn) will not get better with retries: fail now, with the reason.
        if job is not None:
            job.retries_left = 0
        _record_failed_usage(ctx, job, [*ctx._unsaved_usage, *(getattr(exc, "usage", None) or [])])
        raise
    except Exception as exc:
        usage = [*ctx._unsaved_usage, *(getattr(exc, "usage", None) or [])]
        if outage_of(exc) is not None:
            if job is not None:  # paid for, but not recorded: written on the next attempt
                journal.keep_usage(job, usage)
            raise
        _record_failed_usage(ctx, job, usage)
        raise
    _run_after_commit(ctx)
    if ctx.settings.uses_r2:  # storage answered: clear a rejected-key cause from health
        make_breaker(STORAGE_BREAKER, ctx.redis).record_success()
    return outcome


def _run_after_commit(ctx: StageContext) -> None:
    for callback in ctx._after_commit:
        callback()
    ctx._after_commit.clear()


def _record_failed_usage(ctx: StageContext, job: Job | None, usage: list[CallUsage]) -> None:
    """Calls made before a failure were still paid for."""
    if not usage:
        return
    try:
        with ctx.session() as session:
            ctx.record_usage(session, usage)
    except Exception as exc:
        if outage_of(exc) is None or job is None:
            log.exception("could not record the usage of a failed attempt")
            return
        journal.keep_usage(job, usage)
        job.save_meta()


@contextmanager
def _lease(ctx: StageContext) -> Iterator[None]:
    """While the body runs, renew the workflow's updated_at every third of the stuck-after
    threshold: the reconciler never takes a running stage for a stuck one, even when Redis
    lost the job's record."""
    stop = threading.Event()
    interval = max(1.0, ctx.settings.stuck_after / 3)

    def renew() -> None:
        while not stop.wait(interval):
            try:
                with session_scope(ctx.settings) as session:
                    session.exec(
                        update(Workflow)
                        .where(col(Workflow.id) == ctx.workflow_id)
                        .where(col(Workflow.status) == WorkflowStatus.PROCESSING)
                        .values(updated_at=utcnow())
                    )
            except Exception as exc:  # the body will meet the same outage and defer
                log.debug("could not renew the lease of %s: %s", ctx.workflow_id, exc)

    thread = threading.Thread(target=renew, name="stage-lease", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


def _claim(ctx: StageContext, job: Job | None) -> str | None:
    """Mark the workflow as processed by this stage, or say why this delivery is redundant.
    Writes first whatever earlier attempts of this job could not record."""
    with ctx.session() as session:
        flushed = journal.write_pending(session, job, ctx.workflow_id)
        skip = _claim_in(ctx, session, job)
    if flushed:
        journal.forget(job)
    return skip


def _claim_in(ctx: StageContext, session: Session, job: Job | None) -> str | None:
    workflow = session.get(Workflow, ctx.workflow_id)
    if workflow is None:
        return "workflow no longer exists"
    if ctx.kind != STAGE_RUN:
        return _claim_further_job(ctx, session, workflow, job)
    if workflow.status in TERMINAL:
        return f"workflow is already {workflow.status}"
    try:
        owner = _owner_of(session, workflow.current_step)
    except KeyError:
        log.warning(
            "workflow %s is at %s, which no known stage handles", workflow.id, workflow.current_step
        )
        return f"workflow is at {workflow.current_step}, which no known stage handles"
    if owner.name != ctx.service:
        # A redundant delivery: make sure the step that is due has its job, then stop.
        job_id = workflow.job_id
        ctx._after_commit.append(
            lambda: enqueue_stage_job(ctx.redis, owner, STAGE_RUN, ctx.workflow_id, job_id=job_id)
        )
        return f"workflow is at {workflow.current_step}, which {owner.name} handles"
    workflow.status = WorkflowStatus.PROCESSING
    if job is not None:
        workflow.job_id = job.id
    workflow.updated_at = utcnow()
    session.add(event(ctx.workflow_id, ctx.service, "started", _attempt_text(ctx.stage.queue, job)))
    return None


def rehearse_handoff(session: Session, stage: Stage, redis: Redis) -> None:
    """Run `stage`'s real claim and hand-over on a stand-in workflow, in `session`, which the
    caller rolls back: SQLAlchemy compiles their statements in this process and the database
    backend loads what it caches for them on this connection now, while the worker is idle,
    not on the way from one stage to the next. Nothing is enqueued; only sequence numbers
    (event ids) are spent."""
    stand_in = Workflow(
        source="rehearsal:",
        current_step=stage.steps[0],
        # As it reaches this stage: new, or handed over by the stage before.
        status=WorkflowStatus.PENDING if stage.after is None else WorkflowStatus.PROCESSING,
    )
    session.add(stand_in)
    session.flush()
    # As a stage's hand-over leaves it: the job to move it carries the deterministic id.
    stand_in.job_id = stage_job_id(stage, stand_in.id)
    session.flush()
    ctx = StageContext(stage, stand_in.id, get_settings(), redis)
    skip = _claim_in(ctx, session, Job(stand_in.job_id, connection=redis))
    if skip:
        raise RuntimeError(f"the rehearsal's claim was refused: {skip}")
    session.flush()
    ctx.finish(session, "rehearsal")
    session.flush()
    ctx._after_commit.clear()  # never committed: nothing to enqueue


def _owner_of(session: Session, step: str) -> Stage:
    """The stage that moves a workflow out of `step`. A step belongs to the stage declaring
    it, so the cached pipeline is right for every step it knows; only a step of a stage
    registered since (by another image) costs a read of the registrations."""
    try:
        return pipeline().owner_of(step)
    except KeyError:
        return pipeline(session).owner_of(step)


def _claim_further_job(
    ctx: StageContext, session: Session, workflow: Workflow, job: Job | None
) -> str | None:
    """A further job kind works on a finished workflow and leaves its status alone."""
    if workflow.status != WorkflowStatus.COMPLETED:
        return f"workflow is {workflow.status}; {ctx.kind} runs only once it has COMPLETED"
    text = f"{job_label(job, ctx.kind)}: {_attempt_text(ctx.stage.queue, job)}"
    session.add(event(ctx.workflow_id, ctx.service, "started", text))
    return None


def job_label(job: Job | None, kind: str) -> str:
    """What a further job does, for its events: its kind and its arguments after the workflow
    ("regenerate_image 3")."""
    extra = [str(arg) for arg in (job.args[1:] if job is not None else ())]
    return " ".join([kind, *extra])


def _attempt_text(policy: QueuePolicy, job: Job | None) -> str:
    if job is None:
        return "attempt 1"
    left = job.retries_left if job.retries_left is not None else policy.max_retries
    return f"attempt {policy.max_retries - left + 1} of {policy.max_retries + 1}"


def deferral_delay(deferrals: int, retry_after: float | None = None) -> int:
    """5 s, doubling, at most 60 s; never sooner than the service said it would be back."""
    growing = defaults.OUTAGE_FIRST_DELAY_SECONDS * 2 ** max(0, min(deferrals - 1, 16))
    wanted = max(growing, math.ceil(retry_after or 0))
    return int(min(wanted, defaults.OUTAGE_MAX_DELAY_SECONDS))


def _defer(ctx: StageContext, job: Job, outage: Outage, exc: Exception) -> Retry:
    """Re-schedule this same job for later without spending a retry; the workflow stays
    PROCESSING. Once the outage budget is spent, fail instead, naming the outage."""
    now = time.time()
    streak = dict(job.meta.get(OUTAGE_META) or {"since": now, "deferrals": 0})
    streak["deferrals"] = int(streak["deferrals"]) + 1
    waited = now - float(streak["since"])
    budget = ctx.settings.outage_budget
    if isinstance(exc, StorageCredentialRejected) and exc.cause:
        _report_storage_rejection(ctx, exc.cause)
    if waited >= budget:
        job.meta.pop(OUTAGE_META, None)
        job.retries_left = 0  # the failure callback records FAILED with this reason
        raise OutageOutlasted(outage.outlasted(budget)) from exc
    delay = deferral_delay(streak["deferrals"], getattr(exc, "retry_after_seconds", None))
    delay = max(1, min(delay, math.ceil(budget - waited)))
    message = f"{outage.cause}: {outage.detail}; trying again in {delay} s"
    if streak["deferrals"] > 1:
        message += f" (waiting for {format_duration(waited)} so far)"
    journal.keep_event(job, ctx.service, "deferred", message)
    if outage.cause != "the database was unreachable":
        _write_pending_now(ctx, job)
    job.meta[OUTAGE_META] = streak
    job.save_meta()
    log.warning(
        "[%s] deferred workflow %s by %d s: %s", ctx.service, ctx.workflow_id, delay, message
    )
    count_deferral(ctx.service)
    return Retry(max=DEFER_WITHOUT_LIMIT, interval=delay)


def _report_storage_rejection(ctx: StageContext, cause: str) -> None:
    """Storage has no breaker of its own: trip one so the health check names the cause."""
    breaker = make_breaker(
        STORAGE_BREAKER, ctx.redis, open_seconds=ctx.settings.breaker_open_seconds
    )
    try:
        breaker.trip(cause)
    except Exception as exc:  # Redis away too: the deferral itself will tell
        log.debug("could not report the storage rejection: %s", exc)


def _write_pending_now(ctx: StageContext, job: Job) -> None:
    """The database may be up (storage or a key is the problem): record the events now."""
    try:
        with session_scope(ctx.settings) as session:
            journal.write_pending(session, job, ctx.workflow_id)
    except Exception as exc:
        if outage_of(exc) is None:
            raise
        return  # they wait in the job's meta for the next attempt
    for key in (journal.PENDING_EVENTS, journal.PENDING_USAGE):
        job.meta.pop(key, None)


def readable_reason(exc_type: type[BaseException] | None, exc: BaseException | None) -> str:
    """A reason a seller or operator can act on, in one sentence; never a traceback."""
    if exc_type is not None and issubclass(exc_type, AbandonedJobError):
        return "the worker processing this step stopped unexpectedly (job abandoned)"
    if exc_type is not None and issubclass(exc_type, JobTimeoutException):
        return "the step took longer than its time limit"
    if exc is None:
        return "unknown error"
    text = one_sentence(exc)
    if isinstance(
        exc, InvalidInput | OutageOutlasted | CredentialRejected | NotRetryable | ReadableStageError
    ):
        return text
    return f"{type(exc).__name__}: {text}"


def on_stage_failure(job: Job, connection: Redis, exc_type: Any, exc: Any, _tb: Any) -> None:
    """RQ failure callback: record a retry, or mark FAILED only once no retry is left. With
    the database away, what it would write waits in the job's meta (journal.py)."""
    try:
        _record_failure(job, exc_type, exc)
    except Exception:  # a failing callback must not mask the job's own failure
        log.exception("could not record the failure of job %s", job.id)


def _policy_of(service: str) -> QueuePolicy | None:
    try:
        return pipeline().get(service).queue
    except KeyError:
        return None


def _record_failure(job: Job, exc_type: Any, exc: Any) -> None:
    workflow_id = job.meta.get("workflow_id") or job.args[0]
    service = job.meta.get("service", "?")
    kind = job.meta.get("kind", STAGE_RUN)
    policy = _policy_of(service)
    reason = readable_reason(exc_type, exc)
    if kind != STAGE_RUN:
        reason = f"{job_label(job, kind)}: {reason}"
    retries_left = job.retries_left or 0
    retrying = retries_left > 0 and policy is not None
    job.meta.pop(OUTAGE_META, None)  # this attempt failed on its own: a new outage starts anew
    job.meta[FAILURE_META] = {"reason": reason, "outage": False}
    try:
        with session_scope(get_settings()) as session:
            flushed = journal.write_pending(session, job, workflow_id)
            if kind == STAGE_RUN:
                _record_failure_in(session, workflow_id, service, policy, reason, retries_left)
            else:
                _record_further_failure_in(
                    session, workflow_id, service, policy, reason, retries_left
                )
    except Exception as db_exc:
        if outage_of(db_exc) is None:
            raise
        if retrying and policy is not None:
            journal.keep_event(
                job, service, "retrying", _retrying_text(policy, retries_left, reason)
            )
        elif kind != STAGE_RUN:  # nothing for the reconciler to decide: only an event
            journal.keep_event(job, service, "failed", reason)
            journal.park(job)
        else:
            job.meta[journal.UNRECORDED_FAILURE] = {"reason": reason}
        job.save_meta()
        log.warning(
            "[%s] workflow %s: %s; the database is away (%s), recorded once it is back",
            service,
            workflow_id,
            reason,
            one_sentence(db_exc),
        )
        return
    if flushed:
        journal.forget(job)
    job.save_meta()


def _retrying_text(policy: QueuePolicy, retries_left: int, reason: str) -> str:
    used = policy.max_retries - retries_left
    wait = policy.retry_intervals[min(used, len(policy.retry_intervals) - 1)]
    return f"attempt {used + 1} failed: {reason}; retrying in {wait}s"


def _recorded_retry(
    session: Session,
    workflow_id: str,
    service: str,
    policy: QueuePolicy | None,
    reason: str,
    retries_left: int,
) -> bool:
    """Record a failed attempt that RQ will retry; False when no retry is left."""
    if retries_left <= 0 or policy is None:
        return False
    message = _retrying_text(policy, retries_left, reason)
    session.add(event(workflow_id, service, "retrying", message))
    log.warning("[%s] workflow %s %s", service, workflow_id, message)
    count_retry(service)
    return True


def _record_failure_in(
    session: Session,
    workflow_id: str,
    service: str,
    policy: QueuePolicy | None,
    reason: str,
    retries_left: int,
) -> None:
    workflow = session.get(Workflow, workflow_id)
    if workflow is None or workflow.status in TERMINAL:
        return
    workflow.updated_at = utcnow()
    if _recorded_retry(session, workflow_id, service, policy, reason, retries_left):
        return
    mark_failed(session, workflow, service, reason)
    log.error("[%s] workflow %s failed: %s", service, workflow_id, reason)
    count_failure(service)


def _record_further_failure_in(
    session: Session,
    workflow_id: str,
    service: str,
    policy: QueuePolicy | None,
    reason: str,
    retries_left: int,
) -> None:
    """A further job's retry or failure is an event; the workflow keeps its status."""
    if session.get(Workflow, workflow_id) is None:
        return
    if _recorded_retry(session, workflow_id, service, policy, reason, retries_left):
        return
    session.add(event(workflow_id, service, "failed", reason))
    log.error("[%s] workflow %s: failed: %s", service, workflow_id, reason)
    count_failure(service)


def mark_failed(session: Session, workflow: Workflow, service: str, reason: str) -> None:
    step = workflow.current_step
    workflow.status = WorkflowStatus.FAILED
    workflow.failed_step = step
    workflow.error = f"{step} failed: {reason}"
    workflow.updated_at = utcnow()
    session.add(event(workflow.id, service, "failed", workflow.error))
