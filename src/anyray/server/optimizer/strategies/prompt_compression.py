"""prompt_compression (off by default): lossless whitespace normalisation of system prompts and user text.

Templates and pasted text carry Windows line ends, trailing spaces and runs of blank lines that cost
tokens and carry nothing. This rewrites system text and the text blocks of user messages: CRLF and CR
become LF, trailing spaces and tabs at line ends go, and three or more blank lines become two. Nothing
else changes: no word, no indentation at the start of a line, no tool output, no assistant text, and no
fenced code block (whitespace may matter there).

Prefix stability: each text is rewritten as a function of itself alone, so a message renders to the
same bytes on every turn. Off by default: "lossless" is about meaning, and some prompts are compared
byte for byte by their authors.
"""

from __future__ import annotations

import re
from typing import Any

from anyray.server.optimizer import tokens
from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Params, Strategy

_TRAILING = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANKS = re.compile(r"\n{4,}")
_FENCE = re.compile(r"(```.*?```)", re.DOTALL)


def normalise(text: str) -> str:
    parts = _FENCE.split(text.replace("\r\n", "\n").replace("\r", "\n"))
    for i in range(0, len(parts), 2):  # even parts are outside code fences
        parts[i] = _BLANKS.sub("\n\n\n", _TRAILING.sub("", parts[i]))
    return "".join(parts)


def _blocks(content: Any) -> tuple[Any, int]:
    if isinstance(content, str):
        new = normalise(content)
        return (new, 1) if new != content else (content, 0)
    if not isinstance(content, list):
        return content, 0
    out, changed = list(content), 0
    for i, block in enumerate(content):
        if isinstance(block, dict) and block.get("type") == "text" and isinstance(block.get("text"), str):
            new = normalise(block["text"])
            if new != block["text"]:
                out[i] = {**block, "text": new}
                changed += 1
    return (out, changed) if changed else (content, 0)


class PromptCompression(Strategy):
    kind = "prompt_compression"
    default_enabled = False
    endpoints = ("/v1/messages",)
    Params = Params
    summary = "lossless whitespace normalisation of system prompts and user text"

    def apply(self, request: dict[str, Any], ctx: Context, params: Params) -> Applied | NotApplied:
        new = dict(request)
        changed = 0
        if "system" in request:
            new["system"], n = _blocks(request["system"])
            changed += n
        messages = request.get("messages")
        if isinstance(messages, list):
            out = list(messages)
            for i, message in enumerate(messages):
                if isinstance(message, dict) and message.get("role") == "user":
                    content, n = _blocks(message.get("content"))
                    if n:
                        out[i] = {**message, "content": content}
                        changed += n
            new["messages"] = out
        if not changed:
            return NotApplied("nothing to normalise")
        before, after = tokens.estimate(request), tokens.estimate(new)
        return Applied(new, Decision(self.kind, f"normalised whitespace in {changed} text(s)", before, after,
                                     {"textsChanged": changed}))
