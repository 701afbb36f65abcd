"""durable_blobs: a very large single tool output is externalised wholesale behind one handle.

A 100 KB manifest, a full `kubectl get -o yaml`, a dumped table: re-sent on every later turn, such a blob
can cost more than the rest of the conversation. What is still larger than `min_chars` after the other
content strategies is stashed whole; in its place the prompt keeps a header (its size, the handle), its
first `preview_lines`, and the lines that carry answers: errors and the lines the question singles out,
with a line of context. A source file read back is not a blob (the agent may be about to edit it): it is
left whole up to `min_chars_source`. Runs last among the content strategies, so it sees what they left.
"""

from __future__ import annotations

import contextlib

import orjson
from pydantic import Field

from anyray.server.optimizer.strategies import elide
from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.tool_output import ContentStrategy, Output, is_source_read


class BlobParams(Params):
    min_chars: int = Field(32_768, ge=1024, description="outputs at least this long are externalised")
    min_chars_source: int = Field(262_144, ge=1024, description="the same for a source-file read (an agent edits it)")
    preview_lines: int = Field(12, ge=0)
    context_lines: int = Field(1, ge=0)


class DurableBlobs(ContentStrategy):
    kind = "durable_blobs"
    default_enabled = True
    Params = BlobParams
    summary = "externalise a very large single output wholesale behind a handle; keep a preview and the answer lines"

    def transform(self, output: Output, ctx: Context, params: BlobParams, earlier: list[Output]) -> str | None:
        text = output.text
        if len(text) < params.min_chars:
            return None
        if len(text) < params.min_chars_source and is_source_read(output):
            return None
        lines = text.split("\n")
        laid_out = False
        if len(lines) < 20 and text.lstrip()[:1] in ("{", "["):  # one-line JSON: look at it line by line
            with contextlib.suppress(orjson.JSONDecodeError):
                lines = orjson.dumps(orjson.loads(text), option=orjson.OPT_INDENT_2).decode().split("\n")
                laid_out = True  # these lines are not the original's: markers cite no line numbers
        keep = elide.widen(elide.salient(lines, output.query), params.context_lines, params.context_lines, lines)
        for i in range(min(params.preview_lines, len(lines))):
            keep[i] = True
        handle = ctx.stash(text)
        header = (f"{elide.MARKER} a {len(text) // 1024} KB text ({len(lines)} lines) was externalised; below are "
                  f"its first lines and the lines that match errors or the question; anyray_retrieve handle "
                  f"{handle}]")
        return header + "\n" + elide.render(lines, keep, handle, said=True, cite=not laid_out)
