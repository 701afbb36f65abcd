"""relevance_filter: from a large retrieved or logged text keep the lines relevant to the question (BM25).

Search hits, logs and retrieved documents are long and mostly beside the point. Each line is scored with
Okapi BM25 against the question that was live when the tool ran plus the call's own arguments (never a later
turn: the same output filters the same way on every turn). Kept: the best `top_lines` that score at least
`min_score` of the best line, every error line and earlier marker, the first `head_lines` and the last
`tail_lines` (summaries), and a line of context around each; the rest becomes markers naming the handle of
the whole original. When no line has a lexical hit the output is left alone: a semantic re-rank (embeddings)
for vocabulary-mismatch questions is not built yet. Off by default: it trades recall for size more
aggressively than context_compression. JSON is left to context_compression, which caps arrays without
breaking the document, and source-file reads to code_skeleton.
"""

from __future__ import annotations

from pydantic import Field

from anyray.server.optimizer.strategies import elide
from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.tool_output import ContentStrategy, Output, is_source_read


class RelevanceParams(Params):
    min_lines: int = Field(80, ge=10, description="shorter outputs are left alone")
    top_lines: int = Field(30, ge=1)
    min_score: float = Field(0.5, ge=0, le=1, description="keep only lines scoring at least this share of the best")
    head_lines: int = Field(3, ge=0)
    tail_lines: int = Field(3, ge=0, description="runners and tools print their summary last")
    context_lines: int = Field(1, ge=0)


class RelevanceFilter(ContentStrategy):
    kind = "relevance_filter"
    default_enabled = False
    Params = RelevanceParams
    summary = "keep the lines of a large output that BM25 ranks relevant to the question (off by default)"

    def transform(self, output: Output, ctx: Context, params: RelevanceParams, earlier: list[Output]) -> str | None:
        text = output.text
        if text.lstrip()[:1] in ("{", "[") or text.startswith(elide.MARKER) or is_source_read(output):
            return None
        lines = text.split("\n")
        if len(lines) < params.min_lines:
            return None
        scores = elide.bm25(lines, elide.terms(output.query))
        ranked = sorted((s, -i) for i, s in enumerate(scores) if s > 0)
        if not ranked:
            return None
        best = ranked[-1][0]
        keep = [False] * len(lines)
        for score, negative in ranked[-params.top_lines:]:
            if score >= best * params.min_score:
                keep[-negative] = True
        for i in elide.lines_with(text, [elide.MARKER.lower()], elide.ERRORS):
            keep[i] = True
        keep = elide.widen(keep, params.context_lines, params.context_lines, lines)
        ends = [*range(min(params.head_lines, len(lines))), *range(max(0, len(lines) - params.tail_lines), len(lines))]
        for i in ends:
            keep[i] = True
        if sum(keep) > len(lines) * 0.8:
            return None
        return elide.render(lines, keep, ctx.stash(text))
