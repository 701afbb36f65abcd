"""Request shapes for the held-out set: Anthropic Messages and OpenAI Chat Completions bodies, built message by
message, so a case can put its bulk wherever a real client puts it (a tool result, a pasted user turn, the system
prompt, an earlier assistant answer, a document block, a plain-string history).

Every case is wrapped in the shared `Workload` dataclass. `extra` carries two labels the tests count:
`bulk` (where most of the bytes are) and `shape` ("anthropic" or "openai").
"""

from __future__ import annotations

import json
from typing import Any

from benchmarks.workloads._build import Workload

ANTHROPIC = "/v1/messages"
OPENAI = "/v1/chat/completions"
BULK = ("tool_result", "user", "system", "assistant", "document", "history")

AGENT_SYSTEM = (
    "You are an engineering assistant working inside the user's repository and infrastructure. "
    "Use the available tools when you need to look something up. Be concise and cite the exact lines, "
    "ids or paths your answer relies on."
)


def _tool(name: str, description: str, **params: str) -> dict[str, Any]:
    props = {p: {"type": "string", "description": d} for p, d in params.items()}
    return {"name": name, "description": description,
            "input_schema": {"type": "object", "properties": props, "required": list(params)[:1]}}


CLI_TOOLS = [
    _tool("Bash", "Executes a bash command in a persistent shell session and returns stdout and stderr.",
          command="The command to execute", timeout="Optional timeout in milliseconds"),
    _tool("Read", "Reads a file from the local filesystem. Output uses cat -n format with line numbers.",
          file_path="Absolute path of the file", offset="Line to start from", limit="Number of lines"),
    _tool("Grep", "Searches file contents using ripgrep.", pattern="Regular expression", path="Directory or file"),
    _tool("WebFetch", "Fetches a URL and converts the HTML page to markdown.", url="The URL", prompt="What to extract"),
]
DESK_TOOLS = [
    _tool("kb_search", "Full-text and semantic search over the company knowledge base (Confluence, runbooks, ADRs).",
          query="Search query", space="Optional space key"),
    _tool("memory_search", "Search transcripts and notes from earlier conversations with this user.",
          query="What to look for", since="ISO date lower bound"),
    _tool("http_get", "Perform an authenticated GET against an internal JSON API.", url="Absolute URL"),
]


def openai_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"type": "function", "function": {"name": t["name"], "description": t["description"],
                                              "parameters": t["input_schema"]}} for t in tools]


# -- Anthropic content pieces -------------------------------------------------------------------------------------

def text(s: str, cache: bool = False) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": s}
    if cache:
        block["cache_control"] = {"type": "ephemeral"}
    return block


def document(data: str, title: str | None = None, context: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": data}}
    if title:
        block["title"] = title
    if context:
        block["context"] = context
    return block


def use(tool_id: str, name: str, **args: Any) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": args}


def result(tool_id: str, content: str | list[str], error: bool = False) -> dict[str, Any]:
    body: Any = content if isinstance(content, str) else [text(c) for c in content]
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_id, "content": body}
    if error:
        block["is_error"] = True
    return block


def user(*content: Any) -> dict[str, Any]:
    if len(content) == 1 and isinstance(content[0], str):
        return {"role": "user", "content": content[0]}
    return {"role": "user", "content": [text(c) if isinstance(c, str) else c for c in content]}


def assistant(*content: Any) -> dict[str, Any]:
    if len(content) == 1 and isinstance(content[0], str):
        return {"role": "assistant", "content": content[0]}
    return {"role": "assistant", "content": [text(c) if isinstance(c, str) else c for c in content]}


# -- OpenAI messages ----------------------------------------------------------------------------------------------

def o_sys(content: str | list[str]) -> dict[str, Any]:
    return {"role": "system", "content": content if isinstance(content, str) else [o_part(c) for c in content]}


def o_part(s: str) -> dict[str, Any]:
    return {"type": "text", "text": s}


def o_user(*content: str) -> dict[str, Any]:
    if len(content) == 1:
        return {"role": "user", "content": content[0]}
    return {"role": "user", "content": [o_part(c) for c in content]}


def o_asst(content: str | list[str]) -> dict[str, Any]:
    return {"role": "assistant", "content": content if isinstance(content, str) else [o_part(c) for c in content]}


def o_calls(*calls: tuple[str, str, dict[str, Any]], say: str | None = None) -> dict[str, Any]:
    """An assistant turn that calls tools: (call id, function name, arguments)."""
    return {"role": "assistant", "content": say,
            "tool_calls": [{"id": cid, "type": "function", "function": {"name": fn, "arguments": json.dumps(args)}}
                           for cid, fn, args in calls]}


def o_tool(call_id: str, content: str) -> dict[str, Any]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


# -- whole requests -----------------------------------------------------------------------------------------------

def claude(name: str, question: str, facts: list[str], messages: list[dict[str, Any]], *, bulk: str,
           system: str | list[dict[str, Any]] | None = AGENT_SYSTEM, tools: list[dict[str, Any]] | None = None,
           model: str = "claude-sonnet-4-5", max_tokens: int = 4096, notes: str = "") -> Workload:
    assert bulk in BULK, bulk
    request: dict[str, Any] = {"model": model, "max_tokens": max_tokens}
    if system is not None:
        request["system"] = system
    if tools:
        request["tools"] = tools
    request["messages"] = messages
    return Workload(name, question, facts, request, endpoint=ANTHROPIC, notes=notes,
                    extra={"bulk": bulk, "shape": "anthropic"})


def chat(name: str, question: str, facts: list[str], messages: list[dict[str, Any]], *, bulk: str,
         tools: list[dict[str, Any]] | None = None, model: str = "gpt-4o", max_tokens: int | None = 2048,
         notes: str = "") -> Workload:
    assert bulk in BULK, bulk
    request: dict[str, Any] = {"model": model, "messages": messages}
    if tools:
        request["tools"] = openai_tools(tools)
    if max_tokens:
        request["max_tokens"] = max_tokens
    return Workload(name, question, facts, request, endpoint=OPENAI, notes=notes,
                    extra={"bulk": bulk, "shape": "openai"})
