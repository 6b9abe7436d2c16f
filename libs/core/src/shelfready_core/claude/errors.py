"""Every error the Claude client raises, in one flat module.

Messages name the stage, the model and the cause; they never contain the API key.
They also fit the job lifecycle's classes: a refusal is InvalidInput (retrying cannot help),
transient failures and invalid answers are StageError (the job's retries get another go),
an open breaker is ServiceUnavailable and a rejected key CredentialRejected (both defer the
job, not fail it).
"""

from __future__ import annotations

from shelfready_core.errors import (
    CredentialRejected,
    InvalidInput,
    NotRetryable,
    ServiceUnavailable,
    ShelfReadyError,
    StageError,
)
from shelfready_core.schemas import CallUsage


class ClaudeError(ShelfReadyError):
    """Base class. `usage` lists the paid calls made before the failure, for cost accounting."""

    def __init__(self, message: str, *, usage: list[CallUsage] | None = None) -> None:
        super().__init__(message)
        self.usage: list[CallUsage] = list(usage or [])


class ClaudeNotConfigured(ClaudeError):
    """No API key: set ANTHROPIC_API_KEY, or SHELFREADY_AI=offline for the offline stand-in."""


class StructuredOutputError(ClaudeError, StageError):
    """Claude's answer did not validate, even after the one repair turn."""

    def __init__(
        self, message: str, *, errors: list[str] | None = None, usage: list[CallUsage] | None = None
    ) -> None:
        super().__init__(message, usage=usage)
        self.errors = list(errors or [])


class ClaudeOutputTruncated(StructuredOutputError):
    """The answer hit `max_tokens` twice (the client retries once with twice the budget)."""


class CallBudgetExhausted(ClaudeError, NotRetryable):
    """The stage has made as many Messages calls as its budget allows (across all attempts)."""


class ClaudeRefusal(ClaudeError, InvalidInput):
    """Claude declined to answer (stop_reason "refusal"). Retrying the same input will not help."""


class ClaudeRequestError(ClaudeError):
    """The API rejected the request itself (400/404/413...). Not retryable as is."""

    def __init__(
        self, message: str, *, status_code: int | None = None, usage: list[CallUsage] | None = None
    ) -> None:
        super().__init__(message, usage=usage)
        self.status_code = status_code


class ClaudeTransientError(ClaudeError, StageError):
    """Rate limit, overload, 5xx or connection failure that outlived the SDK's own retries."""

    def __init__(
        self, message: str, *, status_code: int | None = None, usage: list[CallUsage] | None = None
    ) -> None:
        super().__init__(message, usage=usage)
        self.status_code = status_code


class ClaudeMalformedResponse(ClaudeTransientError):
    """The API answered 200 with a body that is not a Message (a proxy or network fault)."""


class ClaudeTimeout(ClaudeTransientError):
    """Every attempt timed out (the timeout applies per attempt; the SDK retries timeouts)."""


class ClaudeUnavailable(ClaudeError, ServiceUnavailable):
    """The shared circuit breaker is open: no call was made. Try again after the given delay."""

    def __init__(
        self, message: str, *, retry_after_seconds: float, cause: str | None = None
    ) -> None:
        ServiceUnavailable.__init__(self, message, retry_after_seconds, cause)
        self.usage = []


class ClaudeCredentialRejected(ClaudeError, CredentialRejected):
    """The API refused ANTHROPIC_API_KEY (HTTP 401/403): a configuration outage for every
    worker. The breaker is tripped so no one else spends a call on it; the job is deferred."""

    def __init__(self, message: str, *, status_code: int, usage: list[CallUsage] | None = None):
        CredentialRejected.__init__(self, message, CREDENTIAL)
        self.usage = list(usage or [])
        self.status_code = status_code


CREDENTIAL = "ANTHROPIC_API_KEY"
