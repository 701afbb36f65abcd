"""What the retrieve loop needs from an upstream wire, and the event framing both wires share.

A `Wire` knows its own request and answer shapes: how a tool is offered, how a round that only called
the retrieve tool is recognised (whole or streamed), how the conversation carries on after the gateway
answered those calls, and how several rounds' answers become one for the client. The loop itself
(loop.py) is written once, over this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class Call:
    """One call of the retrieve tool: its id (to answer it) and its arguments."""

    id: str
    arguments: Any


@dataclass(slots=True)
class Pending:
    """A round that ended only to retrieve: the assistant turn as the model wrote it, and the calls to answer."""

    turn: Any
    calls: list[Call]


class StreamEdit:
    """Rewrites one answer's streamed rounds into one stream for the client, event by event.

    Cuts the upstream's bytes at event boundaries (a blank line) and hands each whole event to `event`;
    a partial event waits for its end. `pending` is set when the round ended only to retrieve."""

    def __init__(self) -> None:
        self.round = 0
        self.last_round = False  # no further round may follow: retrieve calls are dropped, the answer ends
        self.pending: Pending | None = None
        self._tail = b""

    def feed(self, chunk: bytes) -> bytes:
        data = self._tail + chunk
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n")
        events = data.split(b"\n\n")
        self._tail = events.pop()
        return b"".join(self.event(e + b"\n\n") for e in events if e)

    def flush(self) -> bytes:
        tail, self._tail = self._tail, b""
        return self.event(tail) if tail.strip() else b""

    def next_round(self) -> None:
        self.round += 1
        self.pending = None
        self._tail = b""

    def event(self, raw: bytes) -> bytes:
        raise NotImplementedError


class Wire(ABC):
    @abstractmethod
    def tools(self, payload: dict[str, Any]) -> list[str]:
        """The names of the tools the request offers."""

    @abstractmethod
    def forced_client_tool(self, payload: dict[str, Any]) -> bool:
        """The request forces one named tool of the client's: the model could not call ours anyway."""

    @abstractmethod
    def with_tool(self, payload: dict[str, Any], name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
        """The request with one more tool offered, last (copy on write)."""

    @abstractmethod
    def continuation(self, payload: dict[str, Any], pending: Pending, results: list[str]) -> dict[str, Any]:
        """The request that carries on: the model's turn and the answers to its retrieve calls appended."""

    @abstractmethod
    def pending_in(self, answer: Any, name: str) -> Pending | None:
        """A whole answer that ended only to retrieve, as a `Pending`; None when it is final."""

    @abstractmethod
    def calls(self, answer: Any, name: str) -> bool:
        """Whether a whole answer calls the retrieve tool at all (such a call is taken out before the client)."""

    @abstractmethod
    def merged(self, answers: list[dict[str, Any]], name: str) -> dict[str, Any]:
        """Several rounds' whole answers as one: the retrieve calls left out, usage added up."""

    @abstractmethod
    def stream_edit(self, name: str) -> StreamEdit:
        """A fresh editor for one streamed answer."""
