"""A rich Console made on first use, so commands that print nothing fancy never import rich."""

from __future__ import annotations

import json
import sys
from typing import IO, Any


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

    def _stream(self) -> IO[str]:
        # Looked up at each call, as rich does: test runners swap sys.stdout.
        return sys.stderr if self._options.get("stderr") else sys.stdout

    def line(self, text: str) -> None:
        """One line as written (no markup, no emoji codes, no wrapping), without rich."""
        stream = self._stream()
        stream.write(text + "\n")
        stream.flush()

    def data(self, value: Any) -> None:
        """JSON: highlighted on a terminal; elsewhere (pipes, scripts) the same text rich
        prints there, written without importing rich."""
        if self._stream().isatty():
            self.get().print_json(json.dumps(value))
            return
        self.line(json.dumps(value, indent=2, ensure_ascii=False))

    @staticmethod
    def escape(text: str) -> str:
        """Text shown as written: brackets in it are not rich markup."""
        from rich.markup import escape

        return escape(text)
