"""`/api/workflows`: start a workflow (photo URL or upload), read it, retry it."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Annotated, Any, TypeVar, get_origin

from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, UploadFile

from shelfready_api.access import OwnedWorkflow
from shelfready_api.deps import CurrentCaller, DbSession, State, authenticate
from shelfready_api.intake import start_from_upload, start_from_url
from shelfready_api.limits import submission_allowed
from shelfready_api.models import (
    ErrorDetail,
    LegacyStartRequest,
    LegacyStartResponse,
    RetryAccepted,
    UploadFields,
    WorkflowAccepted,
    WorkflowCreate,
    WorkflowState,
)
from shelfready_api.uploads import UploadRejected, check_image, check_size
from shelfready_core import defaults
from shelfready_core.errors import InvalidInput, WorkflowNotFound
from shelfready_core.fetch_guard import FetchRefused
from shelfready_core.producer import retry
from shelfready_core.schemas import ListingRequest
from shelfready_core.views import workflow_json

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/workflows",
    tags=["workflows"],
    dependencies=[Depends(authenticate)],
    responses={401: {"model": ErrorDetail, "description": "Bearer token missing or wrong"}},
)

WorkflowId = Annotated[str, Path(min_length=1, max_length=128, description="The workflow id")]
LIMITED: dict[int | str, dict[str, Any]] = {
    429: {"model": ErrorDetail, "description": "Rate limit or queue cap; see Retry-After"}
}

UPLOAD_PART = "file"
MAX_FORM_FIELDS = 64

M = TypeVar("M", bound=BaseModel)


def _create_body_openapi() -> dict[str, Any]:
    """The create route reads its body itself (JSON or multipart), so describe both here."""
    upload = UploadFields.model_json_schema()
    upload["properties"] = {
        UPLOAD_PART: {"type": "string", "format": "binary", "description": "The product photo"},
        **upload["properties"],
    }
    upload["required"] = [UPLOAD_PART]
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": WorkflowCreate.model_json_schema()},
                "multipart/form-data": {"schema": upload},
            },
        }
    }


def _status_url(request: Request, workflow_id: str) -> str:
    return request.url_for("get_workflow", workflow_id=workflow_id).path


def _validation_error(exc: ValidationError) -> RequestValidationError:
    """The same 422 shape FastAPI gives for bodies it parses itself (inputs left out: an input
    may be an uploaded file)."""
    errors = exc.errors(include_url=False, include_context=False, include_input=False)
    return RequestValidationError([{**error, "loc": ("body", *error["loc"])} for error in errors])


def _parse(model: type[M], data: bytes | dict[str, Any]) -> M:
    try:
        if isinstance(data, bytes):
            return model.model_validate_json(data)
        return model.model_validate(data)
    except ValidationError as exc:
        raise _validation_error(exc) from exc


def _refused_url(exc: FetchRefused, field: str) -> RequestValidationError:
    """A URL the fetch guard refuses is a 422 on its field, like any other invalid field."""
    return RequestValidationError(
        [{"type": "value_error", "loc": ("body", field), "msg": str(exc), "input": None}]
    )


async def _start_from_url(
    state: State, image_url: str, request: ListingRequest, owner: str | None, field: str
) -> str:
    try:
        return await run_in_threadpool(start_from_url, state, image_url, request, owner)
    except FetchRefused as exc:
        raise _refused_url(exc, field) from exc


def _form_fields(form: FormData) -> dict[str, Any]:
    """Form fields as a dict for UploadFields: list fields repeat, blank fields count as unset.
    Unknown names are kept so validation names them."""
    fields: dict[str, Any] = {}
    for name in dict.fromkeys(form.keys()):
        if name == UPLOAD_PART:
            continue
        values = [value for value in form.getlist(name) if value != ""]
        info = UploadFields.model_fields.get(name)
        if info is not None and get_origin(info.annotation) is list:
            fields[name] = values
        elif values:
            fields[name] = values[-1]
    return fields


async def _start_from_form(request: Request, state: State, owner: str | None) -> str:
    async with request.form(max_files=1, max_fields=MAX_FORM_FIELDS) as form:
        upload = form.get(UPLOAD_PART)
        if not isinstance(upload, UploadFile):
            raise HTTPException(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"multipart upload needs a {UPLOAD_PART!r} part holding the photo",
            )
        fields = _parse(UploadFields, _form_fields(form))
        name = upload.filename or "photo"
        data = await upload.read(defaults.MAX_DOWNLOAD_BYTES + 1)
    try:
        check_size(data, name)
        checked = await run_in_threadpool(check_image, data, name)
    except UploadRejected as exc:
        raise HTTPException(exc.status, exc.message) from exc
    return await run_in_threadpool(
        start_from_upload, state, data, name, checked.content_type, fields.listing_request(), owner
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=WorkflowAccepted,
    name="create_workflow",
    summary="Start a workflow from a photo URL (JSON) or an uploaded photo (multipart)",
    openapi_extra=_create_body_openapi(),
    dependencies=[Depends(submission_allowed)],
    responses={
        413: {"model": ErrorDetail, "description": "Upload above the size limit"},
        415: {"model": ErrorDetail, "description": "Neither JSON nor multipart"},
        422: {"description": "Invalid fields, URL, or not an image"},
        **LIMITED,
    },
)
async def create_workflow_route(
    request: Request, response: Response, state: State, caller: CurrentCaller
) -> WorkflowAccepted:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type == "multipart/form-data":
        workflow_id = await _start_from_form(request, state, caller.owner)
    elif media_type == "application/json":
        body = _parse(WorkflowCreate, await request.body())
        workflow_id = await _start_from_url(
            state, body.image_url, body.listing_request(), caller.owner, "image_url"
        )
    else:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"unsupported content type {media_type or 'none'!r}: send application/json with "
            f"image_url, or multipart/form-data with a {UPLOAD_PART!r} part",
        )
    status_url = _status_url(request, workflow_id)
    response.headers["Location"] = status_url
    return WorkflowAccepted(workflow_id=workflow_id, status_url=status_url)


@router.post(
    "/start",
    response_model=LegacyStartResponse,
    deprecated=True,
    summary="The previous system's start route (camelCase), kept for existing clients",
    dependencies=[Depends(submission_allowed)],
    responses={**LIMITED},
)
async def start_workflow_legacy(
    body: LegacyStartRequest, state: State, caller: CurrentCaller
) -> LegacyStartResponse:
    request = _parse(ListingRequest, {"category": body.category, "brand": body.brand})
    workflow_id = await _start_from_url(state, body.image_url, request, caller.owner, "imageUrl")
    return LegacyStartResponse(workflow_id=workflow_id)


@router.get(
    "/{workflow_id}",
    response_model=WorkflowState,
    response_model_exclude_unset=True,  # `events` only when asked for, as in the CLI
    name="get_workflow",
    summary="The workflow's state: status, step, progress, product, listing, images, usage",
    responses={404: {"model": ErrorDetail, "description": "Unknown workflow id"}},
)
def get_workflow_route(
    workflow: OwnedWorkflow, session: DbSession, events: bool = False
) -> dict[str, Any]:
    return workflow_json(session, workflow, events=events)


@router.post(
    "/{workflow_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RetryAccepted,
    summary="Resume a FAILED workflow from the step that failed",
    responses={
        404: {"model": ErrorDetail, "description": "Unknown workflow id"},
        409: {"model": ErrorDetail, "description": "The workflow is not FAILED"},
        **LIMITED,
    },
    dependencies=[Depends(submission_allowed)],
)
def retry_workflow(
    workflow_id: WorkflowId, workflow: OwnedWorkflow, request: Request, state: State
) -> RetryAccepted:
    try:
        service = retry(state.settings, state.redis, workflow_id)
    except WorkflowNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except InvalidInput as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return RetryAccepted(
        workflow_id=workflow_id,
        resumed_service=service,
        status_url=_status_url(request, workflow_id),
    )
