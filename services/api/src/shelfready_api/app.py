"""The FastAPI application: `create_app(settings)` for tests and embedding, `app` for uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import redis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from shelfready_api import (
    export_routes,
    health,
    listing_routes,
    media_routes,
    metrics_route,
    web,
    workflows,
)
from shelfready_api.body_limit import BodySizeLimit, BodyTooLarge, too_large_response
from shelfready_api.deps import ApiState
from shelfready_core import defaults
from shelfready_core.config import Settings, get_settings
from shelfready_core.stages import PipelineError
from shelfready_core.storage import StorageError
from shelfready_core.url_masking import without_query

log = logging.getLogger(__name__)

# Room for the form fields and multipart framing around a photo of the largest allowed size.
FORM_OVERHEAD_BYTES = 1024 * 1024
MAX_REQUEST_BYTES = defaults.MAX_DOWNLOAD_BYTES + FORM_OVERHEAD_BYTES

DESCRIPTION = """Start ShelfReady workflows (photo -> recognition -> listing -> image set) and
read their state. When the server has API keys (`SHELFREADY_API_KEYS`, `SHELFREADY_API_TOKEN` or
keys made with `shelfready api-key add`), every `/api` route needs
`Authorization: Bearer <key>`, and each key sees only the workflows it created."""
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


class QueryStringFilter(logging.Filter):
    """Access-log lines without query strings: a signed URL or a token in one stays out."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], without_query(args[2]), *args[3:])
        return True


def hide_query_strings_in_access_log() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, QueryStringFilter) for f in access.filters):
        access.addFilter(QueryStringFilter())


def create_app(settings: Settings | None = None) -> FastAPI:
    """The API. Without `settings`, they are read from the environment at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ApiState.open(settings or get_settings())
        app.state.api = state
        if not state.settings.api_docs:  # SHELFREADY_API_DOCS=false: no /docs, /redoc, schema
            app.router.routes[:] = [
                route for route in app.router.routes if getattr(route, "path", "") not in DOCS_PATHS
            ]
        log.info("API ready (storage: %s)", state.storage.description)
        try:
            yield
        finally:
            state.close()

    app = FastAPI(
        title="ShelfReady API",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, max_bytes=MAX_REQUEST_BYTES)
    hide_query_strings_in_access_log()
    app.include_router(listing_routes.router)  # before workflows: GET "" and /{id}/review
    app.include_router(workflows.router)
    app.include_router(media_routes.router)
    app.include_router(export_routes.router)
    app.include_router(health.router)
    app.include_router(metrics_route.router)
    web.mount(app)
    _add_error_handlers(app)
    return app


def _unavailable(what: str) -> JSONResponse:
    return JSONResponse({"detail": f"{what} is unavailable; try again shortly"}, status_code=503)


def _add_error_handlers(app: FastAPI) -> None:
    """A dependency that is down is a 503 naming it, not a bare 500 (details go to the log)."""

    @app.exception_handler(BodyTooLarge)
    async def body_too_large(_: Request, exc: BodyTooLarge) -> JSONResponse:
        return too_large_response(exc.limit)

    @app.exception_handler(redis.ConnectionError)
    @app.exception_handler(redis.TimeoutError)
    async def redis_down(request: Request, exc: redis.RedisError) -> JSONResponse:
        log.error("Redis failed during %s %s: %s", request.method, request.url.path, exc)
        return _unavailable("the job queue (Redis)")

    @app.exception_handler(OperationalError)
    async def database_down(request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database failed during %s %s: %s", request.method, request.url.path, exc.orig)
        return _unavailable("the database")

    @app.exception_handler(PipelineError)
    async def pipeline_broken(request: Request, exc: PipelineError) -> JSONResponse:
        # A deployment fault (say the first stage's image never registered), not the caller's.
        log.error("no pipeline during %s %s: %s", request.method, request.url.path, exc)
        return _unavailable("the pipeline (no complete set of stages is registered)")

    @app.exception_handler(StorageError)
    async def storage_down(request: Request, exc: StorageError) -> JSONResponse:
        log.error("storage failed during %s %s: %s", request.method, request.url.path, exc)
        return _unavailable("image storage")


app = create_app()
