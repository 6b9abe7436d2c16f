"""The Claude client shared by the recognition and listing services."""

from shelfready_core.claude.breaker import (
    CircuitBreaker,
    LocalCircuitBreaker,
    RedisCircuitBreaker,
    make_breaker,
)
from shelfready_core.claude.client import ClaudeClient
from shelfready_core.claude.errors import (
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
from shelfready_core.claude.tooling import tool_name_for

__all__ = [
    "CircuitBreaker",
    "ClaudeClient",
    "ClaudeError",
    "ClaudeNotConfigured",
    "ClaudeOutputTruncated",
    "ClaudeRefusal",
    "ClaudeRequestError",
    "ClaudeTimeout",
    "ClaudeTransientError",
    "ClaudeUnavailable",
    "LocalCircuitBreaker",
    "RedisCircuitBreaker",
    "StructuredOutputError",
    "make_breaker",
    "tool_name_for",
]
