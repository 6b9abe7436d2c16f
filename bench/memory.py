"""One worker service under load: the real `shelfready worker <service>` pool at its configured
concurrency, with more waiting jobs than workers, sampled until its stage has drained."""

from __future__ import annotations

import logging
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.sampler import PeakSampler
from bench.stack import SHELFREADY, Stack
from shelfready_core.stages import pipeline

log = logging.getLogger(__name__)

TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")


@dataclass
class ServiceRun:
    service: str
    concurrency: int
    jobs: int
    failed: int
    seconds: float
    peak_pss: int
    peak_rss: int
    peak_processes: int
    peak_horse_uss: int  # the largest private memory of one work-horse
    settled_pss: int  # the pool with idle workers, after the last job
    exit_code: int


def waiting_for(stack: Stack, service: str) -> int:
    """Workflows whose current step this service handles and that are still running."""
    steps = [str(step) for step in pipeline().get(service).steps]
    rows = stack.query(
        "SELECT count(*) FROM workflow WHERE current_step = ANY(%s) AND status <> ALL(%s)",
        steps,
        list(TERMINAL),
    )
    return int(rows[0][0])


def failed_count(stack: Stack) -> int:
    return int(stack.query("SELECT count(*) FROM workflow WHERE status = 'FAILED'")[0][0])


def measure_service(stack: Stack, service: str, concurrency: int, timeout: float) -> ServiceRun:
    jobs = waiting_for(stack, service)
    failed_before = failed_count(stack)
    log_path = stack.workdir / f"worker-{service}.log"
    with log_path.open("wb") as log_file:
        pool = subprocess.Popen(
            [SHELFREADY, "worker", service, "--concurrency", str(concurrency)],
            env=stack.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started = time.monotonic()
        try:
            with PeakSampler(pool.pid) as sampler:
                while waiting_for(stack, service):
                    if pool.poll() is not None:
                        raise RuntimeError(f"{service} pool exited early:\n{_tail(log_path)}")
                    if time.monotonic() - started > timeout:
                        raise RuntimeError(f"{service} did not finish in {timeout:.0f}s")
                    time.sleep(0.5)
                seconds = time.monotonic() - started
                time.sleep(1.0)  # let the last horse exit
                settled = sampler.last.pss
        finally:
            pool.send_signal(signal.SIGTERM)  # graceful, as the platform stops it
            try:
                exit_code = pool.wait(timeout=60)
            except subprocess.TimeoutExpired:
                pool.kill()
                exit_code = pool.wait()
    return ServiceRun(
        service=service,
        concurrency=concurrency,
        jobs=jobs,
        failed=failed_count(stack) - failed_before,
        seconds=seconds,
        peak_pss=sampler.peak_pss,
        peak_rss=sampler.peak_rss,
        peak_processes=sampler.peak_processes,
        peak_horse_uss=sampler.peak_horse_uss,
        settled_pss=settled,
        exit_code=exit_code,
    )


def _tail(path: Path, chars: int = 3000) -> str:
    return path.read_text(errors="replace")[-chars:]
