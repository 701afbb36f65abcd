"""A scripted model that uses the gateway's retrieve tool, for the fakes' `responder` hook.

It plays what a careful model does with an elided prompt: when it is offered a tool named
`anyray_retrieve...` and the prompt names a handle (`h_` and 16 hex digits, as the optimizer's markers
do), it first says a word and calls the tool for the first handle (optionally with a query); once the
tool's answer is the last thing in the conversation it answers, quoting the start of what it got back.
Either dialect: the fakes turn these content blocks into their own shapes.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

HANDLE = re.compile(r"\bh_[0-9a-f]{16}\b")
CALL_ID = "toolu_anyray_test_retrieve_{n}"
QUOTED = 160  # how much of the retrieved text the final answer quotes


def _tool_names(body: dict[str, Any]) -> list[str]:
    names = []
    for tool in body.get("tools") or ():
        if isinstance(tool, dict):
            names.append(str(tool.get("name") or (tool.get("function") or {}).get("name") or ""))
    return names


def _last_retrieved(messages: list[Any]) -> str | None:
    """The text of our tool's answer, when it is the conversation's last message(s)."""
    last = messages[-1] if messages else None
    if not isinstance(last, dict):
        return None
    if last.get("role") == "tool" and str(last.get("tool_call_id", "")).startswith("toolu_anyray_test"):
        return str(last.get("content"))
    content = last.get("content")
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict) and block.get("type") == "tool_result" \
                and str(block.get("tool_use_id", "")).startswith("toolu_anyray_test"):
            inner = block.get("content")
            return inner if isinstance(inner, str) else orjson.dumps(inner).decode()
    return None


class RetrievingModel:
    """`fake.responder = RetrievingModel()`: retrieves up to `times` times, then answers."""

    def __init__(self, times: int = 1, query: str | None = None) -> None:
        self.times = times
        self.query = query
        self.calls = 0

    def __call__(self, body: dict[str, Any]) -> list[dict[str, Any]] | None:
        # the gateway offers its tool last, under a free name when the client has one called anyray_retrieve
        name = next((n for n in reversed(_tool_names(body)) if n.startswith("anyray_retrieve")), None)
        messages = body.get("messages") or []
        retrieved = _last_retrieved(messages)
        if name is None:
            return None
        if retrieved is not None and self.calls >= self.times:
            return [{"type": "text", "text": f"Retrieved: {retrieved[:QUOTED]}"}]
        handles = HANDLE.findall(orjson.dumps(messages).decode())
        if not handles:
            return None
        self.calls += 1
        arguments: dict[str, Any] = {"handle": handles[0]}
        if self.query:
            arguments["query"] = self.query
        return [{"type": "text", "text": "Let me read the part that was left out."},
                {"type": "tool_use", "id": CALL_ID.format(n=self.calls), "name": name, "input": arguments}]
