"""Builders for workload requests in both dialects, and the deterministic filler they are made of."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

SYSTEM = (
    "You are a coding and operations agent. Use the tools to inspect the system, then answer the user's "
    "question precisely, quoting the lines that support your answer."
)
TOOLS = [
    {
        "name": n,
        "description": d,
        "input_schema": {"type": "object", "properties": {p: {"type": "string"}}, "required": [p]},
    }
    for n, d, p in (
        ("Bash", "Run a shell command and return its output.", "command"),
        ("Read", "Read a file from the local filesystem, with line numbers.", "file_path"),
        ("Grep", "Search file contents with a regular expression.", "pattern"),
        ("WebFetch", "Fetch a URL and return its content as markdown.", "url"),
        ("search_docs", "Search the internal knowledge base.", "query"),
        ("recall", "Search notes and transcripts from earlier sessions.", "query"),
        ("http_get", "GET a JSON API endpoint.", "url"),
    )
]


@dataclass
class Workload:
    name: str
    question: str
    facts: list[str]
    request: dict[str, Any]
    endpoint: str = "/v1/messages"
    group: str = ""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def check(self) -> None:
        body = orjson.dumps(self.request).decode()
        for fact in self.facts:
            if json.dumps(fact)[1:-1] not in body:
                raise AssertionError(f"{self.name}: fact {fact!r} is not in the request")


Call = tuple[str, dict[str, Any], str]  # tool name, input, output


def anthropic(name: str, question: str, facts: list[str], rounds: list[list[Call]], **kw: Any) -> Workload:
    """User asks; each round the assistant calls tools and the user message returns their results."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": question}]
    n = 0
    for calls in rounds:
        uses, results = [], []
        for tool, arguments, output in calls:
            n += 1
            tool_id = f"toolu_{name[:8]}{n:04d}"
            uses.append({"type": "tool_use", "id": tool_id, "name": tool, "input": arguments})
            results.append({"type": "tool_result", "tool_use_id": tool_id, "content": output})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": "Let me look."}, *uses]})
        messages.append({"role": "user", "content": results})
    request = {"model": "claude-sonnet-4-5", "max_tokens": 4096, "system": SYSTEM, "tools": TOOLS, "messages": messages}
    return Workload(name, question, facts, request, **kw)


def openai(name: str, question: str, facts: list[str], rounds: list[list[Call]], **kw: Any) -> Workload:
    messages: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    n = 0
    for calls in rounds:
        tool_calls, results = [], []
        for tool, arguments, output in calls:
            n += 1
            call_id = f"call_{name[:8]}{n:04d}"
            tool_calls.append(
                {"id": call_id, "type": "function", "function": {"name": tool, "arguments": json.dumps(arguments)}}
            )
            results.append({"role": "tool", "tool_call_id": call_id, "content": output})
        messages.append({"role": "assistant", "content": None, "tool_calls": tool_calls})
        messages.extend(results)
    tools = [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t["description"], "parameters": t["input_schema"]},
        }
        for t in TOOLS
    ]
    request = {"model": "gpt-4o", "max_tokens": 4096, "tools": tools, "messages": messages}
    return Workload(name, question, facts, request, endpoint="/v1/chat/completions", **kw)


def rng(seed: str) -> random.Random:
    return random.Random(seed)


def ts(r: random.Random, base: int = 0, i: int = 0) -> str:
    seconds = base + i * 3 + r.randint(0, 2)
    hour, minute, second = 9 + seconds // 3600 % 12, seconds // 60 % 60, seconds % 60
    return f"2026-11-24T{hour:02d}:{minute:02d}:{second:02d}.{r.randint(0, 999):03d}Z"


def hexid(r: random.Random, n: int = 8) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


WORDS = tuple(
    re.findall(
        r"\S+",
        "request handled cache lookup user session token refreshed queue batch flushed worker heartbeat scheduled "
        "job completed metrics exported connection pool reused shard replica synced config reloaded upstream "
        "latency within budget",
    )
)


def sentence(r: random.Random, n: int = 8) -> str:
    return " ".join(r.choice(WORDS) for _ in range(n))


def insert(lines: list[str], at: float, block: list[str]) -> list[str]:
    i = int(len(lines) * at)
    return lines[:i] + block + lines[i:]


def numbered(text: str, start: int = 1) -> str:
    """What Claude Code's Read tool returns: right-aligned line numbers and an arrow."""
    return "\n".join(f"{i:6d}→{line}" for i, line in enumerate(text.split("\n"), start))
