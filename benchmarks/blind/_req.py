"""Request builders for the blind set: whole requests as Anthropic and OpenAI clients put them on the wire.

Written independently of the optimizer; the shapes follow the public API references (Messages and Chat
Completions) and the observed Claude Code request in /work/shared/notes/claude-code-requests.md.
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks.workloads._build import Workload

_CC_TEXT = """You are an interactive CLI tool that helps users with software engineering tasks. Use the \
instructions below and the tools available to you to assist the user.

IMPORTANT: Refuse to write code or explain code that may be used maliciously. Never guess URLs.

# Tone and style
You should be concise, direct, and to the point. Your output is displayed on a command line interface and rendered \
as GitHub-flavored markdown in a monospace font. When you run a non-trivial bash command, explain what the command \
does and why you are running it. Only use emojis if the user asks for them. Answer in fewer than four lines unless \
the user asks for detail. Avoid introductions and conclusions such as "Here is what I found".

# Proactiveness
Do what was asked, nothing more. If the user asks how to approach something, answer the question first before \
taking actions.

# Following conventions
When making changes, first understand the file's conventions. Mimic code style, use existing libraries and \
utilities, and follow existing patterns. Never assume a library is available: check package.json, Cargo.toml, \
go.mod or pyproject.toml first. Never introduce code that exposes or logs secrets and keys.

# Doing tasks
1. Use the search tools to understand the codebase and the user's query. Use them extensively, in parallel when \
the calls are independent.
2. Implement the solution using all tools available to you.
3. Verify the solution with the project's tests. Never assume a test framework; check the README or search.
4. Run the lint and typecheck commands if you were given them.
NEVER commit changes unless the user explicitly asks you to.

# Tool usage policy
Prefer the Grep and Glob tools over running grep or find through Bash. When you read a file, read the whole \
file unless it is very large. When a tool result is truncated, say so rather than guessing what was cut.

# Code references
When referencing specific functions or pieces of code include the pattern file_path:line_number so the user can \
navigate to the source.

Here is useful information about the environment you are running in:
<env>
Working directory: /home/dev/project
Is directory a git repo: Yes
Platform: linux
OS Version: Linux 6.8.0-45-generic
Today's date: 2026-10-14
</env>"""

CLAUDE_CODE_SYSTEM = [
    {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
    {
        "type": "text",
        "text": _CC_TEXT,
        "cache_control": {"type": "ephemeral"},
    },
]


def _tool(name: str, desc: str, **props: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": desc,
        "input_schema": {
            "type": "object",
            "properties": {k: {"type": "string", "description": v} for k, v in props.items()},
            "required": list(props)[:1],
        },
    }


AGENT_TOOLS = [
    _tool(
        "Bash",
        "Executes a bash command in a persistent shell session.",
        command="The command to run",
        description="Five to ten words saying what it does",
    ),
    _tool(
        "Read",
        "Reads a file from the local filesystem. Output uses cat -n format.",
        file_path="Absolute path",
        offset="Line to start at",
        limit="Number of lines",
    ),
    _tool("Grep", "Search file contents with ripgrep.", pattern="Regex", path="Directory", glob="File filter"),
    _tool("Glob", "Fast file pattern matching.", pattern="Glob pattern"),
    _tool("WebFetch", "Fetches a URL and converts the page to markdown.", url="URL", prompt="What to extract"),
]


def oai_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Convert Anthropic tool definitions to Chat Completions function tools."""
    return [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t["description"], "parameters": t["input_schema"]},
        }
        for t in tools
    ]


def tool(name: str, desc: str, **props: str) -> dict[str, Any]:
    return _tool(name, desc, **props)


# --- Anthropic ------------------------------------------------------------------------------------------------


class Anth:
    """Accumulates an Anthropic Messages conversation; `done` asks the question last."""

    def __init__(
        self,
        name: str,
        *,
        system: Any = None,
        tools: list[dict[str, Any]] | None = None,
        model: str = "claude-sonnet-4-5",
        max_tokens: int = 8192,
    ) -> None:
        self.name, self.system, self.tools, self.model, self.max_tokens = name, system, tools, model, max_tokens
        self.messages: list[dict[str, Any]] = []
        self._n = 0

    def user(self, content: Any) -> Anth:
        self.messages.append({"role": "user", "content": content})
        return self

    def assistant(self, content: Any) -> Anth:
        self.messages.append({"role": "assistant", "content": content})
        return self

    def calls(self, text: str | None, calls: list[tuple[str, dict[str, Any], str]], error: bool = False) -> Anth:
        """One assistant turn calling tools, then one user turn carrying all results."""
        uses: list[dict[str, Any]] = [{"type": "text", "text": text}] if text else []
        results = []
        for tname, arguments, output in calls:
            self._n += 1
            tid = f"toolu_01{_idpart(self.name, self._n)}"
            uses.append({"type": "tool_use", "id": tid, "name": tname, "input": arguments})
            res: dict[str, Any] = {"type": "tool_result", "tool_use_id": tid, "content": output}
            if error:
                res["is_error"] = True
            results.append(res)
        self.assistant(uses)
        self.user(results)
        return self

    def done(
        self,
        question: str,
        facts: list[str],
        bulk: str,
        *,
        pre: list[dict[str, Any]] | None = None,
        notes: str = "",
        stream: bool = False,
    ) -> Workload:
        """Append the question as the final user text (merged into a trailing tool-result turn if there is one)."""
        block = {"type": "text", "text": question}
        last = self.messages[-1] if self.messages else None
        if last and last["role"] == "user" and isinstance(last["content"], list) and not pre:
            last["content"].append(block)
        else:
            self.user([*(pre or []), block])
        req: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens}
        if self.system is not None:
            req["system"] = self.system
        if self.tools:
            req["tools"] = self.tools
        req["messages"] = self.messages
        if stream or self.system is CLAUDE_CODE_SYSTEM:
            req["stream"] = True
        if self.system is CLAUDE_CODE_SYSTEM:
            # Claude Code sends a metadata.user_id with device and session ids (see the wire notes).
            req["metadata"] = {
                "user_id": json.dumps({"device_id": _idpart(self.name, 900), "session_id": _idpart(self.name, 901)})
            }
        return Workload(
            self.name,
            question,
            facts,
            req,
            endpoint="/v1/messages",
            notes=notes,
            extra={"bulk": bulk, "shape": "anthropic"},
        )


def document(text: str, title: str, context: str | None = None) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": text},
        "title": title,
    }
    if context:
        doc["context"] = context
    return doc


# --- OpenAI ---------------------------------------------------------------------------------------------------


class Oai:
    """Accumulates a Chat Completions conversation; `done` asks the question as the last user message."""

    def __init__(
        self,
        name: str,
        *,
        system: str | None = None,
        tools: list[dict[str, Any]] | None = None,
        model: str = "gpt-4.1",
        max_tokens: int | None = 4096,
    ) -> None:
        self.name, self.tools, self.model, self.max_tokens = name, tools, model, max_tokens
        self.messages: list[dict[str, Any]] = []
        if system is not None:
            self.messages.append({"role": "system", "content": system})
        self._n = 0

    def user(self, content: Any) -> Oai:
        self.messages.append({"role": "user", "content": content})
        return self

    def assistant(self, content: str) -> Oai:
        self.messages.append({"role": "assistant", "content": content})
        return self

    def calls(self, calls: list[tuple[str, dict[str, Any], str]], text: str | None = None) -> Oai:
        tcs, results = [], []
        for fname, arguments, output in calls:
            self._n += 1
            cid = f"call_{_idpart(self.name, self._n)}"
            tcs.append({"id": cid, "type": "function", "function": {"name": fname, "arguments": json.dumps(arguments)}})
            results.append({"role": "tool", "tool_call_id": cid, "content": output})
        self.messages.append({"role": "assistant", "content": text, "tool_calls": tcs})
        self.messages.extend(results)
        return self

    def done(
        self, question: str, facts: list[str], bulk: str, *, parts: list[str] | None = None, notes: str = ""
    ) -> Workload:
        """The question goes last: either a plain string or the final text part after pasted parts."""
        if parts:
            self.user([*({"type": "text", "text": p} for p in parts), {"type": "text", "text": question}])
        else:
            self.user(question)
        req: dict[str, Any] = {"model": self.model, "messages": self.messages}
        if self.max_tokens:
            req["max_tokens"] = self.max_tokens
        if self.tools:
            req["tools"] = oai_tools(self.tools)
        return Workload(
            self.name,
            question,
            facts,
            req,
            endpoint="/v1/chat/completions",
            notes=notes,
            extra={"bulk": bulk, "shape": "openai"},
        )


def _idpart(name: str, n: int) -> str:
    """Stable pseudo-random id characters, the way SDK ids look (letters and digits)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
    h = 0
    for ch in f"{name}/{n}":
        h = (h * 131 + ord(ch)) % (2**61 - 1)
    out = []
    for _ in range(22):
        h, d = divmod(h * 6364136223846793005 + 1442695040888963407, len(alphabet))
        h %= 2**64
        out.append(alphabet[d])
    return "".join(out)
