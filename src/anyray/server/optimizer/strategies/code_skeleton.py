"""code_skeleton and code_graph: source code alone reduced to its skeleton, wherever it stands.

context_compression already does this to code as part of everything it does (on by default); these two
do only that, for a team that wants code thinned and nothing else. Every name stays (imports, classes,
signatures, docstrings, tests and routes, module-level statements); a long leaf body goes unless the
question or an earlier traceback points into it; a body that declares names (a class, a `describe`
holding `it`s) is opened up, never elided whole. code_graph also keeps whole every body that a kept one
calls, transitively: the question names `charge`, `charge` calls `_round_cents`, both stay readable.
Python by its `ast` (a Python fragment that does not parse, by its indentation), other languages by their
braces (content/code.py).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from anyray.server.optimizer.content.code import TRACE
from anyray.server.optimizer.content.compress import Knobs, shrink
from anyray.server.optimizer.content.units import MARKER
from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.tool_output import ContentStrategy, Output


class SkeletonParams(Params):
    min_lines: int = Field(40, ge=1, description="shorter texts are left alone")
    min_body_lines: int = Field(6, ge=1, description="shorter bodies are kept")
    min_body_chars: int = Field(300, ge=0, description="so are bodies whose text is barely longer than a marker")


class CodeSkeleton(ContentStrategy):
    kind = "code_skeleton"
    default_enabled = False
    Params = SkeletonParams
    summary = "source code alone reduced to names and signatures (context_compression does it too; off)"
    slots: ClassVar[frozenset[str]] = frozenset({"tool_result", "user", "assistant", "document"})
    follow_calls = False

    def transform(self, output: Output, ctx: Context, params: SkeletonParams, earlier: list[Output]) -> str | None:
        text = output.text
        if text.count("\n") + 1 < params.min_lines or MARKER in text:
            return None
        knobs = Knobs(min_segment_chars=0, min_body_lines=params.min_body_lines, min_body_chars=params.min_body_chars,
                      follow_calls=self.follow_calls, kinds=frozenset({"code"}))
        traces = "\n".join(e.text for e in earlier if TRACE.search(e.text))
        return shrink(output, ctx.stash, knobs, traces, ctx.renderings)


class CodeGraph(CodeSkeleton):
    kind = "code_graph"
    default_enabled = False
    summary = "code_skeleton that keeps whole the bodies on the call path from what the question names (off)"
    follow_calls = True
