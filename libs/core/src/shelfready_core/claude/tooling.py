"""Structured output through one forced tool: the tool definition, checks and the repair turn."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from anthropic.types import Message, ToolUseBlock
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def tool_name_for(output: type[BaseModel]) -> str:
    """ProductAnalysis -> "record_product_analysis" (the fake server keys its answers on it)."""
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", output.__name__).lower()
    return f"record_{snake}"


def tool_for(output: type[BaseModel]) -> dict[str, Any]:
    """A tool whose input schema is the pydantic model's JSON schema."""
    doc = (output.__doc__ or "").strip()
    return {
        "name": tool_name_for(output),
        "description": f"Record your complete answer as a {output.__name__}. {doc}".strip(),
        "input_schema": output.model_json_schema(),
    }


def forced_tool_choice(output: type[BaseModel]) -> dict[str, Any]:
    return {"type": "tool", "name": tool_name_for(output), "disable_parallel_tool_use": True}


def find_tool_use(response: Message, tool_name: str) -> ToolUseBlock | None:
    for block in response.content:
        if block.type == "tool_use" and block.name == tool_name:
            return block
    return None


def format_validation_errors(exc: ValidationError) -> list[str]:
    """One readable line per pydantic error: 'bullet_points: List should have ... (got [...])'."""
    lines = []
    for error in exc.errors(include_url=False):
        where = ".".join(str(part) for part in error["loc"]) or "(whole object)"
        if error["type"] == "missing":
            lines.append(f"{where}: {error['msg']}")
            continue
        got = repr(error.get("input"))
        got = got if len(got) <= 80 else got[:77] + "..."
        lines.append(f"{where}: {error['msg']} (got {got})")
    return lines


def check_answer(
    response: Message,
    output: type[M],
    validate: Callable[[M], list[str]] | None,
) -> tuple[M | None, list[str]]:
    """The validated value, or None and the list of problems with the answer."""
    tool_name = tool_name_for(output)
    block = find_tool_use(response, tool_name)
    if block is None:
        return None, [f"the answer did not call the tool {tool_name}"]
    try:
        value = output.model_validate(block.input)
    except ValidationError as exc:
        return None, format_validation_errors(exc)
    problems = list(validate(value)) if validate is not None else []
    return (None, problems) if problems else (value, [])


def _as_param(block: Any) -> dict[str, Any] | None:
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return None


def repair_turn(
    response: Message, output: type[BaseModel], errors: list[str]
) -> list[dict[str, Any]]:
    """The assistant's answer plus a user turn quoting what was wrong with it."""
    tool_name = tool_name_for(output)
    listed = "\n".join(f"- {error}" for error in errors)
    instruction = (
        f"The input you gave {tool_name} is invalid:\n{listed}\n"
        f"Call {tool_name} again with the complete, corrected input."
    )
    assistant = [param for block in response.content if (param := _as_param(block))]
    tool_uses = [param for param in assistant if param["type"] == "tool_use"]
    if not assistant:
        return [{"role": "user", "content": instruction}]
    if not tool_uses:
        return [
            {"role": "assistant", "content": assistant},
            {"role": "user", "content": instruction},
        ]
    # Every tool_use needs its tool_result; the error goes with each of them.
    results = [
        {"type": "tool_result", "tool_use_id": use["id"], "is_error": True, "content": instruction}
        for use in tool_uses
    ]
    return [{"role": "assistant", "content": assistant}, {"role": "user", "content": results}]
