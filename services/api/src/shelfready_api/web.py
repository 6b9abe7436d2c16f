"""The seller's web page at `/`: plain HTML, CSS and ES modules shipped inside this package.

No CDN and no build step: every asset is served from `static/` by the API itself. The page
holds no secret of its own; it sends the seller's API key (kept in the browser) with each call.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    # no-cache: a new release's page is picked up at once (assets are small).
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
