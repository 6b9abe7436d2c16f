"""`shelfready-api`: serve the API with uvicorn on $PORT (default 8000), every interface."""

from __future__ import annotations

import logging

import uvicorn

from shelfready_api.app import create_app
from shelfready_core.config import get_settings, port_from_env
from shelfready_core.logs import configure_logging

log = logging.getLogger(__name__)

DEFAULT_PORT = 8000


def run() -> None:  # pragma: no cover - console-script shim, exercised by hand
    settings = get_settings()
    configure_logging(settings)
    port = port_from_env() or DEFAULT_PORT
    # SHELFREADY_API_HOST: 0.0.0.0 by default, as a container's port must listen everywhere.
    host = settings.api_host
    log.info("serving the ShelfReady API on %s:%s", host, port)
    # log_config=None: uvicorn's loggers go through the handler configured above (text/JSON).
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None)
