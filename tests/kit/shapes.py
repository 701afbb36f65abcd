"""Request shapes real clients send, for tests and benchmarks that must look like production traffic.

`claude_code_request` follows what Claude Code 2.1.197 was observed to send (../shared notes, also in
docs/optimizer.md): ~76 KB, 24 tools, three system blocks of which the last two carry cache_control,
`max_tokens` 64000, adaptive thinking, a JSON `metadata.user_id`. The text is synthetic and deterministic.
"""

from __future__ import annotations

import json
from typing import Any

_TOOL_NAMES = [
    "Bash", "Read", "Write", "Edit", "MultiEdit", "Glob", "Grep", "LS", "NotebookEdit", "NotebookRead",
    "WebFetch", "WebSearch", "TodoWrite", "Task", "ExitPlanMode", "BashOutput", "KillShell", "SlashCommand",
    "Skill", "AskUserQuestion", "ListMcpResources", "ReadMcpResource", "mcp__git__status", "mcp__git__diff",
]


SESSION_ID = "5e551011-0000-4000-8000-000000000001"


def _filler(seed: str, chars: int) -> str:
    words = ("the tool returns output that the agent reads before it decides what to do next; "
             "use absolute paths, prefer editing existing files, and never guess at file contents. ")
    text = f"{seed}: " + words * (chars // len(words) + 1)
    return text[:chars]


def _tool(name: str, i: int) -> dict[str, Any]:
    return {
        "name": name,
        "description": _filler(f"{name} tool", 1890 + 37 * i),
        "input_schema": {
            "type": "object",
            "properties": {
                "path": {"type": "string", "description": "Absolute path to operate on."},
                "pattern": {"type": "string", "description": "A glob or regular expression."},
                "timeout": {"type": "number", "description": "Milliseconds before giving up (max 600000)."},
                "options": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["path"],
            "additionalProperties": False,
            "$schema": "http://json-schema.org/draft-07/schema#",
        },
    }


def claude_code_request(prompt: str = "Fix the failing test in tests/test_app.py", stream: bool = True,
                        model: str = "claude-sonnet-4-5") -> dict[str, Any]:
    cache = {"type": "ephemeral"}
    return {
        "model": model,
        "max_tokens": 64000,
        "stream": stream,
        "thinking": {"type": "adaptive"},
        "metadata": {"user_id": json.dumps({"device_id": "d" * 64, "session_id": SESSION_ID})},
        "system": [
            {"type": "text", "text": _filler("You are Claude Code, Anthropic's official CLI for Claude", 74)},
            {"type": "text", "text": _filler("You are an interactive CLI tool", 62), "cache_control": cache},
            {"type": "text", "text": _filler("Instructions", 5656), "cache_control": cache},
        ],
        "tools": [_tool(name, i) for i, name in enumerate(_TOOL_NAMES)],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": _filler("<system-reminder>context", 2400)}]},
            {"role": "user", "content": [{"type": "text", "text": prompt, "cache_control": cache}]},
        ],
    }
