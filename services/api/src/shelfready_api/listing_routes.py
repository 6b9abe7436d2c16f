"""The seller's workspace over HTTP: list workflows, review and edit a listing, approve it,
regenerate the listing or one image."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from sqlalchemy import String, cast, func, or_
from sqlmodel import col, select

from shelfready_api.access import Caller, scope_to_caller, workflow_for_caller
from shelfready_api.deps import DbSession, State, require_token
from shelfready_api.limits import submission_allowed
from shelfready_api.listing_check import limits, rules_of
from shelfready_api.models import ErrorDetail
from shelfready_api.review import (
    NotReviewable,
    approval_blockers,
    approve,
    check_listing,
    edit_listing,
    versions,
)
from shelfready_api.workflows import WorkflowId
from shelfready_api.workspace_models import (
    ListingEdit,
    RegenerateAccepted,
    RegenerateRequest,
    Review,
    WorkflowPage,
    WorkflowSummary,
)
from shelfready_core.errors import InvalidInput, WorkflowNotFound
from shelfready_core.media_urls import image_route, shown_url
from shelfready_core.models import (
    ImageSet,
    Listing,
    ListingImage,
    Workflow,
    WorkflowStatus,
)
from shelfready_core.producer import REGENERATE_IMAGE, regenerate, regenerate_image
from shelfready_core.queues import stage_declaring
from shelfready_core.review_state import needs_review_clause
from shelfready_core.schemas import ListingRequest
from shelfready_core.stage import event

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/api/workflows",
    tags=["workspace"],
    dependencies=[Depends(require_token)],
    responses={401: {"model": ErrorDetail, "description": "Bearer token missing or wrong"}},
)

MAX_PAGE = 100
MAX_QUERY_CHARS = 200


@router.get("", response_model=WorkflowPage, summary="The caller's workflows, newest first")
def list_workflows(
    session: DbSession,
    caller: Caller,
    status_filter: Annotated[WorkflowStatus | None, Query(alias="status")] = None,
    needs_review: bool | None = None,
    q: Annotated[str | None, Query(max_length=MAX_QUERY_CHARS, description="Text search")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> WorkflowPage:
    flagged = needs_review_clause()
    query = scope_to_caller(
        select(Workflow).join(Listing, col(Listing.workflow_id) == col(Workflow.id), isouter=True),
        caller,
    )
    if status_filter is not None:
        query = query.where(col(Workflow.status) == status_filter)
    if needs_review is not None:
        query = query.where(flagged if needs_review else ~flagged)
    if q and q.strip():
        pattern = f"%{q.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(col(Workflow.source_name)).like(pattern),
                func.lower(col(Listing.title)).like(pattern),
                func.lower(cast(col(Workflow.request), String)).like(pattern),
            )
        )
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    # Three columns per row: beyond sqlmodel's typed exec(), so plain SQLAlchemy.
    rows = session.execute(
        query.add_columns(Listing, flagged.label("needs_review"))
        .order_by(col(Workflow.created_at).desc(), col(Workflow.id))
        .limit(limit)
        .offset(offset)
    ).all()
    return WorkflowPage(
        items=[_summary(session, w, listing, bool(flag)) for w, listing, flag in rows],
        total=total,
        limit=limit,
        offset=offset,
    )


def _summary(
    session: DbSession, workflow: Workflow, listing: Listing | None, flagged: bool
) -> WorkflowSummary:
    main = session.exec(
        select(ListingImage)
        .join(ImageSet, col(ImageSet.id) == col(ListingImage.image_set_id))
        .where(ImageSet.workflow_id == workflow.id, ListingImage.index == 1)
    ).first()
    return WorkflowSummary.model_validate(
        workflow,
        update={
            "sku": (workflow.request or {}).get("sku"),
            "title": listing.title if listing else None,
            "quality_score": listing.quality_score if listing else None,
            "needs_review": flagged,
            "approved": bool(listing and listing.approved_at),
            "thumbnail_url": main
            and shown_url(main.thumbnail_url, image_route(workflow.id, 1, thumbnail=True)),
        },
    )


def _conflict(exc: InvalidInput) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, str(exc))


def _review(session: DbSession, workflow: Workflow) -> Review:
    listing, result = check_listing(session, workflow)
    request = ListingRequest.model_validate(workflow.request or {})
    return Review(
        workflow_id=workflow.id,
        listing_version=listing.version,
        quality_score=result.score,
        quality_reasons=result.reasons,
        quality_approved=result.quality_approved,
        findings=result.findings,
        approved=listing.approved_at is not None,
        approved_at=listing.approved_at.isoformat() if listing.approved_at else None,
        approval_blockers=approval_blockers(session, workflow, result),
        limits=limits(rules_of(request)),
        versions=versions(session, workflow.id),
    )


_REVIEW_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "Unknown workflow id"},
    409: {"model": ErrorDetail, "description": "Not finished, or cannot be approved"},
}


@router.get(
    "/{workflow_id}/review",
    response_model=Review,
    summary="The listing's rule findings, score and reasons, limits and versions",
    responses=_REVIEW_ERRORS,
)
def get_review(workflow_id: WorkflowId, session: DbSession, caller: Caller) -> Review:
    workflow = workflow_for_caller(session, workflow_id, caller)
    try:
        return _review(session, workflow)
    except NotReviewable as exc:
        raise _conflict(exc) from exc


@router.patch(
    "/{workflow_id}/listing",
    response_model=Review,
    summary="Edit listing fields: re-checked by the marketplace rules, saved as a new version",
    responses=_REVIEW_ERRORS,
)
def patch_listing(
    workflow_id: WorkflowId, body: ListingEdit, session: DbSession, caller: Caller
) -> Review:
    workflow = workflow_for_caller(session, workflow_id, caller)
    changes = body.model_dump(include=body.model_fields_set)
    try:
        edit_listing(session, workflow, changes)
        session.flush()
        return _review(session, workflow)
    except NotReviewable as exc:
        raise _conflict(exc) from exc


@router.post(
    "/{workflow_id}/approve",
    response_model=Review,
    summary="Approve the listing for export (refused while a rule is broken)",
    responses=_REVIEW_ERRORS,
)
def approve_listing(workflow_id: WorkflowId, session: DbSession, caller: Caller) -> Review:
    workflow = workflow_for_caller(session, workflow_id, caller)
    try:
        approve(session, workflow)
        session.flush()
        return _review(session, workflow)
    except NotReviewable as exc:
        raise _conflict(exc) from exc


@router.post(
    "/{workflow_id}/regenerate",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RegenerateAccepted,
    summary="A new version of the listing (with feedback), or one image re-rendered",
    responses=_REVIEW_ERRORS,
    dependencies=[Depends(submission_allowed)],  # it queues paid work like a submission
)
def regenerate_route(
    workflow_id: WorkflowId,
    body: RegenerateRequest,
    request: Request,
    state: State,
    session: DbSession,
    caller: Caller,
) -> RegenerateAccepted:
    workflow = workflow_for_caller(session, workflow_id, caller)
    session.commit()  # release the read before the producer opens its own transaction
    try:
        if body.target == "image":
            assert body.image is not None
            regenerate_image(state.settings, state.redis, workflow.id, body.image)
            if body.feedback:
                # Kept in the history; the image renderer does not take feedback yet.
                session.add(
                    event(
                        workflow.id,
                        stage_declaring(REGENERATE_IMAGE).name,  # the stage that re-renders
                        "image_feedback",
                        f"image {body.image}: " + body.feedback,
                    )
                )
            target_id = workflow.id
        else:
            target_id = regenerate(state.settings, state.redis, workflow.id, feedback=body.feedback)
    except WorkflowNotFound as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except InvalidInput as exc:
        raise _conflict(exc) from exc
    return RegenerateAccepted(
        workflow_id=target_id,
        target=body.target,
        image=body.image,
        status_url=request.url_for("get_workflow", workflow_id=target_id).path,
    )
