"""Fixed conversations for the conversation-strategy tests: an agent's tool loop, turn by turn.

`agent_session` builds the whole history an agent would have after `turns` tool calls, deterministic
from a seed; `requests` cuts it into the request the client sends on each turn (every request ends with
a user message), which is what a replay sends.
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from anyray.server.optimizer.engine import Optimizer

TOOLS = [
    {"name": name, "description": f"{name}: " + "does a useful thing with care. " * 30,
     "input_schema": {"type": "object", "properties": {"arg": {"type": "string"}}, "required": ["arg"]}}
    for name in ("Bash", "Read", "Edit", "Grep", "WebFetch", "NotebookEdit", "TodoWrite", "Task")
]


def output(r: random.Random, turn: int, lines: int) -> str:
    return "\n".join(f"{turn:03d}:{j:04d} value={r.randrange(10**6)} status=ok path=/srv/app/module_{j % 17}.py"
                     for j in range(lines))


def agent_session(turns: int = 24, seed: str = "s", big_every: int = 5, thinking: bool = False,
                  prompts_every: int = 0, error_at: int = 3) -> list[dict[str, Any]]:
    """A tool loop: every fifth result is large, result `error_at` is an error; with `prompts_every`, a new
    user prompt every that many turns (finishing the turn before, so its thinking may go)."""
    r = random.Random(seed)
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Find out why the nightly job fails and fix it."}]
    for t in range(turns):
        tool = ("Bash", "Read", "Grep", "Edit")[t % 4]
        content: list[dict[str, Any]] = []
        if thinking:
            content.append({"type": "thinking", "thinking": f"Turn {t}: I should look at {tool}. " * 20,
                            "signature": f"sig-{seed}-{t}-" + "A" * 40})
        content += [{"type": "text", "text": f"Step {t}: running {tool}."},
                    {"type": "tool_use", "id": f"toolu_{seed}_{t:03d}", "name": tool, "input": {"arg": f"a{t}"}}]
        messages.append({"role": "assistant", "content": content})
        size = 900 if t % big_every == 0 else 12
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": f"toolu_{seed}_{t:03d}",
                                  "content": output(r, t, size)}
        if t == error_at:
            result["is_error"] = True
            result["content"] = "Traceback: ValueError: nightly job config missing key 'bucket'\n" + output(r, t, 900)
        user: list[dict[str, Any]] = [result]
        messages.append({"role": "user", "content": user})
        if prompts_every and t % prompts_every == prompts_every - 1 and t < turns - 1:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": f"Done with part {t}."}]})
            messages.append({"role": "user", "content": f"Good. Now part {t + 1}, please."})
    return messages


def requests(messages: list[dict[str, Any]], **extra: Any) -> list[dict[str, Any]]:
    """The request the client sends on each turn: the history up to each user message."""
    base = {"model": "claude-sonnet-4-5", "max_tokens": 4096, "system": "You are a careful engineer. " * 40,
            "tools": TOOLS, **extra}
    return [{**base, "messages": messages[: i + 1]} for i, m in enumerate(messages) if m["role"] == "user"]


def as_openai(messages: list[dict[str, Any]], system: str | None = None) -> list[dict[str, Any]]:
    """The same history as an OpenAI client keeps it: tool calls on the assistant message, each result a
    `tool` message, plain strings; a system message first when given."""
    out: list[dict[str, Any]] = [{"role": "system", "content": system}] if system else []
    for m in messages:
        content = m["content"]
        if isinstance(content, str):
            out.append({"role": m["role"], "content": content})
        elif m["role"] == "assistant":
            text = "".join(b["text"] for b in content if b["type"] == "text") or None
            calls = [{"id": b["id"], "type": "function",
                      "function": {"name": b["name"], "arguments": orjson.dumps(b["input"]).decode()}}
                     for b in content if b["type"] == "tool_use"]
            out.append({"role": "assistant", "content": text, **({"tool_calls": calls} if calls else {})})
        else:
            out += [{"role": "tool", "tool_call_id": b["tool_use_id"], "content": b["content"]}
                    for b in content if b["type"] == "tool_result"]
    return out


def openai_tools() -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": t["name"], "description": t["description"],
                                              "parameters": t["input_schema"]}} for t in TOOLS]


async def optimize(optimizer: Optimizer, request: dict[str, Any], kinds: list[str] | None,
                   settings: list[dict[str, Any]] | None = None, endpoint: str = "/v1/messages") -> dict[str, Any]:
    if settings is not None:
        await optimizer.put_settings({"strategies": settings})
    message: dict[str, Any] = {"endpoint": endpoint, "request": request,
                               "route": {"provider": "anthropic", "model": "claude-sonnet-4-5"}}
    if kinds is not None:
        message["enabledKinds"] = kinds
    return await optimizer.optimize(message)
