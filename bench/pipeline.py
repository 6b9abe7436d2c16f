"""The pipeline itself, each figure measured against its own ideal in the same run:

(a) makespan of N workflows through the three real worker pools, with a Messages server that
    answers after a model-like latency, divided by the ideal pipeline bound computed from the
    per-stage service times and concurrencies measured in that very run;
(b) median stage-to-stage handoff (stage A commits its hand-over -> stage B has claimed the
    workflow), with idle workers, divided by a plain RQ no-op job's enqueue-to-start latency
    on the same Redis;
(c) a worker pool's cold start (process spawned -> its first job started) next to a plain
    `rq worker`'s, the median of three of each taken in turn.

Everything runs in a private deployment (bench/stack.py); Claude is the wire-protocol fake
from tests/fakes with the official SDK pointed at it.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import redis
from rq import Queue
from rq.job import Job

from bench.stack import SHELFREADY, Stack
from shelfready_core.stages import pipeline
from tests.fakes.anthropic_server import FAKE_API_KEY, FakeAnthropicServer
from tests.listing.answers import default_listing_answer

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
RQ = str(Path(sys.executable).with_name("rq"))
NOOP_QUEUE = "bench-noop"
# Cold starts measured of each kind (the figure is their median).
COLD_STARTS = 3
# Where each stage's own work starts and ends, as its events record it.
STAGE_END_EVENT = {"recognition": "handed_over", "listing": "handed_over", "imagegen": "completed"}


@dataclass
class PipelineFigures:
    workflows: int
    claude_latency: float
    makespan: float = 0.0
    bound: float = 0.0
    service_time: dict[str, float] = field(default_factory=dict)  # median seconds per job
    concurrency: dict[str, int] = field(default_factory=dict)
    bottleneck: str = ""
    handoff_ms: float = 0.0
    noop_ms: float = 0.0
    handoffs: int = 0
    handoff_parts_ms: dict[str, float] = field(default_factory=dict)
    pool_cold_start: float = 0.0  # median seconds
    rq_cold_start: float = 0.0
    cold_starts: list[float] = field(default_factory=list)  # each of the pool's, in order

    @property
    def makespan_ratio(self) -> float:
        return self.makespan / self.bound if self.bound else math.inf

    @property
    def handoff_ratio(self) -> float:
        return self.handoff_ms / self.noop_ms if self.noop_ms else math.inf

    def per_hour(self, service: str, latency: float | None = None) -> float:
        """Workflows an hour one replica of `service` handles; Claude stages scale with latency."""
        seconds = self.service_time[service]
        if latency is not None and service != "imagegen":
            seconds += latency - self.claude_latency
        return 3600 * self.concurrency[service] / seconds


def _names() -> tuple[str, ...]:
    return pipeline().names


def _concurrency() -> dict[str, int]:
    """Each stage's default concurrency (its settings class, not this machine's environment)."""
    return {s.name: s.settings.model_fields["concurrency"].default for s in pipeline()}


def ideal_bound(n: int, service_time: dict[str, float], concurrency: dict[str, int]) -> float:
    """The shortest possible makespan of a flow line: the slowest stage processes n jobs in
    ceil(n / c) waves of its service time, the first job reaches it only after the stages
    before, and the last leaves it with the stages after still to go."""
    total = sum(service_time.values())
    return max(
        math.ceil(n / concurrency[s]) * service_time[s] + total - service_time[s]
        for s in service_time
    )


def _env(stack: Stack, claude: FakeAnthropicServer) -> dict[str, str]:
    return {
        **stack.env,
        "SHELFREADY_AI": "claude",
        "ANTHROPIC_API_KEY": FAKE_API_KEY,
        "ANTHROPIC_BASE_URL": claude.url,
    }


def _start_pool(env: dict[str, str], service: str, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [SHELFREADY, "worker", service],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, 15)
    for process in processes:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def _submit(env: dict[str, str], count: int) -> list[str]:
    photos = sorted(SAMPLES.glob("*.jpg"))
    sources = [str(photos[i % len(photos)]) for i in range(count)]
    result = subprocess.run(
        [SHELFREADY, "submit", *sources], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.split()


def _wait_done(stack: Stack, ids: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = stack.query(
            "SELECT count(*) FROM workflow WHERE id = ANY(%s) AND status IN "
            "('COMPLETED', 'FAILED', 'CANCELLED')",
            ids,
        )
        if rows[0][0] == len(ids):
            failed = stack.query(
                "SELECT id, error FROM workflow WHERE id = ANY(%s) AND status <> 'COMPLETED'", ids
            )
            if failed:
                raise RuntimeError(f"{len(failed)} workflow(s) did not complete: {failed[0]}")
            return
        time.sleep(0.25)
    raise RuntimeError(f"workflows not finished after {timeout:.0f}s")


def _events(stack: Stack, ids: list[str]) -> dict[str, list[tuple[str, str, datetime]]]:
    by_workflow: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
    for workflow_id, stage, kind, at in stack.query(
        "SELECT workflow_id, stage, kind, created_at FROM workflow_event "
        "WHERE workflow_id = ANY(%s) ORDER BY id",
        ids,
    ):
        by_workflow[workflow_id].append((stage, kind, at))
    return by_workflow


def _service_times(events: dict[str, list[tuple[str, str, datetime]]]) -> dict[str, float]:
    times: dict[str, list[float]] = defaultdict(list)
    for items in events.values():
        started: dict[str, datetime] = {}
        for stage, kind, at in items:
            if kind == "started":
                started[stage] = at
            elif kind == STAGE_END_EVENT.get(stage) and stage in started:
                times[stage].append((at - started.pop(stage)).total_seconds())
    return {stage: statistics.median(times[stage]) for stage in _names()}


def _handoffs(events: dict[str, list[tuple[str, str, datetime]]]) -> list[float]:
    """Seconds from a stage's hand-over to the next stage's claim."""
    gaps = []
    for items in events.values():
        handed: datetime | None = None
        for _stage, kind, at in items:
            if kind == "handed_over":
                handed = at
            elif kind == "started" and handed is not None:
                gaps.append((at - handed).total_seconds())
                handed = None
    return gaps


def measure_makespan(stack: Stack, figures: PipelineFigures, logs: Path) -> None:
    claude = FakeAnthropicServer(
        answers={"record_listing_draft": default_listing_answer},
        answer_delay_seconds=figures.claude_latency,
    ).start()
    env = _env(stack, claude)
    pools = [_start_pool(env, s, logs / f"makespan-{s}.log") for s in _names()]
    try:
        _wait_for_workers(stack, sum(_concurrency().values()))
        started = time.time()
        ids = _submit(env, figures.workflows)
        _wait_done(stack, ids, timeout=1800)
        last = stack.query(
            "SELECT extract(epoch FROM max(completed_at)) FROM workflow WHERE id = ANY(%s)", ids
        )[0][0]
        figures.makespan = float(last) - started
    finally:
        _stop(pools)
        claude.stop()
    figures.service_time = _service_times(_events(stack, ids))
    figures.concurrency = _concurrency()
    figures.bound = ideal_bound(figures.workflows, figures.service_time, figures.concurrency)
    figures.bottleneck = max(
        _names(), key=lambda s: figures.service_time[s] / figures.concurrency[s]
    )


def _wait_for_workers(stack: Stack, count: int, timeout: float = 120) -> None:
    from rq import Worker

    connection = redis.Redis.from_url(stack.redis_url)
    deadline = time.monotonic() + timeout
    while Worker.count(connection=connection) < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} workers after {timeout:.0f}s")
        time.sleep(0.2)


def measure_handoff(stack: Stack, figures: PipelineFigures, logs: Path, rounds: int) -> None:
    """One workflow at a time, so every hand-over finds an idle worker."""
    claude = FakeAnthropicServer(answers={"record_listing_draft": default_listing_answer}).start()
    env = _env(stack, claude)
    pools = [_start_pool(env, s, logs / f"handoff-{s}.log") for s in _names()]
    ids: list[str] = []
    try:
        _wait_for_workers(stack, sum(_concurrency().values()))
        time.sleep(2)  # past the pools' start-up sweeps
        for _ in range(rounds):
            new = _submit(env, 1)
            _wait_done(stack, new, timeout=300)
            ids += new
    finally:
        _stop(pools)
        claude.stop()
    events = _events(stack, ids)
    gaps = _handoffs(events)
    figures.handoffs = len(gaps)
    figures.handoff_ms = 1000 * statistics.median(gaps)
    figures.handoff_parts_ms = _handoff_parts(stack, events)
    figures.noop_ms = 1000 * statistics.median(_noop_latencies(stack, rounds * 2))


def _handoff_parts(
    stack: Stack, events: dict[str, list[tuple[str, str, datetime]]]
) -> dict[str, float]:
    """Where a handoff's time goes (medians, ms): hand-over -> RQ enqueue (commit and
    enqueue), enqueue -> RQ start (dequeue, and the job handed to the waiting work-horse or a
    fork), RQ start -> the stage's claim."""
    from shelfready_core.queues import stage_job_id

    connection = redis.Redis.from_url(stack.redis_url)
    parts: dict[str, list[float]] = defaultdict(list)
    for workflow_id, items in events.items():
        handed: datetime | None = None
        for stage, kind, at in items:
            if kind == "handed_over":
                handed = at
            elif kind == "started" and handed is not None:
                job = Job.fetch(stage_job_id(stage, workflow_id), connection=connection)
                if job.enqueued_at and job.started_at:
                    parts["commit + enqueue"].append((job.enqueued_at - handed).total_seconds())
                    parts["enqueue -> RQ start"].append(
                        (job.started_at - job.enqueued_at).total_seconds()
                    )
                    parts["RQ start -> claimed"].append((at - job.started_at).total_seconds())
                handed = None
    return {name: 1000 * statistics.median(values) for name, values in parts.items()}


def _noop_latencies(stack: Stack, rounds: int) -> list[float]:
    """A plain `rq worker` (forking, like ours) running a no-op job: enqueue -> started."""
    connection = redis.Redis.from_url(stack.redis_url)
    queue = Queue(NOOP_QUEUE, connection=connection)
    worker = _plain_rq_worker(stack)
    try:
        latencies = []
        queue.enqueue("bench.noop.noop")  # warm-up: the first job imports the module
        _drain(queue)
        time.sleep(0.5)
        for _ in range(rounds):
            job = queue.enqueue("bench.noop.noop")
            latencies.append(_started_after_enqueue(job))
        return latencies
    finally:
        _stop([worker])


def _plain_rq_worker(stack: Stack) -> subprocess.Popen[bytes]:
    repo = str(Path(__file__).resolve().parents[1])
    env = {**stack.env, "PYTHONPATH": repo}
    return subprocess.Popen(
        [RQ, "worker", "--url", stack.redis_url, "--quiet", NOOP_QUEUE],
        env=env,
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def _drain(queue: Queue, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while queue.count or queue.started_job_registry.count:
        if time.monotonic() > deadline:
            raise RuntimeError("the plain rq worker took no job")
        time.sleep(0.05)


def _started_after_enqueue(job: Job, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh()
        if job.is_finished and job.started_at and job.enqueued_at:
            return (job.started_at - job.enqueued_at).total_seconds()
        time.sleep(0.05)
    raise RuntimeError(f"job {job.id} did not finish")


def measure_cold_start(stack: Stack, figures: PipelineFigures, logs: Path) -> None:
    """Spawn -> first job started, for our listing pool and for a plain `rq worker`: the
    median of COLD_STARTS starts of each, taken in turn (one start alone moved by 50% from
    run to run on shared cores)."""
    claude = FakeAnthropicServer(answers={"record_listing_draft": default_listing_answer}).start()
    env = _env(stack, claude)
    connection = redis.Redis.from_url(stack.redis_url)
    pool_starts: list[float] = []
    rq_starts: list[float] = []
    try:
        for _ in range(COLD_STARTS):
            pool_starts.append(_listing_pool_cold_start(stack, env, logs, connection))
            rq_starts.append(_rq_worker_cold_start(stack, connection))
    finally:
        claude.stop()
    figures.pool_cold_start = statistics.median(pool_starts)
    figures.rq_cold_start = statistics.median(rq_starts)
    figures.cold_starts = pool_starts


def _listing_pool_cold_start(
    stack: Stack, env: dict[str, str], logs: Path, connection: redis.Redis
) -> float:
    """One workflow taken through recognition, then a listing pool started for its job."""
    pools = [_start_pool(env, "recognition", logs / "cold-recognition.log")]
    try:
        ids = _submit(env, 1)
        _wait_listing_queued(stack, ids[0])
    finally:
        _stop(pools)
    job_id = stack.query("SELECT job_id FROM workflow WHERE id = %s", ids[0])[0][0]
    spawned = time.time()
    pools = [_start_pool(env, "listing", logs / "cold-listing.log")]
    try:
        job = Job.fetch(job_id, connection=connection)
        return _wait_started(job) - spawned
    finally:
        _stop(pools)


def _rq_worker_cold_start(stack: Stack, connection: redis.Redis) -> float:
    queue = Queue(NOOP_QUEUE, connection=connection)
    job = queue.enqueue("bench.noop.noop")
    spawned = time.time()
    worker = _plain_rq_worker(stack)
    try:
        return _wait_started(job) - spawned
    finally:
        _stop([worker])


def _wait_listing_queued(stack: Stack, workflow_id: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        step = stack.query("SELECT current_step FROM workflow WHERE id = %s", workflow_id)[0][0]
        if step == "LISTING_GENERATION":
            return
        time.sleep(0.1)
    raise RuntimeError("recognition did not hand the workflow over")


def _wait_started(job: Job, timeout: float = 120) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job.refresh()
        if job.started_at is not None:
            return job.started_at.timestamp()
        time.sleep(0.02)
    raise RuntimeError(f"job {job.id} never started")


def run(stack: Stack, workflows: int, latency: float, rounds: int) -> PipelineFigures:
    logs = stack.workdir / "pipeline-logs"
    logs.mkdir(exist_ok=True)
    figures = PipelineFigures(workflows=workflows, claude_latency=latency)
    measure_cold_start(stack, figures, logs)
    measure_handoff(stack, figures, logs, rounds)
    measure_makespan(stack, figures, logs)
    return figures
