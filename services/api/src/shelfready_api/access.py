"""Who may see which workflow: the ONE place the workspace routes load a workflow for a caller.

Today every caller with the API token sees every workflow. When API keys own workflows, the
owner check goes into `workflow_for_caller` and `scope_to_caller` and nowhere else.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, status
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from shelfready_api.deps import require_token
from shelfready_core.models import Workflow

# What the auth dependency knows about the caller (None while one shared token guards the API).
Caller = Annotated[None, Depends(require_token)]

T = TypeVar("T")


def workflow_for_caller(
    session: Session, workflow_id: str, caller: None, *, for_update: bool = False
) -> Workflow:
    """The workflow, or 404 when it does not exist or belongs to someone else (the same
    answer, so ids of others' workflows cannot be probed)."""
    del caller  # the owner check plugs in here
    workflow = session.get(Workflow, workflow_id, with_for_update=for_update)
    if workflow is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no workflow with id {workflow_id}")
    return workflow


def scope_to_caller(statement: SelectOfScalar[T], caller: None) -> SelectOfScalar[T]:
    """Restrict a query over workflows to the caller's own."""
    del caller
    return statement
