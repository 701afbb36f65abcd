"""The retrieve loop on the Anthropic Messages wire (Anthropic, Vertex; also what OpenAI clients of Claude
reach after translation).

A stream passes event by event: the retrieve tool's own `tool_use` blocks are held back, the other
blocks keep their order with their indexes renumbered so the client sees 0, 1, 2... across rounds, and
a round that ended only to retrieve (`stop_reason: tool_use`, no client tool called) is not ended for
the client: its `message_delta`/`message_stop` are dropped, the next round's `message_start` too, and
the final `message_delta` carries the usage of every round added up.
"""

from __future__ import annotations

from typing import Any

import orjson

from anyray.server.gateway.replay import AnthropicMessageAssembler
from anyray.server.gateway.retrieve.wire import Call, Pending, StreamEdit, Wire

_USAGE_FIELDS = ("input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")


def _add(total: dict[str, int], usage: Any) -> None:
    if isinstance(usage, dict):
        for name in _USAGE_FIELDS:
            value = usage.get(name)
            if isinstance(value, int):
                total[name] = total.get(name, 0) + value


def _round_usage(start: Any, delta: Any) -> dict[str, int]:
    """One round's usage: message_start's, with what message_delta reports (cumulative) on top."""
    usage = {k: v for k, v in (start or {}).items() if k in _USAGE_FIELDS and isinstance(v, int)}
    usage.update({k: v for k, v in (delta or {}).items() if k in _USAGE_FIELDS and isinstance(v, int)})
    return usage


class AnthropicWire(Wire):
    def tools(self, payload: dict[str, Any]) -> list[str]:
        return [t.get("name", "") for t in payload.get("tools") or () if isinstance(t, dict)]

    def forced_client_tool(self, payload: dict[str, Any]) -> bool:
        choice = payload.get("tool_choice")
        return isinstance(choice, dict) and choice.get("type") == "tool"

    def with_tool(self, payload: dict[str, Any], name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        tool = {"name": name, "description": description, "input_schema": schema}
        return {**payload, "tools": [*(payload.get("tools") or ()), tool]}

    def continuation(self, payload: dict[str, Any], pending: Pending, results: list[str]) -> dict[str, Any]:
        answers = [{"type": "tool_result", "tool_use_id": c.id, "content": text}
                   for c, text in zip(pending.calls, results, strict=True)]
        turn = [{"role": "assistant", "content": pending.turn}, {"role": "user", "content": answers}]
        return {**payload, "messages": [*payload["messages"], *turn]}

    # ------------------------------------------------------------------------------------------ whole

    def pending_in(self, answer: Any, name: str) -> Pending | None:
        content = answer.get("content") if isinstance(answer, dict) else None
        if answer.get("stop_reason") != "tool_use" or not isinstance(content, list):  # type: ignore[union-attr]
            return None
        ours = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") == name]
        theirs = [b for b in content if isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") != name]
        if not ours or theirs:
            return None
        return Pending(content, [Call(str(b.get("id")), b.get("input")) for b in ours])

    def calls(self, answer: Any, name: str) -> bool:
        content = answer.get("content") if isinstance(answer, dict) else None
        return any(isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") == name
                   for b in content or ())

    def merged(self, answers: list[dict[str, Any]], name: str) -> dict[str, Any]:
        last = answers[-1]
        content = [b for a in answers for b in a.get("content") or ()
                   if not (isinstance(b, dict) and b.get("type") == "tool_use" and b.get("name") == name)]
        total: dict[str, int] = {}
        for a in answers:
            _add(total, a.get("usage"))
        merged = {**last, "id": answers[0].get("id", last.get("id")), "content": content,
                  "usage": {**(last.get("usage") or {}), **total}}
        if merged.get("stop_reason") == "tool_use" and not any(
                isinstance(b, dict) and b.get("type") == "tool_use" for b in content):
            merged["stop_reason"] = "end_turn"  # only retrieve calls were left: nothing for the client to run
        return merged

    def stream_edit(self, name: str) -> StreamEdit:
        return _MessagesStreamEdit(name)


class _MessagesStreamEdit(StreamEdit):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.next_index = 0  # the client's next content block index
        self.total: dict[str, int] = {}  # usage of the rounds already over
        self._new_round()

    def _new_round(self) -> None:
        self.index: dict[int, int] = {}  # upstream block index -> client block index
        self.hidden: set[int] = set()  # upstream indexes of the retrieve tool's own blocks
        self.client_tools = False
        self.assembler = AnthropicMessageAssembler()  # this round's blocks, for the continuation
        self.start_usage: Any = None
        self.continuing = False

    def next_round(self) -> None:
        super().next_round()
        self._new_round()

    def event(self, raw: bytes) -> bytes:
        data = _data(raw)
        if data is None:
            return raw
        kind = data.get("type")
        if kind not in ("ping", "error"):
            self.assembler.feed(raw)
        if kind == "message_start":
            self.start_usage = (data.get("message") or {}).get("usage")
            return raw if self.round == 0 else b""
        if kind in ("content_block_start", "content_block_delta", "content_block_stop"):
            return self._block(raw, data, kind)
        if kind == "message_delta":
            return self._delta(data, raw)
        if kind == "message_stop":
            return b"" if self.continuing else raw
        return raw

    def _block(self, raw: bytes, data: dict[str, Any], kind: str) -> bytes:
        upstream = data.get("index")
        if not isinstance(upstream, int):
            return raw
        if kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use" and block.get("name") == self.name:
                self.hidden.add(upstream)
                return b""
            self.client_tools |= block.get("type") == "tool_use"
            self.index[upstream] = self.next_index
            self.next_index += 1
        if upstream in self.hidden:
            return b""
        mine = self.index.get(upstream, upstream)
        return raw if mine == upstream else _event(kind, {**data, "index": mine})

    def _delta(self, data: dict[str, Any], raw: bytes) -> bytes:
        delta = data.get("delta") or {}
        usage = _round_usage(self.start_usage, data.get("usage"))
        message = self.assembler.so_far  # the round's blocks, complete: content_block_stop came first
        if (self.hidden and not self.client_tools and not self.last_round and delta.get("stop_reason") == "tool_use"
                and message is not None and not self.assembler.broken):
            self.continuing = True
            _add(self.total, usage)
            blocks = message["content"]
            self.pending = Pending(list(blocks), [Call(str(blocks[i].get("id")), blocks[i].get("input"))
                                                  for i in sorted(self.hidden) if i < len(blocks)])
            return b""
        if not self.hidden and self.round == 0:
            return raw  # nothing held back, one round: the upstream's bytes as they came
        total = dict(self.total)
        _add(total, usage)
        out = {**data, "usage": {**(data.get("usage") or {}), **total}}
        if delta.get("stop_reason") == "tool_use" and not self.client_tools:
            out["delta"] = {**delta, "stop_reason": "end_turn"}  # only retrieve calls were left
        return _event("message_delta", out)


def _data(raw: bytes) -> dict[str, Any] | None:
    for line in raw.split(b"\n"):
        if line.startswith(b"data:"):
            try:
                data = orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                return None
            return data if isinstance(data, dict) else None
    return None


def _event(kind: str, data: dict[str, Any]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
