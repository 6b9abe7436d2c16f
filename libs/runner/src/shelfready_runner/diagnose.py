"""`shelfready diagnose`: what is wrong with this deployment, and what to do about each thing.

Worker pools announce themselves in Redis (`announce_pool`, refreshed every sweep) with the
database they use, so a producer can tell when it writes to another database than the
workers read: the classic "jobs are queued but nothing happens".
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from redis import Redis

    from shelfready_core.config import Settings

POOL_KEY_PREFIX = "shelfready:pool:"
# A pool refreshes its record every sweep (the job monitoring interval, 30 s by default).
POOL_TTL_SECONDS = 180
OLDEST_JOB_WARN_SECONDS = 300
STUCK_AFTER_SECONDS = 600
SHOWN_WORKFLOWS = 5


@dataclass
class Finding:
    check: str
    ok: bool
    detail: str
    fix: str = ""


@dataclass
class Diagnosis:
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(finding.ok for finding in self.findings)

    def add(self, check: str, ok: bool, detail: str, fix: str = "") -> None:
        self.findings.append(Finding(check, ok, detail, "" if ok else fix))

    def render(self) -> str:
        lines = []
        for finding in self.findings:
            lines.append(f"[{' OK ' if finding.ok else 'FAIL'}] {finding.check}: {finding.detail}")
            if finding.fix:
                lines.append(f"       fix: {finding.fix}")
        problems = sum(not finding.ok for finding in self.findings)
        lines.append("no problems found" if not problems else f"{problems} problem(s) found")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "findings": [asdict(finding) for finding in self.findings]}


def database_identity(settings: Settings) -> str:
    """host:port/database (or the SQLite path): comparable, and never a password."""
    if settings.database_url is None:
        return f"sqlite:{settings.sqlite_path.resolve()}"
    from sqlalchemy.engine import make_url

    url = make_url(settings.database_url.get_secret_value())
    return f"{url.host}:{url.port or 5432}/{url.database}"


def announce_pool(settings: Settings, redis: Redis, services: list[str]) -> None:
    """Called by each worker pool at start and every sweep."""
    key = f"{POOL_KEY_PREFIX}{socket.gethostname()}:{os.getpid()}"
    record = {
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "services": services,
        "database": database_identity(settings),
        "seen_at": datetime.now(UTC).isoformat(),
    }
    redis.set(key, json.dumps(record), ex=POOL_TTL_SECONDS)


def live_pools(redis: Redis) -> list[dict[str, Any]]:
    pools = []
    for key in redis.scan_iter(match=f"{POOL_KEY_PREFIX}*", count=200):
        raw = redis.get(key)
        if raw:
            pools.append(json.loads(raw))
    return pools


def diagnose(settings: Settings, redis: Redis) -> Diagnosis:
    """Every check, in the order an operator would look; Redis or the database being down is
    itself a finding, not a crash."""
    result = Diagnosis()
    try:
        redis.ping()
    except Exception as exc:
        result.add(
            "redis",
            False,
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            "start Redis or fix REDIS_URL (`shelfready check` shows what is set)",
        )
        redis_ok = False
    else:
        result.add("redis", True, "PING answered")
        redis_ok = True
    database_ok = _check_database(settings, result)

    if redis_ok:
        _check_pools(settings, redis, result)
        _check_queues(redis, result)
        _check_breaker(redis, result)
    if database_ok:
        _check_stuck(settings, result)
    return result


def _check_database(settings: Settings, result: Diagnosis) -> bool:
    from shelfready_runner.cli_errors import explain

    try:
        from shelfready_core.migrate import schema_is_current

        current = schema_is_current(settings)
    except Exception as exc:
        result.add("database", False, type(exc).__name__, explain(exc) or str(exc))
        return False
    if not current:
        result.add("database", False, "schema behind this code", "run `shelfready migrate`")
        return False
    result.add("database", True, f"{database_identity(settings)}, schema current")
    return True


def _check_pools(settings: Settings, redis: Redis, result: Diagnosis) -> None:
    pools = live_pools(redis)
    mine = database_identity(settings)
    if not pools:
        result.add(
            "same database as the workers",
            False,
            "no worker pool has announced itself on this Redis",
            "start the workers (`shelfready worker STAGE`), or give this shell the same "
            "REDIS_URL as the workers",
        )
        return
    elsewhere = sorted({pool["database"] for pool in pools if pool["database"] != mine})
    if elsewhere:
        result.add(
            "same database as the workers",
            False,
            f"this shell uses {mine}; worker pools use {', '.join(elsewhere)}",
            "give the producer and the workers the same DATABASE_URL",
        )
    else:
        result.add("same database as the workers", True, f"{len(pools)} pool(s) use {mine}")


def _check_queues(redis: Redis, result: Diagnosis) -> None:
    from rq import Queue, Worker
    from rq.scheduler import RQScheduler

    from shelfready_core.metrics import oldest_job_age
    from shelfready_core.stages import pipeline
    from shelfready_runner.health import HEARTBEAT_MAX_AGE_SECONDS

    now = datetime.now(UTC)
    for stage in pipeline():
        service, policy = stage.name, stage.queue
        queue = Queue(policy.name, connection=redis)
        live = [
            worker
            for worker in Worker.all(queue=queue)
            if worker.last_heartbeat is not None
            and (now - worker.last_heartbeat).total_seconds() <= HEARTBEAT_MAX_AGE_SECONDS
        ]
        waiting = queue.count
        age = oldest_job_age(queue)
        start = f"start `shelfready worker {service}` (or a replica of the {service} service)"
        if not live and waiting:
            result.add(
                f"queue {policy.name}",
                False,
                f"{waiting} job(s) waiting and no live worker; oldest {age:.0f}s",
                start,
            )
        elif not live:
            result.add(f"queue {policy.name}", False, "no live worker", start)
        elif age > OLDEST_JOB_WARN_SECONDS:
            result.add(
                f"queue {policy.name}",
                False,
                f"{waiting} waiting, oldest {age:.0f}s with {len(live)} worker(s)",
                f"add replicas of the {service} service or raise its concurrency",
            )
        else:
            result.add(
                f"queue {policy.name}",
                True,
                f"{len(live)} live worker(s), {waiting} waiting, oldest {age:.0f}s",
            )
        scheduled = queue.scheduled_job_registry.count
        locked = redis.exists(RQScheduler.get_locking_key(policy.name))
        if scheduled and not locked and not live:
            result.add(
                f"scheduler {policy.name}",
                False,
                f"{scheduled} retry/deferred job(s) scheduled and no scheduler running",
                f"start a {service} worker: its pool runs the scheduler",
            )
        else:
            state = "running" if locked else "idle (a live pool takes over when needed)"
            result.add(f"scheduler {policy.name}", True, f"{state}; {scheduled} scheduled")


def _check_breaker(redis: Redis, result: Diagnosis) -> None:
    from shelfready_core.metrics import breaker_state

    state = breaker_state(redis)
    if state == "closed":
        result.add("Claude breaker", True, "closed")
    else:
        result.add(
            "Claude breaker",
            False,
            f"{state}: Claude calls are refused and jobs deferred until a trial call succeeds",
            "check ANTHROPIC_API_KEY and the Claude API status; the workers' logs say which "
            "error opened it",
        )


def _check_stuck(settings: Settings, result: Diagnosis) -> None:
    from sqlmodel import col, select

    from shelfready_core.db import session_scope
    from shelfready_core.models import Workflow, WorkflowStatus, utcnow

    cutoff = utcnow() - timedelta(seconds=STUCK_AFTER_SECONDS)
    with session_scope(settings) as session:
        stuck = session.exec(
            select(Workflow.id, Workflow.current_step)
            .where(col(Workflow.status).in_([WorkflowStatus.PENDING, WorkflowStatus.PROCESSING]))
            .where(Workflow.updated_at < cutoff)
            .order_by(col(Workflow.updated_at))
        ).all()
    if not stuck:
        result.add("stuck workflows", True, f"none unchanged for {STUCK_AFTER_SECONDS}s")
        return
    shown = ", ".join(f"{wid} ({step})" for wid, step in stuck[:SHOWN_WORKFLOWS])
    more = f" and {len(stuck) - SHOWN_WORKFLOWS} more" if len(stuck) > SHOWN_WORKFLOWS else ""
    result.add(
        "stuck workflows",
        False,
        f"{len(stuck)} unchanged for over {STUCK_AFTER_SECONDS}s: {shown}{more}",
        "run `shelfready reconcile` (live pools do it on their own), then read "
        "`shelfready status ID --events`",
    )
