"""context_compression: every long text, shrunk by what its shape calls for, facts kept verbatim.

Tool results, pasted documents and logs in a user turn, RAG chunks and notes in a system prompt, long
earlier assistant turns: each piece is cut into segments by shape (a log, JSON, JSON lines, CSV, a table,
a diff, a stack trace, source code, prose) and each segment is thinned by units of its kind (log entries,
records, rows, function bodies, paragraphs), never by rewriting a kept line. What stays is what the
question points at, what reports trouble, what is unusual among its peers, and what names things
(headings, signatures, test names, routes, headers). Every elided run is one marker; the piece's first
marker names the handle of the whole original and how to get it back (the gateway's anyray_retrieve tool,
or POST /v1/retrieve). Content details: server/optimizer/content/.

Not touched: the human's own words (short prose of a user message), instructions in a system prompt,
stack traces, thinking, tool calls, images, and any text shorter than `min_chars`.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from anyray.server.optimizer.content import siblings, text_memo
from anyray.server.optimizer.content.code import TRACE
from anyray.server.optimizer.content.compress import Knobs, shrink
from anyray.server.optimizer.content.units import MARKER
from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.tool_output import ContentStrategy, Output

# asked of every earlier piece for every piece, on every turn (a session's pieces squared): once per text
_traced = text_memo.by_text(lambda text: TRACE.search(text) is not None)


class CompressionParams(Params):
    min_chars: int = Field(400, ge=0, description="texts shorter than this are left alone")
    min_segment_chars: int = Field(300, ge=0, description="a part of a text shorter than this is kept as it is")
    head_items: int = Field(1, ge=0, description="records or rows always kept at the start (the first shows the shape)")
    tail_items: int = Field(1, ge=0, description="... and at the end")
    head_lines: int = Field(1, ge=0, description="log entries or lines always kept at the start")
    tail_lines: int = Field(1, ge=0, description="... and at the end")
    top_paragraphs: int = Field(6, ge=1, description="prose: at most this many best-matching paragraphs kept")
    min_body_lines: int = Field(3, ge=1, description="code: shorter function bodies are kept")
    code: bool = Field(True, description="reduce source code to its skeleton (names and signatures stay)")
    system: bool = Field(True, description="also reference material in system prompts (never instructions)")
    chunks: bool = Field(True, description="drop whole chunks of a list (search results) the question has no word for")


class ContextCompression(ContentStrategy):
    kind = "context_compression"
    default_enabled = True
    Params = CompressionParams
    summary = "every long text thinned by its shape (logs, records, tables, code, prose); facts kept, rest stashed"
    slots: ClassVar[frozenset[str]] = frozenset({"tool_result", "user", "assistant", "document", "system"})
    changed_what = "text"

    def plan(self, found: list[Output], ctx: Context, params: CompressionParams) -> None:
        ctx.notes[self.kind] = siblings.beside_the_point(found) if params.chunks else set()

    def transform(self, output: Output, ctx: Context, params: CompressionParams, earlier: list[Output]) -> str | None:
        text = output.text
        if MARKER in text:
            return None
        if output.where in ctx.notes.get(self.kind, ()):
            return siblings.marker(text, ctx.stash(text))
        if len(text) < params.min_chars:
            return None
        if output.slot == "system" and not params.system:
            return None
        knobs = Knobs(min_segment_chars=params.min_segment_chars, head_records=params.head_items,
                      tail_records=params.tail_items, head_lines=params.head_lines, tail_lines=params.tail_lines,
                      prose_top=params.top_paragraphs, min_body_lines=params.min_body_lines, code=params.code)
        traces = "\n".join(e.text for e in earlier if _traced(e.text))
        return shrink(output, ctx.stash, knobs, traces, ctx.renderings)
