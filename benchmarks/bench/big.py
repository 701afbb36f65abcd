"""Requests of the sizes users send: a Claude Code turn (about 76 KB) and an agent turn (about 300 KB).

Claude Code's shape: three system blocks (the last two with `cache_control`), 24 tools with JSON schemas,
`max_tokens` 64000, streaming, and a session of tool calls whose results are source files, a test run
and a grep. The agent turn is mostly tool output: logs, JSON records and source. Both are made
deterministically, so every run sends the same bytes.

Each request's newest tool result carries a 12-digit counter (NONCE, replaced per request by the load
generator): the rest of the session is what the optimizer has seen on earlier turns, the newest result
is new to it, as on a real agent's next turn. With wrk (one fixed body) every request is a repeat.
"""

from __future__ import annotations

from typing import Any

import orjson

NONCE = b"#nonce######"  # 12 bytes, replaced by a 12-digit request number


def _tool(i: int) -> dict[str, Any]:
    names = ["Read", "Write", "Edit", "MultiEdit", "Bash", "BashOutput", "KillShell", "Glob", "Grep", "LS",
             "NotebookEdit", "WebFetch", "WebSearch", "TodoWrite", "Task", "ExitPlanMode", "SlashCommand",
             "ListMcpResources", "ReadMcpResource", "mcp__github__get_issue", "mcp__github__create_pr",
             "mcp__linear__search", "mcp__sentry__get_event", "mcp__postgres__query"]
    name = names[i]
    props = {f"{name.lower()}_arg_{k}": {"type": "string", "description": f"The {k}th argument of {name}: " + (
        "what it does, when to pass it, its format and the default when omitted. " * 2)} for k in range(4)}
    return {"name": name, "description": (f"{name}: use this tool to do its job in the user's repository. " * 4
                                          + "Usage notes:\n" + "- Prefer it over shell commands for this task.\n" * 8),
            "input_schema": {"type": "object", "properties": props, "required": list(props)[:2],
                             "additionalProperties": False, "$schema": "http://json-schema.org/draft-07/schema#"}}


def _source(name: str, functions: int) -> str:
    out = [f'"""{name}: the module under change."""', "", "from __future__ import annotations", "",
           "import logging", "from dataclasses import dataclass", "", "log = logging.getLogger(__name__)", ""]
    for f in range(functions):
        out += ["", f"def {name}_step_{f}(order_id: str, amount_cents: int, retries: int = 3) -> dict[str, int]:",
                f'    """Step {f} of the {name} flow: validates, charges and records the order."""',
                "    if amount_cents <= 0:",
                f'        raise ValueError(f"{name} step {f}: amount must be positive, got {{amount_cents}}")',
                "    total = 0", "    for attempt in range(retries):",
                f"        total += amount_cents * (attempt + 1) // {f + 2}",
                f'        log.debug("{name} step {f} attempt %d for %s", attempt, order_id)',
                "    return {\"total\": total, \"attempts\": retries}"]
    return "\n".join(f"{i + 1:>6}\t{line}" for i, line in enumerate(out))


def _log(lines: int, fresh: bool) -> str:
    out = []
    for i in range(lines):
        level = "ERROR" if i % 97 == 13 else "WARN" if i % 41 == 7 else "INFO"
        out.append(f"2026-12-0{1 + i % 7}T10:{i // 60 % 60:02d}:{i % 60:02d}.{i % 1000:03d}Z {level} "
                   f"worker-{i % 8} request_id=req_{i * 7919 % 10**9:09d} route=/v1/orders/{i % 500} "
                   f"status={500 if level == 'ERROR' else 200} duration_ms={i * 37 % 900}")
    if fresh:
        out[len(out) // 2] += " run=" + NONCE.decode()
    return "\n".join(out)


def _records(n: int) -> str:
    return orjson.dumps([{"id": f"job_{i:06d}", "status": "failed" if i % 53 == 5 else "succeeded",
                          "queue": f"q{i % 6}", "attempts": 1 + i % 3, "duration_ms": i * 13 % 4000,
                          "owner": f"team-{i % 9}"} for i in range(n)], option=orjson.OPT_INDENT_2).decode()


def _turns(results: list[tuple[str, dict[str, Any], str]]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for i, (tool, arguments, text) in enumerate(results):
        tool_id = f"toolu_{i:020d}"
        messages.append({"role": "assistant", "content": [
            {"type": "text", "text": f"Let me look at step {i + 1}."},
            {"type": "tool_use", "id": tool_id, "name": tool, "input": arguments}]})
        messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": text}]})
    return messages


def claude_code(model: str) -> bytes:
    """A Claude Code turn: about 76 KB, 24 tools, three cached system blocks, streaming."""
    system = [
        {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
        {"type": "text", "text": "You are an interactive CLI tool that helps users with software engineering tasks. "
                                 * 90, "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "<env>Working directory: /home/dev/shop\nIs directory a git repo: Yes\n"
                                 "Platform: linux</env>\n" * 6, "cache_control": {"type": "ephemeral"}},
    ]
    first = {"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>As you answer the user's questions, you can use the following "
                                 "context: the project's CLAUDE.md says to run the tests before committing."
                                 "</system-reminder>"},
        {"type": "text", "text": "The refund step fails for partial refunds; find why and fix it."}]}
    history = _turns([
        ("Grep", {"pattern": "refund", "path": "src"}, "\n".join(
            f"src/shop/refunds_{i}.py:{i * 7}: def refund_step_{i}(order_id, amount_cents)" for i in range(40))),
        ("Read", {"file_path": "/home/dev/shop/src/shop/refunds.py"}, _source("refunds", 14)),
        ("Bash", {"command": "pytest -x tests/test_refunds.py"}, _log(60, fresh=False)),
        ("Read", {"file_path": "/home/dev/shop/src/shop/ledger.py"}, _source("ledger", 8)),
        ("Bash", {"command": "git log --oneline -30"}, _log(40, fresh=True)),
    ])
    body = {"model": model, "max_tokens": 64000, "stream": True, "system": system,
            "tools": [_tool(i) for i in range(24)], "messages": [first, *history],
            "metadata": {"user_id": "user_bench_account__session_0000"}}
    return orjson.dumps(body)


def agent(model: str) -> bytes:
    """An agent turn of about 300 KB, mostly tool output (logs, JSON records, source)."""
    history = _turns([
        ("run", {"command": "kubectl logs deploy/orders --since=1h"}, _log(900, fresh=False)),
        ("read_file", {"path": "services/orders/worker.py"}, _source("worker", 40)),
        ("http_get", {"url": "http://jobs.internal/api/jobs?since=1h"}, _records(450)),
        ("run", {"command": "kubectl logs deploy/payments --since=1h"}, _log(700, fresh=True)),
    ])
    body = {"model": model, "max_tokens": 4096, "system": "You are an operations agent. Use the tools, then answer.",
            "tools": [_tool(i) for i in (4, 0, 8, 11)],
            "messages": [{"role": "user", "content": "Which jobs failed in the last hour, and why?"}, *history]}
    return orjson.dumps(body)
