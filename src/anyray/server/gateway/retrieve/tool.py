"""The retrieve tool the gateway offers a model when the optimizer elided part of its prompt.

Elision markers (`[anyray: ... handle h_...]`) say what was removed and under which handle; this tool is
how the model gets it back: the whole original, the lines a query matches, or a range of lines. The
gateway answers the call itself, from the optimizer's stash, and carries on the upstream conversation,
so the client sees one ordinary answer (retrieve/loop.py). Line numbers are the original's, counted
from 1, as the markers cite them.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

TOOL_NAME = "anyray_retrieve"
DESCRIPTION = (
    "Read text this conversation shows shortened: an [anyray: ...] marker says what was left out and names a "
    "handle. Pass the handle; add `query` for only the lines with those words, or `lines` (\"120-159\") for "
    "a range. Use it rather than guess what was left out."
)
PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {"handle": {"type": "string"}, "query": {"type": "string"}, "lines": {"type": "string"}},
    "required": ["handle"],
}
MAX_CHARS = 120_000  # one retrieval never answers with more than this; the rest is one more call away
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")

Fetch = Callable[[str], Awaitable[str | None]]


def tool_name(names: Iterable[str]) -> str:
    """`anyray_retrieve`, unless the client has a tool of that name: then the first free variant."""
    taken = set(names)
    name, n = TOOL_NAME, 2
    while name in taken:
        name, n = f"{TOOL_NAME}_{n}", n + 1
    return name


def select(content: str, query: str | None, lines: str | None) -> str:
    """What a call asked for out of one original: all of it, a line range, or the lines matching a query."""
    all_lines = content.split("\n")
    if lines:
        m = _RANGE.match(lines)
        if m is None:
            return f"`lines` must look like \"120-159\" (the original has {len(all_lines)} lines)"
        first = max(int(m.group(1)), 1)
        last = min(int(m.group(2) or m.group(1)), len(all_lines))
        if first > last:
            return f"no such lines: the original has {len(all_lines)} lines"
        picked = [(i, all_lines[i - 1]) for i in range(first, last + 1)]
        return _cap("\n".join(f"{i}: {line}" for i, line in picked))
    if query and query.strip():
        words = [w for w in re.findall(r"\w[\w.:/@-]*", query.lower()) if len(w) > 1] or [query.strip().lower()]
        scored = [(sum(w in line.lower() for w in words), i) for i, line in enumerate(all_lines, 1)]
        best = max((s for s, _ in scored), default=0)
        if best == 0:
            return f"no line of the original ({len(all_lines)} lines) contains any of: {', '.join(words)}"
        # the lines with the most of the words (one fewer also counts when there are several), in order
        need = best if len(words) <= 2 else max(1, best - 1)
        keep = [i for s, i in scored if s >= need]
        return _cap("\n".join(f"{i}: {all_lines[i - 1]}" for i in keep))
    return _cap(content)


def _cap(text: str) -> str:
    if len(text) <= MAX_CHARS:
        return text
    shown = text[:MAX_CHARS]
    cut_at = shown.count("\n") + 1
    return (f"{shown}\n[anyray: the retrieved text continues past line {cut_at}; ask again with `lines` "
            "for the rest, or with `query`]")


async def answer(arguments: Any, allowed: frozenset[str], fetch: Fetch) -> tuple[str, bool]:
    """The tool result for one call, and whether it found what it was asked for. Only handles that this
    request's own markers name can be read (`allowed`)."""
    if not isinstance(arguments, dict) or not isinstance(arguments.get("handle"), str):
        return "call this tool with {\"handle\": \"h_...\"} as named in an [anyray: ...] marker", False
    handle = arguments["handle"].strip()
    if handle not in allowed:
        return f"unknown handle {handle[:64]!r}: use one named in an [anyray: ...] marker of this conversation", False
    content = await fetch(handle)
    if content is None:
        return f"handle {handle} has expired; the original is no longer available", False
    query = arguments.get("query") if isinstance(arguments.get("query"), str) else None
    lines = arguments.get("lines") if isinstance(arguments.get("lines"), str) else None
    return select(content, query, lines), True
