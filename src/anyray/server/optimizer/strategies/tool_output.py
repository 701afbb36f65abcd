"""Where agents' tool output lives in a request, and how a content strategy rewrites it copy-on-write.

Content strategies (context_dedupe, command_digest, code_skeleton, relevance_filter, context_compression,
durable_blobs) only ever change the *text* of tool output: Anthropic `tool_result` blocks (string content
or their `text` parts) and OpenAI `role: tool` messages. Ids, order, `is_error`, `cache_control` and every
other field stay as they were, so tool_use/tool_result pairing can never break.

Prefix stability is built in here: each output carries the question that was live when the tool ran (the
nearest earlier user text) and the tool call's own input, never anything from later turns. A transform
that reads only an output, its question and earlier outputs makes the same bytes on every later turn.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from anyray.server.optimizer import tokens
from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Params, Strategy

Where = tuple[int, int | None, int | None]  # message index, content block index, text-part index
MARKER = "[anyray:"  # every elision marker starts with this, and later strategies always keep such lines


@dataclass(slots=True)
class Output:
    where: Where
    text: str
    tool_id: str
    tool_name: str
    tool_input: Any
    question: str

    @property
    def query(self) -> str:
        """What the tool was asked and why: the live question plus the call's own arguments."""
        return f"{self.question}\n{_flatten(self.tool_input)}"


_SOURCE_TOOLS = re.compile(r"read|view|cat|open|edit|write|notebook", re.IGNORECASE)
NUMBERED = re.compile(r"^\s*\d+(?:→|\t)")  # Claude Code's Read and `cat -n` line numbers


_DATA_FILES = re.compile(r"\.(?:log|out|err|csv|tsv|jsonl|ndjson)(?:\.\d+)?$", re.IGNORECASE)


def tool_path(arguments: object) -> str:
    """The file a call read, when its arguments name one."""
    if isinstance(arguments, dict):
        for key in ("file_path", "path", "filename", "file"):
            if isinstance(arguments.get(key), str):
                return str(arguments[key])
    return ""


def is_source_read(output: Output) -> bool:
    """A file read back (by a Read-like tool, or with line numbers) that an agent may quote in an edit; a
    log or data file (`.log`, `.csv`, `.jsonl`, ...) is not one, however it was read."""
    if _DATA_FILES.search(tool_path(output.tool_input)):
        return False
    return bool(_SOURCE_TOOLS.search(output.tool_name)) or bool(NUMBERED.match(output.text))


def _flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(_flatten(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(_flatten(v) for v in value)
    return "" if value is None else str(value)


def _user_text(content: Any) -> str:
    """The human part of a user message (Claude Code's `<system-reminder>` blocks are not the question)."""
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content if isinstance(content, list) else ():
        if isinstance(block, dict) and block.get("type") in ("text", "input_text"):
            text = block.get("text")
            if isinstance(text, str) and not text.lstrip().startswith("<system-reminder>"):
                parts.append(text)
    return "\n".join(parts)


def outputs(request: dict[str, Any]) -> list[Output]:
    """Every tool output in prompt order, for either dialect (the shape tells them apart)."""
    return list(_walk(request))


def _walk(request: dict[str, Any]) -> Iterator[Output]:
    messages = request.get("messages")
    if not isinstance(messages, list):
        return
    calls: dict[str, tuple[str, Any]] = {}
    question = ""
    for mi, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        if role == "assistant":
            for block in content if isinstance(content, list) else ():
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    calls[str(block.get("id"))] = (str(block.get("name", "")), block.get("input"))
            for call in message.get("tool_calls") or ():
                if isinstance(call, dict) and isinstance(call.get("function"), dict):
                    arguments = call["function"].get("arguments")
                    if isinstance(arguments, str):
                        with contextlib.suppress(ValueError):
                            arguments = json.loads(arguments)
                    calls[str(call.get("id"))] = (str(call["function"].get("name", "")), arguments)
        elif role == "tool":
            tool_id = str(message.get("tool_call_id"))
            name, arguments = calls.get(tool_id, ("", None))
            if isinstance(content, str):
                yield Output((mi, None, None), content, tool_id, name, arguments, question)
            elif isinstance(content, list):
                for pi, part in enumerate(content):
                    if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                        yield Output((mi, None, pi), part["text"], tool_id, name, arguments, question)
        elif role == "user":
            for bi, block in enumerate(content if isinstance(content, list) else ()):
                if not isinstance(block, dict) or block.get("type") != "tool_result":
                    continue
                tool_id = str(block.get("tool_use_id"))
                name, arguments = calls.get(tool_id, ("", None))
                inner = block.get("content")
                if isinstance(inner, str):
                    yield Output((mi, bi, None), inner, tool_id, name, arguments, question)
                elif isinstance(inner, list):
                    for pi, part in enumerate(inner):
                        if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                            yield Output((mi, bi, pi), part["text"], tool_id, name, arguments, question)
            if text := _user_text(content).strip():
                question = text


def replace(request: dict[str, Any], changes: dict[Where, str]) -> dict[str, Any]:
    """A new request with the given outputs' text replaced, sharing every part that did not change."""
    if not changes:
        return request
    messages = list(request["messages"])
    by_message: dict[int, list[tuple[Where, str]]] = {}
    for where, text in changes.items():
        by_message.setdefault(where[0], []).append((where, text))
    for mi, items in by_message.items():
        message = dict(messages[mi])
        for (_, bi, pi), text in items:
            if bi is None:  # OpenAI tool message
                if pi is None:
                    message["content"] = text
                else:
                    parts = list(message["content"])
                    parts[pi] = {**parts[pi], "text": text}
                    message["content"] = parts
                continue
            blocks = message["content"] = list(message["content"])
            block = blocks[bi] = dict(blocks[bi])
            if pi is None:
                block["content"] = text
            else:
                parts = block["content"] = list(block["content"])
                parts[pi] = {**parts[pi], "text": text}
        messages[mi] = message
    return {**request, "messages": messages}


class ContentStrategy(Strategy):
    """A strategy that rewrites tool output one piece at a time; subclasses say how one piece shrinks."""

    changed_what: str = "tool output"

    def transform(self, output: Output, ctx: Context, params: Any, earlier: list[Output]) -> str | None:
        """The new text of one output, or None to leave it; `earlier` holds the outputs before it as this
        strategy has already left them (never anything later: that is what keeps the prefix stable)."""
        raise NotImplementedError

    def apply(self, request: dict[str, Any], ctx: Context, params: Params) -> Applied | NotApplied:
        found = ctx.derived("tool_outputs", request, outputs)
        if not found:
            return NotApplied("no tool output", quiet=True)
        changes: dict[Where, str] = {}
        before = after = 0
        done: list[Output] = []  # earlier outputs as this strategy leaves them
        for output in found:
            new = self.transform(output, ctx, params, done)
            old_tokens = tokens.estimate(output.text)
            new_tokens = old_tokens if new is None else tokens.estimate(new)
            if new is None or new_tokens >= old_tokens:  # never make a prompt bigger
                done.append(output)
                continue
            done.append(dataclasses.replace(output, text=new))
            changes[output.where] = new
            before, after = before + old_tokens, after + new_tokens
        if not changes:
            return NotApplied(f"nothing to shrink in {len(found)} tool output(s)")
        total = tokens.estimate(request)
        decision = Decision(self.kind, f"shrank {len(changes)} of {len(found)} {self.changed_what}(s)", total,
                            total - (before - after), {"outputsChanged": len(changes), "outputTokensBefore": before,
                                                       "outputTokensAfter": after})
        return Applied(replace(request, changes), decision)
