"""The Claude client shared by the recognition and listing services.

The client and the tool helpers import the anthropic SDK (~40 MB resident), so they load on
first use: a service that only needs the circuit breaker (imagegen's image API) never pays.
"""

from typing import Any

from shelfready_core.claude.breaker import (
    CircuitBreaker,
    RedisCircuitBreaker,
    make_breaker,
)
from shelfready_core.claude.errors import (
    ClaudeCredentialRejected,
    ClaudeError,
    ClaudeNotConfigured,
    ClaudeOutputTruncated,
    ClaudeRefusal,
    ClaudeRequestError,
    ClaudeTimeout,
    ClaudeTransientError,
    ClaudeUnavailable,
    StructuredOutputError,
)


def __getattr__(name: str) -> Any:
    if name == "ClaudeClient":
        from shelfready_core.claude.client import ClaudeClient

        return ClaudeClient
    if name == "tool_name_for":
        from shelfready_core.claude.tooling import tool_name_for

        return tool_name_for
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CircuitBreaker",
    "ClaudeClient",
    "ClaudeCredentialRejected",
    "ClaudeError",
    "ClaudeNotConfigured",
    "ClaudeOutputTruncated",
    "ClaudeRefusal",
    "ClaudeRequestError",
    "ClaudeTimeout",
    "ClaudeTransientError",
    "ClaudeUnavailable",
    "RedisCircuitBreaker",
    "StructuredOutputError",
    "make_breaker",
    "tool_name_for",
]
