"""The integration suite's private deployment (`pipeline`) and fake Claude, reused here."""

from tests.integration.conftest import claude_server, pipeline

__all__ = ["claude_server", "pipeline"]
