"""Optional OpenAI-compatible image API for the secondary images (scene, detail, ...)."""

from __future__ import annotations

from typing import Protocol


class SecondaryImageProvider(Protocol):
    def generate(self, *, kind: str, prompt: str, reference: bytes) -> bytes:
        """Return an encoded image (any size) for one secondary image kind."""
        ...
