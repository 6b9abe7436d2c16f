"""`GET /metrics`: the Prometheus exposition, as the worker pools serve it beside /health.

Open without a token like /healthz (scrapers rarely carry one); it holds counts, never data.
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from shelfready_api.deps import State
from shelfready_core import metrics

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, summary="Prometheus metrics")
async def prometheus_metrics(state: State) -> Response:
    # Reads Redis and the database: off the event loop.
    payload = await run_in_threadpool(metrics.render, state.settings, state.probe_redis)
    return Response(content=payload, media_type=metrics.CONTENT_TYPE)
