"""Long sessions for the replay, built rather than recorded: where the conversation strategies can act.

The recorded sessions are short (about 22 calls): no conversation strategy's step pays for itself there,
so they never fire. These are agent loops of 90 tool calls (an investigation that reads big logs and
files early and keeps going), in both dialects: `long_agent` as the Anthropic SDK sends it (the client's
own cache breakpoint on the last message, as Claude Code does) and `long_agent_openai` as an OpenAI SDK
sends it to a Claude model through the gateway (tool calls on the assistant message, `tool` messages,
plain strings). Deterministic from a seed; every tool output is made of varied lines, so the content
strategies thin it but do not erase it.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

TURNS = 90
TOOLS = [
    {"name": name, "description": f"{name}: " + "does a useful thing with care and reports what it found. " * 12,
     "input_schema": {"type": "object", "properties": {"arg": {"type": "string"}}, "required": ["arg"]}}
    for name in ("Bash", "Read", "Grep", "Edit", "WebFetch", "NotebookEdit", "TodoWrite", "Task", "Glob", "LS")
]
SYSTEM = "You are a careful engineer working in a large repository. Investigate before you change anything. " * 12


def _output(r: random.Random, turn: int) -> str:
    """What a tool printed: every sixth call a big log, else a file or a listing of a few dozen lines."""
    if turn % 6 == 0:
        lines = [f"2026-11-24T10:{(turn + j) % 60:02d}:{j % 60:02d}Z INFO worker-{r.randint(1, 9)} "
                 f"job={r.randrange(10**6):06d} step={j} took {r.randint(3, 900)}ms queue={r.randint(0, 40)}"
                 for j in range(700)]
        lines[r.randrange(700)] = f"2026-11-24T10:59:59Z ERROR worker-3 job=000{turn:03d} failed: lease expired"
        return "\n".join(lines)
    return "\n".join(f"{turn:03d}:{j:03d} {r.choice(('def', 'class', 'x =', 'return', '#'))} "
                     f"item_{r.randrange(10**5)} value={r.randrange(10**6)}" for j in range(r.randint(20, 80)))


def _history(seed: str) -> tuple[list[dict[str, Any]], list[list[dict[str, Any]]]]:
    """(the Anthropic-shaped messages, the reply content of each call)."""
    r = random.Random(seed)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "The nightly jobs time out. Find out why."}]
    replies = []
    for t in range(TURNS):
        tool = ("Bash", "Read", "Grep", "Edit")[t % 4]
        reply = [{"type": "text", "text": f"Step {t}: checking with {tool}."},
                 {"type": "tool_use", "id": f"toolu_{seed}_{t:03d}", "name": tool, "input": {"arg": f"a{t}"}}]
        replies.append(reply)
        messages.append({"role": "assistant", "content": reply})
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{seed}_{t:03d}",
                                                      "content": _output(r, t)}]})
    replies.append([{"type": "text", "text": "The lease expiry in worker-3 is the cause."}])
    return messages, replies


def _anthropic(messages: list[dict[str, Any]], i: int) -> dict[str, Any]:
    history = [dict(m) for m in messages[: i + 1]]
    last = history[-1]
    content = last["content"] if isinstance(last["content"], list) else [{"type": "text", "text": last["content"]}]
    history[-1] = {**last, "content": [*content[:-1], {**content[-1], "cache_control": {"type": "ephemeral"}}]}
    return {"model": "claude-sonnet-4-5", "max_tokens": 4096, "system": SYSTEM, "tools": TOOLS,
            "messages": history}


def _openai(messages: list[dict[str, Any]], i: int) -> dict[str, Any]:
    out: list[dict[str, Any]] = [{"role": "system", "content": SYSTEM}]
    for m in messages[: i + 1]:
        if isinstance(m["content"], str):
            out.append({"role": m["role"], "content": m["content"]})
        elif m["role"] == "assistant":
            calls = [{"id": b["id"], "type": "function",
                      "function": {"name": b["name"], "arguments": orjson.dumps(b["input"]).decode()}}
                     for b in m["content"] if b["type"] == "tool_use"]
            out.append({"role": "assistant", "content": m["content"][0]["text"], "tool_calls": calls})
        else:
            out += [{"role": "tool", "tool_call_id": b["tool_use_id"], "content": b["content"]} for b in m["content"]]
    tools = [{"type": "function", "function": {"name": t["name"], "description": t["description"],
                                               "parameters": t["input_schema"]}} for t in TOOLS]
    return {"model": "claude-sonnet-4-5", "max_tokens": 4096, "tools": tools, "messages": out}


def sessions() -> list[dict[str, Any]]:
    messages, replies = _history("long")
    users = [i for i, m in enumerate(messages) if m["role"] == "user"]
    return [
        {"name": "long_agent", "client": "synthetic", "dialect": "anthropic",
         "turns": [{"request": _anthropic(messages, i), "response": replies[n]} for n, i in enumerate(users)]},
        {"name": "long_agent_openai", "client": "synthetic", "dialect": "openai",
         "turns": [{"request": _openai(messages, i), "response": replies[n]} for n, i in enumerate(users)]},
    ]
