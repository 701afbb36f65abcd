"""Every long text in a request, wherever it stands, and how to put a rewritten one back.

A piece is one text a content strategy may rewrite: a tool result (Anthropic `tool_result`, string or
text parts; OpenAI `role: tool`), a user or assistant text (a plain string or a text block/part), a
system prompt (string or blocks; OpenAI `system`/`developer` messages), an Anthropic `document` block's
text. Ids, order, `cache_control`, images, tool calls and thinking blocks are never pieces, so nothing a
strategy does can break tool pairing or a signature. The last message is left alone when it is the
assistant's (a prefill the model continues).

Each piece carries the question it was given to answer: for a tool result, the human text live when the
tool ran plus the call's own input; for a user text, what else that message says; for an assistant
text, the question it answered; for a system prompt, the conversation's first question. None of these
reads a later turn, so a piece renders to the same bytes on every turn (prefix stability).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from anyray.server.optimizer.content.first_seen import chain
from anyray.server.optimizer.content.segments import opening

Path = tuple[Any, ...]  # keys and indexes from the request's root to the text

SHORT = 2000  # a question is at most this long (a longer text: its first and last paragraphs)
OWN = 800  # a text this short in a user message beside long ones is taken as the human's words about them


@dataclass(slots=True)
class Piece:
    where: Path
    text: str
    slot: str  # "tool_result", "user", "assistant", "system" or "document"
    question: str = ""
    tool_id: str = ""
    tool_name: str = ""
    tool_input: Any = None
    message: int = -1  # index of the message it is in (-1: the top-level system prompt)
    key: bytes = b""  # chained over the pieces before it (first_seen.py)
    latest: str = ""  # the question asked last in the request
    seen_for: str = ""  # the question asked last when the optimizer first saw the piece (first_seen.py)

    @property
    def query(self) -> str:
        """What the text was given to answer: the question live at its turn (plus the tool call's own
        arguments), and the question asked when it was first seen, when that one is another."""
        own = f"{self.question}\n{flatten(self.tool_input)}" if self.tool_input is not None else self.question
        return own if not self.seen_for or self.seen_for in own else f"{own}\n{self.seen_for}"


def flatten(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return " ".join(flatten(v) for v in value.values())
    if isinstance(value, list):
        return " ".join(flatten(v) for v in value)
    return "" if value is None else str(value)


def human_text(content: Any) -> str:
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


def asked_in(content: Any) -> str:
    """What a user message asks, as a question: its own words (`own_words`) when it is a list of several
    texts, else its text (shortened to its first and last paragraphs when long)."""
    if isinstance(content, list):
        texts = [t for _, t in _texts(content, ()) if not t.lstrip().startswith("<system-reminder>")]
        if len(texts) >= 3 and (own := own_words(texts)):
            return "\n".join(own)
    text = human_text(content).strip()
    return _short(text) if text else ""


def own_words(texts: list[str]) -> list[str]:
    """The human's words among a message's texts: the short ones; of a list of several (retrieved chunks, one
    text each) only the first and the last (where people ask), and the first only when it does not open
    like the next (then it is one of the chunks)."""
    if len(texts) >= 3:
        texts = [texts[-1]] if opening(texts[0]) == opening(texts[1]) else [texts[0], texts[-1]]
    return [t for t in texts if len(t) <= OWN]


def _short(text: str) -> str:
    """A text as a question: itself when short, else its first and last paragraphs (where people ask)."""
    if len(text) <= SHORT:
        return text
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    ends = [p for p in (paragraphs[:1] + paragraphs[-1:]) if len(p) <= SHORT]
    return "\n".join(ends)


def pieces(request: dict[str, Any], team: str = "") -> list[Piece]:
    """Every candidate text in prompt order, for either dialect (the shape tells them apart), each with its
    chained key and the request's last question."""
    found = list(_walk(request))
    messages = request.get("messages") if isinstance(request.get("messages"), list) else []
    latest = next((t for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"
                   and (t := asked_in(m.get("content")))), "")
    key = team.encode()
    for piece in found:
        key = piece.key = chain(key, piece.slot, piece.text)
        piece.latest = latest
    return found


def _first_question(messages: list[Any]) -> str:
    for message in messages:
        text = asked_in(message.get("content")) if isinstance(message, dict) else ""
        if text and message.get("role") == "user":
            return text
    return ""


def _texts(content: Any, path: Path) -> Iterator[tuple[Path, str]]:
    """The text of a content value: a string, or its text blocks/parts."""
    if isinstance(content, str):
        yield path, content
    elif isinstance(content, list):
        for i, block in enumerate(content):
            if isinstance(block, dict) and block.get("type") in ("text", "input_text") \
                    and isinstance(block.get("text"), str):
                yield (*path, i, "text"), block["text"]


def _walk(request: dict[str, Any]) -> Iterator[Piece]:
    messages = request.get("messages")
    messages = messages if isinstance(messages, list) else []
    first = _first_question(messages)
    for where, text in _texts(request.get("system"), ("system",)):
        yield Piece(where, text, "system", first)
    calls: dict[str, tuple[str, Any]] = {}
    question = first
    last = len(messages) - 1
    for mi, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role, content = message.get("role"), message.get("content")
        path: Path = ("messages", mi, "content")
        if role in ("system", "developer"):
            for where, text in _texts(content, path):
                yield Piece(where, text, "system", first, message=mi)
        elif role == "assistant":
            _remember_calls(message, calls)
            if mi != last:  # a final assistant message is a prefill: the model goes on from its exact bytes
                for where, text in _texts(content, path):
                    yield Piece(where, text, "assistant", question, message=mi)
        elif role == "tool":
            tool_id = str(message.get("tool_call_id"))
            name, arguments = calls.get(tool_id, ("", None))
            for where, text in _texts(content, path):
                yield Piece(where, text, "tool_result", question, tool_id, name, arguments, mi)
        elif role == "user":
            yield from _user(message, content, path, mi, question, calls)
            if text := asked_in(content):
                question = text


def _remember_calls(message: dict[str, Any], calls: dict[str, tuple[str, Any]]) -> None:
    content = message.get("content")
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


def _user(
    message: dict[str, Any], content: Any, path: Path, mi: int, question: str, calls: dict[str, tuple[str, Any]]
) -> Iterator[Piece]:
    # the human's own words in this message say what its long texts are for
    own = own_words([t for _, t in _texts(content, path) if not t.lstrip().startswith("<system-reminder>")])
    asked = "\n".join([*own, question]) if own else question
    if isinstance(content, str):
        yield Piece(path, content, "user", asked, message=mi)
        return
    for bi, block in enumerate(content if isinstance(content, list) else ()):
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "tool_result":
            tool_id = str(block.get("tool_use_id"))
            name, arguments = calls.get(tool_id, ("", None))
            for where, text in _texts(block.get("content"), (*path, bi, "content")):
                yield Piece(where, text, "tool_result", question, tool_id, name, arguments, mi)
        elif kind in ("text", "input_text") and isinstance(block.get("text"), str):
            if not block["text"].lstrip().startswith("<system-reminder>"):
                yield Piece((*path, bi, "text"), block["text"], "user", asked, message=mi)
        elif kind == "document" and isinstance(block.get("source"), dict):
            source = block["source"]
            title = str(block.get("title") or "")
            if source.get("type") == "text" and isinstance(source.get("data"), str):
                yield Piece((*path, bi, "source", "data"), source["data"], "document", f"{title}\n{asked}",
                            message=mi)
            elif source.get("type") == "content":
                for where, text in _texts(source.get("content"), (*path, bi, "source", "content")):
                    yield Piece(where, text, "document", f"{title}\n{asked}", message=mi)


def replace(request: dict[str, Any], changes: dict[Path, str]) -> dict[str, Any]:
    """A new request with the given pieces' text replaced, sharing every part that did not change."""
    if not changes:
        return request
    root: dict[str, Any] = dict(request)
    copied: set[Path] = {()}
    for path, text in changes.items():
        node: Any = root
        for depth, key in enumerate(path[:-1]):
            prefix = path[: depth + 1]
            child = node[key]
            if prefix not in copied:
                child = dict(child) if isinstance(child, dict) else list(child)
                node[key] = child
                copied.add(prefix)
            node = child
        node[path[-1]] = text
    return root
