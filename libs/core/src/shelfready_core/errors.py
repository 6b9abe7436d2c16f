"""ShelfReady's own exceptions, in one flat module."""

from __future__ import annotations


class ShelfReadyError(Exception):
    """Base class of every error ShelfReady raises on purpose."""


class InvalidInput(ShelfReadyError):
    """The seller's input cannot be processed; retrying would not help."""


class StageError(ShelfReadyError):
    """A stage failed for a reason worth retrying (the job-level retry policy decides)."""


class WorkflowNotFound(ShelfReadyError, LookupError):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"no workflow with id {workflow_id!r}")
        self.workflow_id = workflow_id


class ServiceUnavailable(ShelfReadyError):
    """A remote service is known to be down (circuit open): defer the job, do not fail it."""

    def __init__(self, message: str, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
