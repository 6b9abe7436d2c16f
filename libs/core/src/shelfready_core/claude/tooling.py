"""Structured answers: through structured outputs (constrained JSON) or one forced tool.

Structured outputs (`messages.parse` with the pydantic model) make schema validity a property
of decoding; the forced tool is the fallback for models without them. Either way the answer
is checked here and, when it is wrong, a repair turn quotes exactly what was wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from anthropic import transform_schema
from anthropic.types import Message, ToolUseBlock
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

# Models that predate structured outputs (they get the forced tool). Structured outputs came
# with the 4.5 generation (Sonnet 4.5, Opus 4.1/4.5, Haiku 4.5) and every model since.
_NO_STRUCTURED_OUTPUTS = re.compile(
    r"^claude-(?:instant|2|3|3-5|3-7)\b|^claude-(?:\d-)*(?:sonnet|opus|haiku)-(?:3|4)(?:-\d{8}|$)"
    r"|^claude-(?:sonnet|opus|haiku)-4-0|^claude-opus-4-20|^claude-sonnet-4-20"
)


def supports_structured_outputs(model: str) -> bool:
    """Whether `model` takes `output_config.format` (structured outputs)."""
    return not _NO_STRUCTURED_OUTPUTS.search(model.strip().lower())


def output_config_for(output: type[BaseModel]) -> dict[str, Any]:
    """The structured-outputs config for `output`, as `messages.parse(output_format=...)` builds
    it (the SDK's transform_schema makes the JSON schema strict)."""
    return {"format": {"type": "json_schema", "schema": transform_schema(output)}}


@dataclass
class Exchange(Generic[M]):
    """One checked answer: the value, or the errors and the turn that asks for a repair."""

    value: M | None
    errors: list[str]
    response: Message
    output: type[M]
    structured_outputs: bool
    max_tokens: int

    def repair_turn(self, errors: list[str]) -> list[dict[str, Any]]:
        if self.structured_outputs:
            return json_repair_turn(self.response, self.output, errors)
        return repair_turn(self.response, self.output, errors)


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


def answer_text(response: Message) -> str:
    return "".join(block.text for block in response.content if block.type == "text")


def check_parsed(
    response: Message,
    output: type[M],
    validate: Callable[[M], list[str]] | None,
    parse_errors: list[str],
) -> tuple[M | None, list[str]]:
    """Like `check_answer`, for a structured-outputs answer (JSON text parsed by the SDK)."""
    if parse_errors:
        return None, parse_errors
    text = answer_text(response)
    if not text.strip():
        return None, [f"the answer holds no {output.__name__} JSON"]
    try:
        value = output.model_validate_json(text)
    except ValidationError as exc:
        return None, format_validation_errors(exc)
    problems = list(validate(value)) if validate is not None else []
    return (None, problems) if problems else (value, [])


def json_repair_turn(
    response: Message, output: type[BaseModel], errors: list[str]
) -> list[dict[str, Any]]:
    """The assistant's JSON answer plus a user turn quoting what was wrong with it."""
    listed = "\n".join(f"- {error}" for error in errors)
    instruction = (
        f"Your {output.__name__} has these problems:\n{listed}\n"
        f"Answer again with the complete, corrected {output.__name__}."
    )
    text = answer_text(response)
    if not text:
        return [{"role": "user", "content": instruction}]
    return [
        {"role": "assistant", "content": [{"type": "text", "text": text}]},
        {"role": "user", "content": instruction},
    ]


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
