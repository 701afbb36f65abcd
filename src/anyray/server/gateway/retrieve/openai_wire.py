"""The retrieve loop on the OpenAI Chat Completions wire.

A stream passes chunk by chunk: the retrieve tool's own `tool_calls` entries are taken out (a chunk left
with nothing to say is dropped), the client's keep their order with their indexes renumbered, and a
round that ended only to retrieve (`finish_reason: tool_calls`, no client tool called) is not ended for
the client: its finish chunk, usage chunk and `[DONE]` are dropped, and the final usage chunk carries
every round's usage added up. Only the first choice is followed (the gateway offers the tool only when
one answer is asked for).
"""

from __future__ import annotations

from typing import Any

import orjson

from anyray.server.gateway.retrieve.wire import Call, Pending, StreamEdit, Wire

_COUNTS = ("prompt_tokens", "completion_tokens", "total_tokens")


def _add(total: dict[str, Any], usage: Any) -> None:
    if not isinstance(usage, dict):
        return
    for name in _COUNTS:
        if isinstance(usage.get(name), int):
            total[name] = total.get(name, 0) + usage[name]
    cached = (usage.get("prompt_tokens_details") or {}).get("cached_tokens")
    if isinstance(cached, int):
        details = total.setdefault("prompt_tokens_details", {})
        details["cached_tokens"] = details.get("cached_tokens", 0) + cached


class OpenAIWire(Wire):
    def tools(self, payload: dict[str, Any]) -> list[str]:
        return [str((t.get("function") or {}).get("name", "")) for t in payload.get("tools") or ()
                if isinstance(t, dict)]

    def forced_client_tool(self, payload: dict[str, Any]) -> bool:
        choice = payload.get("tool_choice")
        several = isinstance(payload.get("n"), int) and payload["n"] > 1
        return several or (isinstance(choice, dict) and choice.get("type") == "function")

    def with_tool(self, payload: dict[str, Any], name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        tool = {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}
        return {**payload, "tools": [*(payload.get("tools") or ()), tool]}

    def continuation(self, payload: dict[str, Any], pending: Pending, results: list[str]) -> dict[str, Any]:
        answers = [{"role": "tool", "tool_call_id": c.id, "content": text}
                   for c, text in zip(pending.calls, results, strict=True)]
        return {**payload, "messages": [*payload["messages"], pending.turn, *answers]}

    def pending_in(self, answer: Any, name: str) -> Pending | None:
        choice = _first_choice(answer)
        if choice is None or choice.get("finish_reason") != "tool_calls":
            return None
        message = choice.get("message") or {}
        calls = [c for c in message.get("tool_calls") or () if isinstance(c, dict)]
        ours = [c for c in calls if (c.get("function") or {}).get("name") == name]
        if not ours or len(ours) != len(calls):
            return None
        turn = {"role": "assistant", "content": message.get("content"), "tool_calls": ours}
        return Pending(turn, [Call(str(c.get("id")), _arguments(c)) for c in ours])

    def calls(self, answer: Any, name: str) -> bool:
        message = (_first_choice(answer) or {}).get("message") or {}
        return any(isinstance(c, dict) and (c.get("function") or {}).get("name") == name
                   for c in message.get("tool_calls") or ())

    def merged(self, answers: list[dict[str, Any]], name: str) -> dict[str, Any]:
        last = answers[-1]
        choice = dict(_first_choice(last) or {})
        message = dict(choice.get("message") or {})
        texts = [m.get("content") for m in ((_first_choice(a) or {}).get("message") or {} for a in answers)]
        message["content"] = "".join(t for t in texts if isinstance(t, str)) or message.get("content")
        kept = [c for c in message.get("tool_calls") or () if (c.get("function") or {}).get("name") != name]
        if kept:
            message["tool_calls"] = kept
        else:
            message.pop("tool_calls", None)
            if choice.get("finish_reason") == "tool_calls":
                choice["finish_reason"] = "stop"
        choice["message"] = message
        total: dict[str, Any] = {}
        for a in answers:
            _add(total, a.get("usage"))
        return {**last, "id": answers[0].get("id", last.get("id")), "choices": [choice, *last["choices"][1:]],
                "usage": {**(last.get("usage") or {}), **total}}

    def stream_edit(self, name: str) -> StreamEdit:
        return _ChunkStreamEdit(name)


def _first_choice(answer: Any) -> dict[str, Any] | None:
    choices = answer.get("choices") if isinstance(answer, dict) else None
    first = choices[0] if isinstance(choices, list) and choices else None
    return first if isinstance(first, dict) else None


def _arguments(call: dict[str, Any]) -> Any:
    raw = (call.get("function") or {}).get("arguments")
    try:
        return orjson.loads(raw) if isinstance(raw, str) else raw
    except orjson.JSONDecodeError:
        return raw


class _ChunkStreamEdit(StreamEdit):
    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.total: dict[str, Any] = {}
        self._new_round()

    def _new_round(self) -> None:
        self.index: dict[int, int] = {}  # upstream tool_calls index -> the client's
        self.hidden: dict[int, dict[str, Any]] = {}  # upstream index -> the retrieve call as it accumulates
        self.text: list[str] = []
        self.continuing = False

    def next_round(self) -> None:
        super().next_round()
        self._new_round()

    def event(self, raw: bytes) -> bytes:
        line = next((x for x in raw.split(b"\n") if x.startswith(b"data:")), None)
        if line is None:
            return raw
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return b"" if self.continuing else raw
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return raw
        if not isinstance(chunk, dict) or "error" in chunk:
            return raw
        if not chunk.get("choices") and isinstance(chunk.get("usage"), dict):
            return self._usage(chunk, raw)
        choice = _first_choice(chunk)
        if choice is None:
            return raw
        changed = False
        delta = choice.get("delta") or {}
        if isinstance(delta.get("content"), str):
            self.text.append(delta["content"])
        if isinstance(delta.get("tool_calls"), list):
            kept = self._tool_calls(delta["tool_calls"])
            if kept != delta["tool_calls"]:
                delta = {k: v for k, v in delta.items() if k != "tool_calls"} | ({"tool_calls": kept} if kept else {})
                changed = True
        finish = choice.get("finish_reason")
        if finish == "tool_calls" and self.hidden:
            if not self.index and not self.last_round:
                self._hold()
                return b""
            if not self.index:
                choice = {**choice, "finish_reason": "stop"}  # only retrieve calls were left
                changed = True
        if not changed:
            return raw
        if not delta and choice.get("finish_reason") is None and not chunk.get("usage"):
            return b""  # nothing left for the client in this chunk
        out = {**chunk, "choices": [{**choice, "delta": delta}, *chunk["choices"][1:]]}
        return b"data: " + orjson.dumps(out) + b"\n\n"

    def _tool_calls(self, calls: list[Any]) -> list[Any]:
        kept = []
        for call in calls:
            if not isinstance(call, dict) or not isinstance(call.get("index"), int):
                kept.append(call)
                continue
            upstream = call["index"]
            function = call.get("function") or {}
            if upstream not in self.hidden and upstream not in self.index:
                if function.get("name") == self.name:
                    self.hidden[upstream] = {"id": call.get("id"), "type": "function",
                                             "function": {"name": self.name, "arguments": ""}}
                else:
                    self.index[upstream] = len(self.index)
            if upstream in self.hidden:
                self.hidden[upstream]["function"]["arguments"] += function.get("arguments") or ""
                continue
            mine = self.index[upstream]
            kept.append(call if mine == upstream else {**call, "index": mine})
        return kept

    def _hold(self) -> None:
        self.continuing = True
        calls = [self.hidden[i] for i in sorted(self.hidden)]
        turn = {"role": "assistant", "content": "".join(self.text) or None, "tool_calls": calls}
        self.pending = Pending(turn, [Call(str(c["id"]), _arguments(c)) for c in calls])

    def _usage(self, chunk: dict[str, Any], raw: bytes) -> bytes:
        if self.continuing:
            _add(self.total, chunk["usage"])
            return b""
        if self.round == 0:
            return raw
        total = dict(self.total)
        _add(total, chunk["usage"])
        return b"data: " + orjson.dumps({**chunk, "usage": {**chunk["usage"], **total}}) + b"\n\n"
