"""`python -m bench`: memory budget of the three worker services on 24 MP photos, then the
pipeline's makespan, handoff latency and cold start against their ideals (bench/pipeline.py).

The stages run in pipeline order against one private deployment: N workflows are submitted,
then each service's pool runs alone until its stage has drained, which leaves the workflows
ready for the next service. So each pool is measured on real, already-processed input, with
more waiting jobs than workers, and no service's memory mixes with another's.
"""

from __future__ import annotations

import argparse
import logging
import math
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from bench.decode import DecodeResult, compare_decodes
from bench.memory import ServiceRun, measure_service
from bench.photos import make_photos
from bench.sampler import MB
from bench.stack import private_stack
from shelfready_core.stages import pipeline

if TYPE_CHECKING:
    from bench.pipeline import PipelineFigures

# Goals of the pipeline figures (issue 13).
MAKESPAN_GOAL = 1.10  # makespan / ideal pipeline bound
HANDOFF_GOAL = 1.2  # stage-to-stage handoff / plain RQ enqueue-to-start
COLD_START_GOAL = 2.0  # seconds from spawning a pool to its first job
TARGET_PER_HOUR = 1000  # the throughput the replica arithmetic is shown for
BUDGET_MB = 512  # the memory limit of each worker container
DISTINCT_PHOTOS = 4  # encoding a 24 MP JPEG takes seconds; workflows reuse these

out = Console(width=max(Console().width, 130))  # tables stay readable in logs and CI


def main() -> int:
    args = _parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ok = True
    if not args.pipeline_only:
        ok = _memory(args)
    if not args.skip_pipeline:
        ok = _pipeline(args) and ok
    return 0 if ok else 1


def _pipeline(args: argparse.Namespace) -> bool:
    from bench import pipeline

    out.print(
        f"pipeline: {args.pipeline_workflows} workflows, Claude answering after "
        f"{args.claude_latency:g}s ..."
    )
    with private_stack() as stack:
        figures = pipeline.run(
            stack, args.pipeline_workflows, args.claude_latency, args.handoff_rounds
        )
    out.print(_pipeline_table(figures))
    out.print(_capacity_table(figures))
    return (
        figures.makespan_ratio <= MAKESPAN_GOAL
        and figures.handoff_ratio <= HANDOFF_GOAL
        and figures.pool_cold_start <= COLD_START_GOAL
    )


def _memory(args: argparse.Namespace) -> bool:
    with private_stack() as stack:
        out.print(f"generating {DISTINCT_PHOTOS} photos of 24 MP ...")
        photos = make_photos(stack.workdir / "photos", DISTINCT_PHOTOS)
        out.print(f"JPEG size: {photos[0].stat().st_size / MB:.1f} MB each")
        if not args.skip_decode:
            out.print(_decode_table(compare_decodes(photos[0])))

        sources = [str(photos[index % len(photos)]) for index in range(args.workflows)]
        stack.cli("submit", *sources)
        runs = []
        for stage in pipeline():
            service = stage.name
            concurrency = args.concurrency or stage.settings.model_fields["concurrency"].default
            out.print(f"{service}: {concurrency} worker(s), {args.workflows} workflow(s) ...")
            started = time.monotonic()
            runs.append(measure_service(stack, service, concurrency, timeout=args.timeout))
            out.print(f"  done in {time.monotonic() - started:.0f}s")
    out.print(_memory_table(runs, args.budget))
    return all(_passes(run, args.budget) for run in runs)


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--workflows", type=int, default=10, help="workflows to push through (default 10)"
    )
    parser.add_argument("--budget", type=int, default=BUDGET_MB, help="MB per service")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="override every service's concurrency"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per service")
    parser.add_argument("--skip-decode", action="store_true", help="skip the decode comparison")
    parser.add_argument("--pipeline-only", action="store_true", help="only the pipeline figures")
    parser.add_argument("--skip-pipeline", action="store_true", help="only the memory figures")
    parser.add_argument("--pipeline-workflows", type=int, default=40, help="makespan batch")
    parser.add_argument(
        "--claude-latency", type=float, default=1.5, help="seconds the fake Claude takes"
    )
    parser.add_argument("--handoff-rounds", type=int, default=10, help="one-at-a-time runs")
    return parser.parse_args()


def _passes(run: ServiceRun, budget: int) -> bool:
    return run.peak_pss / MB <= budget and run.failed == 0 and run.exit_code == 0


def _memory_table(runs: list[ServiceRun], budget: int) -> Table:
    table = Table(title="Peak memory per service (PSS summed over pool, workers, work-horses)")
    for column in (
        "service",
        "concurrency",
        "jobs",
        "s",
        "processes",
        "idle PSS MB",
        "peak PSS MB",
        "peak RSS-sum MB",
        "largest horse USS MB",
        "budget MB",
        "result",
    ):
        table.add_column(column, justify="left" if column in ("service", "result") else "right")
    for run in runs:
        verdict = "pass" if _passes(run, budget) else "FAIL"
        if run.failed or run.exit_code:
            verdict += f" ({run.failed} failed, exit {run.exit_code})"
        table.add_row(
            run.service,
            str(run.concurrency),
            str(run.jobs),
            f"{run.seconds:.0f}",
            str(run.peak_processes),
            f"{run.settled_pss / MB:.0f}",
            f"{run.peak_pss / MB:.0f}",
            f"{run.peak_rss / MB:.0f}",
            f"{run.peak_horse_uss / MB:.0f}",
            str(budget),
            verdict,
        )
    return table


def _pipeline_table(figures: PipelineFigures) -> Table:
    table = Table(title="The pipeline against its ideals (measured side by side)")
    for column in ("figure", "measured", "ideal / baseline", "ratio", "goal"):
        table.add_column(column, justify="left" if column == "figure" else "right")
    stages = ", ".join(
        f"{s} {figures.service_time[s]:.2f}s x{figures.concurrency[s]}"
        for s in figures.service_time
    )
    table.add_row(
        f"(a) makespan, {figures.workflows} workflows ({stages})",
        f"{figures.makespan:.1f}s",
        f"{figures.bound:.1f}s",
        f"{figures.makespan_ratio:.2f}",
        f"<= {MAKESPAN_GOAL}",
    )
    table.add_row(
        f"(b) handoff median ({figures.handoffs} handoffs) / plain RQ no-op",
        f"{figures.handoff_ms:.0f} ms",
        f"{figures.noop_ms:.0f} ms",
        f"{figures.handoff_ratio:.2f}",
        f"<= {HANDOFF_GOAL}",
    )
    parts = ", ".join(f"{name} {ms:.0f} ms" for name, ms in figures.handoff_parts_ms.items())
    table.add_row(f"    where it goes: {parts}", "", "", "", "")
    starts = ", ".join(f"{seconds:.2f}" for seconds in figures.cold_starts)
    table.add_row(
        f"(c) cold start to first job, median of {len(figures.cold_starts)} ({starts} s):"
        " listing pool / plain rq worker",
        f"{figures.pool_cold_start:.2f}s",
        f"{figures.rq_cold_start:.2f}s",
        f"{figures.pool_cold_start / figures.rq_cold_start:.1f}x",
        f"<= {COLD_START_GOAL}s",
    )
    return table


def _capacity_table(figures: PipelineFigures) -> Table:
    table = Table(
        title=f"Capacity per replica (default concurrency); replicas for {TARGET_PER_HOUR}/h"
    )
    latencies = (figures.claude_latency, 5.0, 10.0)
    table.add_column("service", justify="left")
    for latency in latencies:
        table.add_column(f"per hour at {latency:g}s Claude", justify="right")
        table.add_column("replicas", justify="right")
    for service in figures.service_time:
        cells = []
        for latency in latencies:
            rate = figures.per_hour(service, latency)
            cells += [f"{rate:.0f}", str(math.ceil(TARGET_PER_HOUR / rate))]
        table.add_row(service, *cells)
    return table


def _decode_table(results: list[DecodeResult]) -> Table:
    table = Table(title="Decoding one 24 MP JPEG (best of 3; peak = resident memory added)")
    for column in ("variant", "result size", "ms", "peak MB", "time vs full", "memory vs full"):
        table.add_column(column, justify="left" if column == "variant" else "right")
    full = results[0]
    for result in results:
        table.add_row(
            result.name,
            f"{result.size[0]}x{result.size[1]}",
            f"{result.seconds * 1000:.0f}",
            f"{result.peak_mb:.0f}",
            f"{result.seconds / full.seconds:.2f}",
            f"{result.peak_mb / full.peak_mb:.2f}",
        )
    return table


if __name__ == "__main__":
    raise SystemExit(main())
