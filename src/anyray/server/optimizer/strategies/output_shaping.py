"""output_shaping (off by default): ask the model not to re-print large inputs it was given unchanged.

Output tokens cost five times input tokens, and agents often echo a whole file or log back before
changing two lines. This appends one system block, starting with the `[anyray:output_shaping]` marker so
the caller (and the model) can see where it came from, and reports itself in the decision. It is advice:
nothing in the request is removed.

Prefix stability: it fires on every request that carries tools, from the first turn, with the same
bytes; the block is appended after the client's system blocks, so a client breakpoint on the system
prompt still covers the same prefix. Off by default: it changes what the model is told.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from anyray.server.optimizer import tokens
from anyray.server.optimizer.strategies.base import Applied, Context, Decision, NotApplied, Params, Strategy
from anyray.server.optimizer.strategies.tool_output import MARKER

ADVICE = (f"{MARKER}output_shaping] When a tool result, file or log you were given is large, do not repeat it "
          "unchanged in your answer: quote only the lines that matter and refer to the rest by name.")


class ShapingParams(Params):
    advice: str = Field(ADVICE, min_length=1, description="the advisory text (keep the marker at its start)")


class OutputShaping(Strategy):
    kind = "output_shaping"
    default_enabled = False
    endpoints = ("/v1/messages",)
    Params = ShapingParams
    summary = "append a marked advisory asking the model not to re-print large inputs unchanged"

    def apply(self, request: dict[str, Any], ctx: Context, params: ShapingParams) -> Applied | NotApplied:
        if not request.get("tools"):
            return NotApplied("no tools: nothing large to re-print", quiet=True)
        system = request.get("system")
        block = {"type": "text", "text": params.advice}
        if isinstance(system, str):
            blocks = [{"type": "text", "text": system}, block] if system else [block]
        elif isinstance(system, list):
            if any(isinstance(b, dict) and b.get("text") == params.advice for b in system):
                return NotApplied("advisory already present")
            blocks = [*system, block]
        elif system is None:
            blocks = [block]
        else:
            return NotApplied("system prompt of an unknown shape")
        size = tokens.estimate(request)
        return Applied({**request, "system": blocks},
                       Decision(self.kind, "appended the output advisory to the system prompt", size,
                                size + tokens.estimate(block), {"advisory": True}))
