"""Request builders for the fresh held-out set, in both dialects, plus the Workload constructor.

Only the `Workload` dataclass is taken from the project's benchmark package (so the runner can consume this set);
every message shape, tool list and system prompt here is this set's own.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from benchmarks.workloads._build import Workload

ANTHROPIC = "/v1/messages"
OPENAI = "/v1/chat/completions"
BULK_LOCATIONS = ("tool_result", "user", "system", "assistant", "document", "history")

# tool name -> (description, {param: description})
TOOL_SPECS: dict[str, tuple[str, dict[str, str]]] = {
    "run_shell": ("Execute a shell command in the workspace and return stdout and stderr.", {"cmd": "command line"}),
    "read_file": ("Return the contents of a file in the repository.", {"path": "repository-relative path"}),
    "search_code": ("Ripgrep over the repository.", {"pattern": "regex", "glob": "optional file glob"}),
    "kb_search": ("Semantic search over the internal wiki, runbooks and policies.", {"query": "natural language"}),
    "fetch_url": ("Fetch a web page and convert it to plain text.", {"url": "absolute URL"}),
    "api_get": ("Perform an authenticated GET against an internal HTTP API.", {"url": "absolute URL"}),
    "query_logs": ("Query the central log store (LogQL / CloudWatch Insights).", {"query": "query text"}),
    "sql": ("Run a read-only SQL statement against the analytics replica.", {"statement": "SQL"}),
    "kubectl": ("Run kubectl against the selected cluster context.", {"args": "arguments after kubectl"}),
    "memory_lookup": ("Look up notes and transcripts saved from earlier sessions.", {"query": "keywords"}),
    "ticket_search": ("Search the issue tracker.", {"jql": "query"}),
}


def anthropic_tools(names: list[str]) -> list[dict[str, Any]]:
    out = []
    for n in names:
        desc, params = TOOL_SPECS[n]
        out.append(
            {
                "name": n,
                "description": desc,
                "input_schema": {
                    "type": "object",
                    "properties": {p: {"type": "string", "description": d} for p, d in params.items()},
                    "required": [next(iter(params))],
                },
            }
        )
    return out


def openai_tools(names: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {"name": t["name"], "description": t["description"], "parameters": t["input_schema"]},
        }
        for t in anthropic_tools(names)
    ]


def anthropic_request(
    messages: list[dict[str, Any]],
    system: str | list[dict[str, Any]] | None = None,
    tools: list[str] | None = None,
    model: str = "claude-sonnet-4-5",
    max_tokens: int = 2048,
) -> dict[str, Any]:
    req: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
    if system is not None:
        req["system"] = system
    if tools:
        req["tools"] = anthropic_tools(tools)
    req["messages"] = messages
    return req


def openai_request(
    messages: list[dict[str, Any]], tools: list[str] | None = None, model: str = "gpt-4.1", **kw: Any
) -> dict[str, Any]:
    req: dict[str, Any] = {"model": model, "messages": messages}
    if tools:
        req["tools"] = openai_tools(tools)
    req.update(kw)
    return req


Call = tuple[str, dict[str, Any], str]


class AnthropicConversation:
    """Accumulates Anthropic messages; tool rounds become an assistant tool_use turn plus a user tool_result turn."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.messages: list[dict[str, Any]] = []
        self.n = 0

    def user(self, content: str | list[dict[str, Any]]) -> AnthropicConversation:
        self.messages.append({"role": "user", "content": content})
        return self

    def assistant(self, content: str | list[dict[str, Any]]) -> AnthropicConversation:
        self.messages.append({"role": "assistant", "content": content})
        return self

    def tools(self, calls: list[Call], thought: str | None = None, blocks: bool = False) -> AnthropicConversation:
        uses: list[dict[str, Any]] = [{"type": "text", "text": thought}] if thought else []
        results = []
        for name, args, output in calls:
            self.n += 1
            tid = f"toolu_01{self.tag[:10].upper()}{self.n:05d}"
            uses.append({"type": "tool_use", "id": tid, "name": name, "input": args})
            content: str | list[dict[str, Any]] = output
            if blocks:
                content = [{"type": "text", "text": part} for part in output.split("\f")]
            results.append({"type": "tool_result", "tool_use_id": tid, "content": content})
        self.messages.append({"role": "assistant", "content": uses})
        self.messages.append({"role": "user", "content": results})
        return self


class OpenAIConversation:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.messages: list[dict[str, Any]] = []
        self.n = 0

    def system(self, content: str | list[dict[str, Any]]) -> OpenAIConversation:
        self.messages.append({"role": "system", "content": content})
        return self

    def user(self, content: str | list[dict[str, Any]]) -> OpenAIConversation:
        self.messages.append({"role": "user", "content": content})
        return self

    def assistant(self, content: str) -> OpenAIConversation:
        self.messages.append({"role": "assistant", "content": content})
        return self

    def tools(self, calls: list[Call], thought: str | None = None) -> OpenAIConversation:
        tool_calls, results = [], []
        for name, args, output in calls:
            self.n += 1
            cid = "call_" + hashlib.sha1(f"{self.tag}/{self.n}".encode()).hexdigest()[:24]
            tool_calls.append(
                {"id": cid, "type": "function", "function": {"name": name, "arguments": json.dumps(args)}}
            )
            results.append({"role": "tool", "tool_call_id": cid, "content": output})
        self.messages.append({"role": "assistant", "content": thought, "tool_calls": tool_calls})
        self.messages.extend(results)
        return self


def text_part(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def cached_text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text, "cache_control": {"type": "ephemeral"}}


def document(data: str, title: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": data}}
    if title:
        block["title"] = title
    return block


def workload(
    name: str,
    question: str,
    facts: list[str],
    request: dict[str, Any],
    bulk: str,
    notes: str = "",
) -> Workload:
    assert bulk in BULK_LOCATIONS, bulk
    endpoint = ANTHROPIC if request["model"].startswith("claude") else OPENAI
    return Workload(
        name=name,
        question=question,
        facts=facts,
        request=request,
        endpoint=endpoint,
        notes=notes,
        extra={"bulk": bulk, "set": "fresh"},
    )
