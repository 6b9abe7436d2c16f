"""Export packs over HTTP: one workflow (GET) or many (POST), as a ZIP download."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Response, status
from fastapi.concurrency import run_in_threadpool

from shelfready_api.access import Caller, workflow_for_caller
from shelfready_api.deps import Caller as KeyCaller
from shelfready_api.deps import DbSession, State, require_token
from shelfready_api.models import ErrorDetail
from shelfready_api.workflows import WorkflowId
from shelfready_api.workspace_models import BatchExport, ExportFormat
from shelfready_core.errors import InvalidInput
from shelfready_core.export import build_pack, gather_items

router = APIRouter(
    prefix="/api",
    tags=["export"],
    dependencies=[Depends(require_token)],
    responses={
        200: {"content": {"application/zip": {}}, "description": "The export pack (ZIP)"},
        401: {"model": ErrorDetail, "description": "Bearer token missing or wrong"},
        404: {"model": ErrorDetail, "description": "Unknown workflow id"},
        409: {"model": ErrorDetail, "description": "Not finished, or not approved"},
    },
)


async def _pack(
    session: DbSession,
    state: State,
    caller: KeyCaller,
    ids: Sequence[str],
    format: ExportFormat,
    include_unapproved: bool,
) -> Response:
    workflows = [workflow_for_caller(session, i, caller) for i in dict.fromkeys(ids)]
    try:
        items = await run_in_threadpool(
            gather_items,
            session,
            state.storage,
            workflows,
            include_unapproved=include_unapproved,
        )
        data = await run_in_threadpool(build_pack, items, format)
    except InvalidInput as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    name = f"shelfready-{format}-{items[0].sku if len(items) == 1 else len(items)}-{stamp}.zip"
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/workflows/{workflow_id}/export", summary="One workflow's export pack (ZIP)")
async def export_one(
    workflow_id: WorkflowId,
    session: DbSession,
    state: State,
    caller: Caller,
    format: ExportFormat = "amazon",
    include_unapproved: bool = False,
) -> Response:
    return await _pack(session, state, caller, [workflow_id], format, include_unapproved)


@router.post("/exports", summary="One export pack (ZIP) for many workflows")
async def export_many(
    body: BatchExport, session: DbSession, state: State, caller: Caller
) -> Response:
    return await _pack(session, state, caller, body.ids, body.format, body.include_unapproved)
