"""context_compression: minify JSON, collapse whitespace, cap oversized arrays, blobs and logs in tool output.

Tool output is written for terminals and humans: pretty-printed JSON, padded tables, blank runs, a base64
blob or a 5,000-line log. The model needs the values, not the layout, and the few lines that matter.
- JSON is re-serialised compactly (same values, same key order). An array longer than `max_array_items`
  keeps its first and last items and every item that is salient (an error, or a rare term of the question);
  the rest become one marker string naming the handle of the whole original.
- Text loses trailing whitespace and blank-line runs; padding inside a line (3+ spaces) shrinks to two.
- A line longer than `max_string_chars` with almost no spaces (base64, a minified bundle) keeps its head
  and tail.
- Text longer than `max_lines` keeps `head_lines`, `tail_lines` and every salient line with a line of
  context; elided runs become markers.
A source-file read is left exactly as it is: an agent may quote it back verbatim in an edit (code_skeleton,
off by default, is the strategy that knows code's structure). Every lossy step stashes the whole original
first, so the marker's handle returns it byte for byte.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from pydantic import Field

from anyray.server.optimizer.strategies import elide
from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.tool_output import ContentStrategy, Output, is_source_read

_PADDING = re.compile(r"(?<=\S)[ \t]{3,}(?=\S)")
_BLANKS = re.compile(r"\n{3,}")


class CompressionParams(Params):
    min_chars: int = Field(400, ge=0, description="outputs shorter than this are left alone")
    max_array_items: int = Field(24, ge=4)
    head_items: int = Field(5, ge=0)
    tail_items: int = Field(2, ge=0)
    max_string_chars: int = Field(2000, ge=100, description="cap for one space-free JSON string or text line")
    max_lines: int = Field(150, ge=10)
    head_lines: int = Field(25, ge=0)
    tail_lines: int = Field(15, ge=0)
    context_lines: int = Field(1, ge=0)


class ContextCompression(ContentStrategy):
    kind = "context_compression"
    default_enabled = True
    Params = CompressionParams
    summary = "minify JSON, collapse whitespace, cap oversized arrays, blobs and logs (elided parts stashed)"

    def transform(self, output: Output, ctx: Context, params: CompressionParams, earlier: list[Output]) -> str | None:
        text = output.text
        if len(text) < params.min_chars or text.startswith(elide.MARKER):
            return None
        if is_source_read(output):  # quoted back verbatim in edits: code_skeleton's, which knows its structure
            return None
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                value = orjson.loads(stripped)
            except orjson.JSONDecodeError:
                value = None
            else:
                return _compress_json(value, output, ctx, params)
        return _compress_text(text, output, ctx, params)


class _Lazy:
    """The handle of the whole original, stashed only if something is actually elided."""

    def __init__(self, ctx: Context, text: str) -> None:
        self.ctx, self.text, self.value = ctx, text, ""

    def __str__(self) -> str:
        if not self.value:
            self.value = self.ctx.stash(self.text)
        return self.value


def _compress_json(value: Any, output: Output, ctx: Context, params: CompressionParams) -> str | None:
    handle = _Lazy(ctx, output.text)
    anchors = elide.anchor_pattern(output.query, output.text, output.text.count("\n") + 1)

    def keep_item(item: Any) -> bool:
        raw = item if isinstance(item, str) else orjson.dumps(item).decode()
        return elide.is_errorish(raw) or (anchors is not None and anchors.search(raw) is not None)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            items = [walk(v) for v in node]
            if len(items) <= params.max_array_items:
                return items
            keep = [i < params.head_items or i >= len(items) - params.tail_items or keep_item(v)
                    for i, v in enumerate(items)]
            out: list[Any] = []
            i = 0
            while i < len(items):
                if keep[i]:
                    out.append(items[i])
                    i += 1
                    continue
                j = i
                while j < len(items) and not keep[j]:
                    j += 1
                out.append(elide.marker(f"{j - i} of {len(items)} array items ({i}-{j - 1})", str(handle)))
                i = j
            return out
        if isinstance(node, str) and len(node) > params.max_string_chars and node.count(" ") < len(node) // 100:
            return _cap_string(node, params.max_string_chars, str(handle))
        return node

    try:
        return orjson.dumps(walk(value)).decode()
    except TypeError:  # integers beyond 64 bits: leave the output as it came
        return None


def _cap_string(value: str, limit: int, handle: str) -> str:
    head, tail = value[: limit * 2 // 3], value[-(limit // 3):]
    return f"{head}{elide.marker(f'{len(value) - len(head) - len(tail)} characters', handle)}{tail}"


def _compress_text(text: str, output: Output, ctx: Context, params: CompressionParams) -> str | None:
    handle = _Lazy(ctx, text)
    lines = [line.rstrip() for line in text.split("\n")]
    lines = [_PADDING.sub("  ", line) if "   " in line or "\t" in line else line for line in lines]
    lines = [
        _cap_string(line, params.max_string_chars, str(handle))
        if len(line) > params.max_string_chars and line.count(" ") < len(line) // 100 else line
        for line in lines
    ]
    lines = _BLANKS.sub("\n\n", "\n".join(lines)).strip("\n").split("\n")
    if len(lines) > params.max_lines:
        keep = elide.salient(lines, output.query)
        keep = elide.widen(keep, params.context_lines, params.context_lines, lines)
        for i in range(min(params.head_lines, len(lines))):
            keep[i] = True
        for i in range(max(0, len(lines) - params.tail_lines), len(lines)):
            keep[i] = True
        if sum(keep) < len(lines) * 0.9:
            return elide.render(lines, keep, str(handle))
    return "\n".join(lines)
