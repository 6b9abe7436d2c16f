"""Object keys: what a valid key looks like, and the layout every service writes under."""

from __future__ import annotations

import re

# One path segment of a workflow id: letters, digits, '.', '_' or '-', not starting with '.'.
_WORKFLOW_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _problem(text: str, *, allow_trailing_slash: bool) -> str | None:
    """Why `text` is not a safe relative key (or prefix), or None when it is."""
    if not isinstance(text, str) or not text:
        return "it is empty"
    if text.startswith("/"):
        return "it is absolute (starts with '/')"
    if "\\" in text:
        return "it contains a backslash"
    if any(ord(char) < 0x20 or char == "\x7f" for char in text):
        return "it contains a control character"
    body = text[:-1] if allow_trailing_slash and text.endswith("/") else text
    for segment in body.split("/"):
        if not segment:
            return "it has an empty path segment ('//' or a trailing '/')"
        if segment in (".", ".."):
            return f"it has a '{segment}' path segment"
    return None


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative object key, else raise ValueError naming it.

    Both backends use the same rules, so a key that works locally also works on R2 and can
    never climb out of the local storage root.
    """
    problem = _problem(key, allow_trailing_slash=False)
    if problem:
        raise ValueError(f"invalid storage key {key!r}: {problem}")
    return key


def validate_prefix(prefix: str) -> str:
    """Like validate_key, but a trailing '/' is allowed (and usual) for a prefix."""
    problem = _problem(prefix, allow_trailing_slash=True)
    if problem:
        raise ValueError(f"invalid storage prefix {prefix!r}: {problem}")
    return prefix


def _validated_workflow_part(workflow_id: str, version: int) -> str:
    if not isinstance(workflow_id, str) or not _WORKFLOW_ID.fullmatch(workflow_id):
        raise ValueError(
            f"invalid workflow id {workflow_id!r}: expected 1-128 letters, digits, '.', '_' "
            "or '-', not starting with '.'"
        )
    # bool is an int subclass; True as a version is always a bug.
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"invalid workflow version {version!r}: expected an integer >= 0")
    return f"workflows/{workflow_id}/v{version}"


def workflow_key(workflow_id: str, version: int, name: str) -> str:
    """The key of one file of one workflow version: `workflows/<id>/v<version>/<name>`.

    `name` may have folders, e.g. `original.jpg`, `images/1-main.jpg`, `thumbs/1-main.jpg`.
    """
    return validate_key(f"{_validated_workflow_part(workflow_id, version)}/{validate_key(name)}")


def workflow_prefix(workflow_id: str, version: int | None = None) -> str:
    """The prefix holding all files of a workflow (or of one version), for delete_prefix."""
    if version is None:
        _validated_workflow_part(workflow_id, 0)
        return f"workflows/{workflow_id}/"
    return f"{_validated_workflow_part(workflow_id, version)}/"
