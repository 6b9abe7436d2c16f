"""ShelfReady's own exceptions, in one flat module."""

from __future__ import annotations


class ShelfReadyError(Exception):
    """Base class of every error ShelfReady raises on purpose."""


class InvalidInput(ShelfReadyError):
    """The seller's input cannot be processed; retrying would not help."""


class StageError(ShelfReadyError):
    """A stage failed for a reason worth retrying (the job-level retry policy decides)."""


class NotRetryable(ShelfReadyError):
    """A stage failure that would recur on every retry (e.g. an answer still unusable after
    its repair turn, or a spent call budget): the job fails now instead of being retried."""


class ReadableStageError(StageError):
    """A retryable failure whose message is written for the seller and shown as it is (no
    exception class name), e.g. "could not download the photo from HOST: timed out"."""


class WorkflowNotFound(ShelfReadyError, LookupError):
    def __init__(self, workflow_id: str) -> None:
        super().__init__(f"no workflow with id {workflow_id!r}")
        self.workflow_id = workflow_id


class ServiceUnavailable(ShelfReadyError):
    """A remote service is known to be down (circuit open): defer the job, do not fail it.

    `cause` says what is wrong in a few words ("ANTHROPIC_API_KEY was rejected"); it names
    the outage in events, in health and in the reason of a workflow that waited too long.
    """

    def __init__(self, message: str, retry_after_seconds: float, cause: str | None = None) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds
        self.cause = cause


class CredentialRejected(ServiceUnavailable):
    """A service refused our credential (HTTP 401/403): a configuration outage, not the job's
    fault. Retrying the job cannot help; waiting until an operator fixes the key can."""

    def __init__(self, message: str, credential: str, retry_after_seconds: float = 0.0) -> None:
        super().__init__(message, retry_after_seconds, cause=f"{credential} was rejected")
        self.credential = credential


class OutageOutlasted(ShelfReadyError):
    """A workflow waited its whole outage budget for a dependency that did not come back."""
