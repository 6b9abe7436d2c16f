"""Process-wide Anthropic SDK clients.

The SDK client holds an HTTP connection pool, so it is made lazily, once per process and
stage (keyed by pid too: RQ forks a work-horse per job and a pool must not cross a fork).
"""

from __future__ import annotations

import hashlib
import os
import threading

import anthropic

from shelfready_core.claude.errors import ClaudeNotConfigured
from shelfready_core.config import Settings

_clients: dict[tuple[object, ...], anthropic.Anthropic] = {}
_lock = threading.Lock()


def sdk_client(
    settings: Settings, *, stage: str, timeout: float, max_retries: int
) -> anthropic.Anthropic:
    """The SDK client for this process and stage; it retries 408/409/429/5xx/529 itself."""
    if settings.anthropic_api_key is None:
        raise ClaudeNotConfigured(
            f"{stage}: ANTHROPIC_API_KEY is not set; set it, or SHELFREADY_AI=offline "
            "to use the offline stand-in"
        )
    api_key = settings.anthropic_api_key.get_secret_value()
    # The key itself never goes into the cache key, only a digest of it.
    key_digest = hashlib.sha256(api_key.encode()).hexdigest()[:16]
    base_url = settings.anthropic_base_url or None
    cache_key = (os.getpid(), stage, base_url, timeout, max_retries, key_digest)
    with _lock:
        client = _clients.get(cache_key)
        if client is None:
            client = anthropic.Anthropic(
                api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
            )
            _clients[cache_key] = client
        return client
