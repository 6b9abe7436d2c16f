"""Serving a workflow's images to its owner: bytes from local storage, or a redirect to the
bucket (its public URL, or a freshly presigned one)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from sqlmodel import col, select

from shelfready_api.access import Caller, workflow_for_caller
from shelfready_api.deps import DbSession, State, require_token
from shelfready_api.models import ErrorDetail
from shelfready_api.workflows import WorkflowId
from shelfready_core.models import ImageSet, ListingImage, Product
from shelfready_core.storage import Storage, StorageNotFound

router = APIRouter(
    prefix="/api/workflows",
    tags=["images"],
    dependencies=[Depends(require_token)],
    responses={
        401: {"model": ErrorDetail, "description": "Bearer token missing or wrong"},
        404: {"model": ErrorDetail, "description": "No such workflow or image"},
    },
)

ImageIndex = Annotated[int, Path(ge=1, le=5, description="Image slot: 1 main, 2-5 secondary")]
# Regenerating rewrites an image under the same key, so a client must revalidate.
CACHE_CONTROL = "private, no-cache"


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, what)


async def _serve(storage: Storage, key: str, content_type: str) -> Response:
    url = storage.url(key)
    if url.startswith(("http://", "https://")):
        return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT)
    try:
        data = await run_in_threadpool(storage.get, key)
    except StorageNotFound as exc:
        raise _not_found(f"the stored file for {key} is missing") from exc
    return Response(data, media_type=content_type, headers={"Cache-Control": CACHE_CONTROL})


def _image(session: DbSession, workflow_id: str, index: int) -> ListingImage:
    image = session.exec(
        select(ListingImage)
        .join(ImageSet, col(ImageSet.id) == col(ListingImage.image_set_id))
        .where(ImageSet.workflow_id == workflow_id, ListingImage.index == index)
    ).first()
    if image is None or image.key is None:
        raise _not_found(f"workflow {workflow_id} has no image {index}")
    return image


@router.get("/{workflow_id}/images/{index}", summary="One listing image (full size)")
async def get_image(
    workflow_id: WorkflowId, index: ImageIndex, session: DbSession, state: State, caller: Caller
) -> Response:
    workflow = workflow_for_caller(session, workflow_id, caller)
    image = _image(session, workflow.id, index)
    assert image.key is not None
    return await _serve(state.storage, image.key, image.content_type or "image/jpeg")


@router.get("/{workflow_id}/images/{index}/thumbnail", summary="One listing image's thumbnail")
async def get_thumbnail(
    workflow_id: WorkflowId, index: ImageIndex, session: DbSession, state: State, caller: Caller
) -> Response:
    workflow = workflow_for_caller(session, workflow_id, caller)
    image = _image(session, workflow.id, index)
    if image.thumbnail_key is None:
        raise _not_found(f"image {index} of workflow {workflow_id} has no thumbnail")
    return await _serve(state.storage, image.thumbnail_key, "image/jpeg")


@router.get("/{workflow_id}/photo", summary="The seller's original photo, as recognition saved it")
async def get_photo(
    workflow_id: WorkflowId, session: DbSession, state: State, caller: Caller
) -> Response:
    workflow = workflow_for_caller(session, workflow_id, caller)
    product = session.exec(select(Product).where(Product.workflow_id == workflow.id)).first()
    if product is None:
        raise _not_found(f"workflow {workflow_id} has no saved photo yet")
    return await _serve(state.storage, product.original_key, "image/jpeg")
