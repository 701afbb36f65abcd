"""The retrieve loop: answer the model's retrieve calls from the stash and carry on upstream, until it
answers for real; the client sees one ordinary answer (whole or streamed) in its own dialect.

Bounded: at most `max_rounds` upstream calls for one answer; in the last one a retrieve call is dropped
and the answer ends as it is. A round in which the model also called one of the client's tools is never
continued: the client's tool loop goes on as the client runs it, and the retrieve call is left out (the
model can ask again next turn). Every round goes to the target that answered the first, under the
request's retry budget. The loop's own decision (rounds, calls, whether each found its handle) is
recorded with the call, content-free.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import orjson

from anyray.server.gateway.h1 import UpstreamError, UpstreamResponse
from anyray.server.gateway.pipeline import Opened
from anyray.server.gateway.retrieve import tool
from anyray.server.gateway.retrieve.wire import Pending, Wire
from anyray.server.gateway.upstream import UpstreamFailure

Send = Callable[[dict[str, Any]], Awaitable["Opened | UpstreamFailure"]]


class RetrieveLoop:
    def __init__(
        self, wire: Wire, name: str, allowed: frozenset[str], fetch: tool.Fetch, send: Send, max_rounds: int,
        decision: dict[str, Any],
    ) -> None:
        self.wire, self.name, self.allowed, self.fetch, self.send = wire, name, allowed, fetch, send
        self.max_rounds = max(max_rounds, 1)
        self.decision = decision  # {"kind": "retrieve_tool", "rounds", "retrievals", "found"}: updated in place

    async def _results(self, pending: Pending) -> list[str]:
        results = []
        for call in pending.calls:
            text, found = await tool.answer(call.arguments, self.allowed, self.fetch)
            self.decision["retrievals"] += 1
            self.decision["found"] += found
            results.append(text)
        return results

    async def _next(self, payload: dict[str, Any], pending: Pending) -> tuple[dict[str, Any], Opened | UpstreamFailure]:
        payload = self.wire.continuation(payload, pending, await self._results(pending))
        result = await self.send(payload)
        if isinstance(result, Opened):
            self.decision["rounds"] += 1
        return payload, result

    async def whole(self, answer: Any, payload: dict[str, Any]) -> tuple[Any, UpstreamFailure | None]:
        """A whole answer after as many rounds as it takes: (the merged answer, None) or (None, the failure)."""
        answers = [answer]
        while self.decision["rounds"] < self.max_rounds and (pending := self.wire.pending_in(answers[-1], self.name)):
            payload, result = await self._next(payload, pending)
            if not isinstance(result, Opened):
                return None, result
            try:
                answers.append(orjson.loads(result.body or b""))
            except orjson.JSONDecodeError:
                return None, UpstreamFailure(502, b'{"error": {"message": "a retrieval round answered non-JSON"}}',
                                             result.target.provider)
        if len(answers) == 1 and not self.wire.calls(answer, self.name):
            return answer, None  # one round, nothing to take out: the upstream's answer as it was
        return self.wire.merged([a for a in answers if isinstance(a, dict)], self.name), None

    def stream(self, first: UpstreamResponse, payload: dict[str, Any]) -> LoopedStream:
        return LoopedStream(self, first, payload)


class LoopedStream:
    """Stands in for the upstream response the relay reads: every round of one streamed answer, as one."""

    def __init__(self, loop: RetrieveLoop, first: UpstreamResponse, payload: dict[str, Any]) -> None:
        self.loop = loop
        self.status = first.status
        self.headers: Mapping[str, str] = first.headers
        self._current = first
        self._payload = payload
        self._edit = loop.wire.stream_edit(loop.name)
        self._edit.last_round = loop.max_rounds <= 1

    async def iter_chunks(self) -> AsyncIterator[bytes]:
        edit = self._edit
        while True:
            async for chunk in self._current.iter_chunks():
                if out := edit.feed(chunk):
                    yield out
            if out := edit.flush():
                yield out
            pending = edit.pending
            if pending is None:
                return
            self._current.release()
            self._payload, result = await self.loop._next(self._payload, pending)
            if not isinstance(result, Opened):
                raise UpstreamError(f"a retrieval round was answered {result.status}")
            self._current = result.response
            edit.next_round()
            edit.last_round = self.loop.decision["rounds"] >= self.loop.max_rounds

    def release(self) -> None:
        self._current.release()

    def close(self) -> None:
        self._current.close()
