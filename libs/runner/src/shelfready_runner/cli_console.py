"""A rich Console made on first use, so commands that print nothing fancy never import rich."""

from __future__ import annotations

from typing import Any


class LazyConsole:
    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Any = None

    def get(self) -> Any:
        """The rich Console itself, for code that wants one."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.get(), name)

    @staticmethod
    def escape(text: str) -> str:
        """Text shown as written: brackets in it are not rich markup."""
        from rich.markup import escape

        return escape(text)
