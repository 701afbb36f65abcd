"""What the fakes answer: deterministic replies derived from the request, and token estimates.

A test can then assert on content that only a correct round trip produces (the fake quotes what it
was sent), without scripting every answer by hand.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson


def estimate_tokens(value: Any) -> int:
    """About four bytes of canonical JSON per token: stable across runs and processes."""
    if value is None:
        return 0
    return max(1, len(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)) // 4)


def short_id(prefix: str, *parts: Any) -> str:
    digest = hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()
    return f"{prefix}{digest[:24]}"


def example_for(schema: Any) -> Any:
    """A value that validates against a (simple) JSON schema: required properties filled in."""
    if not isinstance(schema, dict):
        return "example"
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        required = schema.get("required") or list(props)[:1]
        return {name: example_for(props.get(name, {})) for name in required}
    if kind == "array":
        return [example_for(schema.get("items", {}))] if schema.get("minItems", 0) > 0 else []
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return float(schema.get("minimum", 1.5))
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return "example"


@dataclass(slots=True)
class Turn:
    """What the last user turn carried, whatever the dialect."""

    text: str = ""
    tool_results: list[str] | None = None
    images: int = 0


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(_content_text(b.get("text", b.get("content", ""))) for b in content if isinstance(b, dict))
    return ""


def anthropic_turn(messages: list[Any]) -> Turn:
    turn = Turn(tool_results=[])
    last = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
    if last is None:
        return turn
    content = last.get("content")
    if isinstance(content, str):
        turn.text = content
        return turn
    texts = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text":
            texts.append(block.get("text", ""))
        elif block.get("type") == "tool_result":
            turn.tool_results.append(_content_text(block.get("content")))
        elif block.get("type") in ("image", "document"):
            turn.images += 1
    turn.text = texts[-1] if texts else ""
    return turn


def reply_text(flavor: str, turn: Turn) -> str:
    if turn.tool_results:
        return f"Hello from fake-{flavor}! Tool result received: {' | '.join(turn.tool_results)}"
    seen = f" I see {turn.images} image{'s' if turn.images != 1 else ''}." if turn.images else ""
    return f"Hello from fake-{flavor}! You said: {turn.text}.{seen}"


def forced_anthropic_tool(payload: dict[str, Any]) -> dict[str, Any] | None:
    """The tool a request forces with tool_choice (`tool` by name, or `any`), if it forces one."""
    choice = payload.get("tool_choice")
    tools = [t for t in payload.get("tools") or () if isinstance(t, dict) and t.get("input_schema") is not None]
    if not isinstance(choice, dict) or not tools:
        return None
    if choice.get("type") == "tool":
        return next((t for t in tools if t.get("name") == choice.get("name")), None)
    if choice.get("type") == "any":
        return tools[0]
    return None


def split_words(text: str, per_chunk: int = 3) -> list[str]:
    """Cut text into small pieces, as a model streams it; joined back they equal the text."""
    words = text.split(" ")
    pieces = []
    for i in range(0, len(words), per_chunk):
        piece = " ".join(words[i : i + per_chunk])
        pieces.append(piece if i + per_chunk >= len(words) else piece + " ")
    return pieces or [""]
