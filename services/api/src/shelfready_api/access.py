"""Who may see which workflow: the ONE place the routes load a workflow for a caller.

Each API key owns the workflows it creates (`workflow.owner` holds its name); another key's
workflow is answered 404, exactly like one that does not exist, so ids cannot be probed. A
deployment without keys has one anonymous caller who sees everything (as the CLI does).
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Path, status
from sqlmodel import Session, col
from sqlmodel.sql.expression import SelectOfScalar

from shelfready_api.deps import Caller as KeyCaller
from shelfready_api.deps import DbSession, authenticate
from shelfready_core.errors import WorkflowNotFound
from shelfready_core.models import Workflow

# The caller, as the auth dependency identified them.
Caller = Annotated[KeyCaller, Depends(authenticate)]

T = TypeVar("T")


def workflow_for_caller(
    session: Session, workflow_id: str, caller: KeyCaller, *, for_update: bool = False
) -> Workflow:
    """The workflow, or 404 when it does not exist or belongs to another key (the same
    answer, so ids of others' workflows cannot be probed)."""
    workflow = session.get(Workflow, workflow_id, with_for_update=for_update)
    if workflow is None or not caller.may_see(workflow):
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(WorkflowNotFound(workflow_id)))
    return workflow


def scope_to_caller(statement: SelectOfScalar[T], caller: KeyCaller) -> SelectOfScalar[T]:
    """Restrict a query over workflows to the caller's own."""
    if caller.owner is None:
        return statement
    return statement.where(col(Workflow.owner) == caller.owner)


def owned_workflow(
    workflow_id: Annotated[str, Path(min_length=1, max_length=128, description="The workflow id")],
    caller: Caller,
    session: DbSession,
) -> Workflow:
    """`workflow_for_caller` as a dependency, for routes that take the workflow as a parameter."""
    return workflow_for_caller(session, workflow_id, caller)


OwnedWorkflow = Annotated[Workflow, Depends(owned_workflow)]
