"""Record whole sessions through the gateway: the anthropic SDK in a tool-use loop, and Claude Code.

    python -m benchmarks.replay.record [--only NAME] [--out benchmarks/sessions]

Every session runs in a fresh scratch project (scratch.py) against a fresh fake upstream whose
responder plays the model (agents.py); the optimizer is off while recording, so what is stored is what
the client sent. A session file holds, per model call, the request body and the reply content; no
headers, no keys (checked before writing), no `metadata` (Claude Code puts a user id there).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import anthropic

from anyray.testing.reply import anthropic_turn, forced_anthropic_tool, reply_text
from benchmarks.replay.agents import FOLLOW_UPS, TASKS, responder
from benchmarks.replay.scratch import build
from benchmarks.replay.scrub import scrub_request
from benchmarks.replay.stack import CLIENT_KEY, Stack, stack
from benchmarks.replay.store import save

ROOT = Path(__file__).resolve().parents[2]
SESSIONS = ROOT / "benchmarks" / "sessions"
SECRET = re.compile(r"sk-ant-|AKIA[0-9A-Z]{16}|-----BEGIN|api[_-]?key\W{0,3}[:=]", re.IGNORECASE)
MAX_OUTPUT = 200_000

SDK_TOOLS = [
    {"name": "bash", "description": "Run a shell command in the project directory and return what it printed "
     "(stdout and stderr) and its exit status. Use it to list files, search, run tests and scripts.",
     "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}},
    {"name": "read_file", "description": "Return the whole text of a file in the project directory.",
     "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]}},
    {"name": "write_file", "description": "Create or overwrite a file in the project directory with the given text.",
     "input_schema": {"type": "object", "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
                      "required": ["path", "content"]}},
    {"name": "edit_file", "description": "Replace the one occurrence of `old` in a file by `new`.",
     "input_schema": {"type": "object", "properties": {"path": {"type": "string"}, "old": {"type": "string"},
                                                       "new": {"type": "string"}}, "required": ["path", "old", "new"]}},
]
SDK_SYSTEM = ("You are a software agent working in a small Python project. Use the tools to inspect and change "
              "files; run the tests after every change; answer briefly when done. " * 6)


def _run_tool(root: Path, name: str, arguments: dict[str, Any]) -> tuple[str, bool]:
    try:
        if name == "bash":
            done = subprocess.run(arguments["command"], shell=True, cwd=root, capture_output=True, text=True,
                                  timeout=60)
            text = done.stdout + done.stderr + ("" if done.returncode == 0 else f"\n(exit status {done.returncode})")
            return text[:MAX_OUTPUT], done.returncode != 0
        path = root / arguments["path"]
        if name == "read_file":
            return path.read_text()[:MAX_OUTPUT], False
        if name == "write_file":
            path.write_text(arguments["content"])
            return f"wrote {len(arguments['content'])} characters to {arguments['path']}", False
        if name == "edit_file":
            text = path.read_text()
            if arguments["old"] not in text:
                return f"`old` not found in {arguments['path']}", True
            path.write_text(text.replace(arguments["old"], arguments["new"], 1))
            return f"edited {arguments['path']}", False
    except (OSError, subprocess.SubprocessError, KeyError) as exc:
        return f"{type(exc).__name__}: {exc}", True
    return f"unknown tool {name}", True


def _mark_last(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a caching client does: a breakpoint on the last block of the last message."""
    last = dict(messages[-1])
    content = last["content"]
    content = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
    content[-1] = {**content[-1], "cache_control": {"type": "ephemeral"}}
    last["content"] = content
    return [*messages[:-1], last]


def sdk_session(s: Stack, task: str, root: Path, client_caches: bool) -> None:
    client = anthropic.Anthropic(base_url=s.gateway_url, api_key=CLIENT_KEY, max_retries=0,
                                 default_headers={"x-anyray-optimize": "off"})
    prompt, _ = TASKS[task]
    follow_ups = list(FOLLOW_UPS.get(task, ()))
    extra: dict[str, Any] = {"thinking": {"type": "enabled", "budget_tokens": 2048}} if follow_ups else {}
    messages: list[dict[str, Any]] = [{"role": "user", "content": prompt}]
    system: Any = [{"type": "text", "text": SDK_SYSTEM, "cache_control": {"type": "ephemeral"}}] \
        if client_caches else SDK_SYSTEM
    for _ in range(60):  # bounded: a plan has ~22 steps
        reply = client.messages.create(model="claude-sonnet-4-6", max_tokens=8192, system=system, tools=SDK_TOOLS,
                                       messages=_mark_last(messages) if client_caches else messages, **extra)
        content = [b.model_dump(exclude_none=True) for b in reply.content]
        messages.append({"role": "assistant", "content": content})
        calls = [b for b in content if b["type"] == "tool_use"]
        if not calls and follow_ups:
            messages.append({"role": "user", "content": follow_ups.pop(0)})
            continue
        if not calls:
            return
        results = []
        for call in calls:
            text, failed = _run_tool(root, call["name"], call["input"])
            result = {"type": "tool_result", "tool_use_id": call["id"], "content": text}
            if failed:
                result["is_error"] = True
            results.append(result)
        messages.append({"role": "user", "content": results})
    raise RuntimeError("the SDK loop did not finish")


def claude_binary() -> Path:
    for base in (ROOT, Path("/work/main")):
        binary = base / "tests" / "node" / "node_modules" / ".bin" / "claude"
        if binary.exists():
            return binary
    raise FileNotFoundError("Claude Code is not installed: npm install --prefix tests/node")


def claude_code_session(s: Stack, task: str, root: Path) -> None:
    home = root.parent / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ["PATH"], "HOME": str(home), "ANTHROPIC_BASE_URL": s.gateway_url,
           "ANTHROPIC_API_KEY": CLIENT_KEY, "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "DISABLE_AUTOUPDATER": "1", "CI": "1", "ANTHROPIC_CUSTOM_HEADERS": "x-anyray-optimize: off"}
    prompt, _ = TASKS[task]
    done = subprocess.run([str(claude_binary()), "-p", prompt, "--output-format", "json", "--max-turns", "40",
                           "--model", "claude-sonnet-4-6",
                           "--allowedTools", "Bash Read Write Edit Grep Glob", "--permission-mode", "acceptEdits"],
                          capture_output=True, text=True, env=env, cwd=root, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"claude failed: {done.stdout[-1500:]} {done.stderr[-1500:]}")


def record(name: str, client: str, task: str, client_caches: bool = False) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, stack() as s:
        root = build(Path(tmp) / "project")
        brain = responder(task, client, str(root))
        turns: list[dict[str, Any]] = []

        def respond(body: dict[str, Any]) -> list[dict[str, Any]] | None:
            content = brain(body)
            if content is None and forced_anthropic_tool(body) is None:
                content = [{"type": "text", "text": reply_text("anthropic", anthropic_turn(body["messages"]))}]
            turns.append({"request": {k: v for k, v in body.items() if k != "metadata"}, "response": content})
            return content

        s.fake.responder = respond
        if client == "claude_code":
            claude_code_session(s, task, root)
        else:
            sdk_session(s, task, root, client_caches)
        text = json.dumps(turns).replace(str(root), "/project").replace(tmp, "/scratch")
    stored = json.loads(text)
    if client == "claude_code":  # Claude Code's own prose is not ours to publish: same lengths, filler words
        stored = [{**t, "request": scrub_request(t["request"])} for t in stored]
    session = {"name": name, "client": client, "task": task, "clientCaches": client_caches or client == "claude_code",
               "turns": stored}
    if SECRET.search(json.dumps(session)):
        raise RuntimeError(f"{name}: something that looks like a secret is in the session; not stored")
    return session


PLANNED = [(f"sdk_{t}", "sdk", t, False) for t in TASKS] + [(f"sdk_{t}_cached", "sdk", t, True) for t in TASKS] \
    + [(f"claude_code_{t}", "claude_code", t, True) for t in TASKS if t not in FOLLOW_UPS]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", action="append", help="record only these sessions (by name)")
    parser.add_argument("--out", default=str(SESSIONS))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, client, task, caches in PLANNED:
        if args.only and name not in args.only:
            continue
        session = record(name, client, task, caches)
        save(out / f"{name}.json.gz", session)
        tools = sum(1 for t in session["turns"] if any(b.get("type") == "tool_use" for b in t["response"] or ()))
        print(f"{name}: {len(session['turns'])} model calls, {tools} tool calls", file=sys.stderr)


if __name__ == "__main__":
    main()
