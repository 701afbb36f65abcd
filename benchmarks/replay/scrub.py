"""Keep a vendor's prose out of the repository: Claude Code's system prompt, tool descriptions and
<system-reminder> blocks are replaced by filler of the same length before a session is stored.

Only the words go; the structure stays (block order, cache_control marks, tool names and schemas, the
length of every text), so what the strategies and the fake's prompt-cache accounting see is the same
size and shape, and the same text always becomes the same filler, so prefixes stay identical turn to
turn.
"""

from __future__ import annotations

import re
from typing import Any

_WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
          "et dolore magna aliqua ")
_REMINDER = re.compile(r"<system-reminder>.*?</system-reminder>", re.S)


def filler(text: str) -> str:
    """Filler as long as `text`, keeping its line breaks (line-based strategies see the same lines)."""
    out = []
    for line in text.split("\n"):
        out.append((_WORDS * (len(line) // len(_WORDS) + 1))[: len(line)])
    return "\n".join(out)


def _reminders(text: str) -> str:
    return _REMINDER.sub(lambda m: "<system-reminder>" + filler(m.group(0)[17:-18]) + "</system-reminder>", text)


def _scrub_content(content: Any) -> Any:
    if isinstance(content, str):
        return _reminders(content)
    if isinstance(content, list):
        return [_scrub_block(b) for b in content]
    return content


def _scrub_block(block: Any) -> Any:
    if not isinstance(block, dict):
        return block
    if block.get("type") == "text" and isinstance(block.get("text"), str):
        return {**block, "text": _reminders(block["text"])}
    if block.get("type") == "tool_result" and "content" in block:
        return {**block, "content": _scrub_content(block["content"])}
    return block


def scrub_request(request: dict[str, Any]) -> dict[str, Any]:
    out = dict(request)
    system = request.get("system")
    if isinstance(system, str):
        out["system"] = filler(system)
    elif isinstance(system, list):
        out["system"] = [{**b, "text": filler(b["text"])} if isinstance(b.get("text"), str) else b for b in system]
    if isinstance(request.get("tools"), list):
        out["tools"] = [_scrub_tool(t) for t in request["tools"]]
    if isinstance(request.get("messages"), list):
        out["messages"] = [{**m, "content": _scrub_content(m.get("content"))} for m in request["messages"]]
    return out


def _scrub_tool(tool: Any) -> Any:
    if not isinstance(tool, dict):
        return tool
    out = dict(tool)
    if isinstance(tool.get("description"), str):
        out["description"] = filler(tool["description"])
    schema = tool.get("input_schema")
    if isinstance(schema, dict):
        out["input_schema"] = _scrub_schema(schema)
    return out


def _scrub_schema(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: (filler(v) if k == "description" and isinstance(v, str) else _scrub_schema(v))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_scrub_schema(v) for v in node]
    return node
