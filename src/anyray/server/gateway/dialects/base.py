"""What a client API dialect is to the gateway: the few pieces that differ between Anthropic and OpenAI callers.

The call itself (limits, keys, metadata, route, optimizer, cache, upstream attempts, relay, spend) is the
same for every dialect and lives once, in `server/gateway/model_call.py`. A dialect says only what is
its own: how a request is checked, how an error looks, how a cached answer is replayed, and, for each
wire an upstream speaks (`Provider.speaks`), the `Leg` that sends a request there and relays the answer
back. Adding a dialect (say the Responses API) is adding one module beside these.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import Response

from anyray.config import Config
from anyray.providers.base import Endpoint
from anyray.server.gateway.call import Usage


class BadAnswer(Exception):
    """An upstream answer the leg cannot turn into the client's dialect (a 502 to the client)."""


class Relay(ABC):
    """One answer's way back to the client on one leg: reads usage as it passes, reshapes when the leg
    translates. A whole answer goes through `whole`; a stream through `feed` (chunk by chunk, as it
    arrives), `flush` and `finish`. `complete`: the answer ended the way the wire says a whole answer
    ends; `errored`: the upstream ended it with its own error event (the client already saw it)."""

    # what watches the stream go by (the wire's usage tap, or the translator): it sees how the stream ended
    watcher: Any = None

    def __init__(self, usage: Usage, assemble: bool) -> None:
        self.usage = usage
        self.assemble = assemble  # rebuild the whole answer from a stream (the optimizer will cache it)

    @property
    def complete(self) -> bool:
        return bool(self.watcher is not None and self.watcher.complete)

    @property
    def errored(self) -> bool:
        return bool(self.watcher is not None and self.watcher.errored)

    @abstractmethod
    def whole(self, body: bytes, data: Any) -> tuple[bytes, dict[str, Any] | None]:
        """A non-streamed answer: the bytes for the client and the answer as JSON (None if not an object)."""

    @abstractmethod
    def feed(self, chunk: bytes) -> bytes:
        """Bytes for the client now (possibly none) from one upstream chunk."""

    def flush(self) -> bytes:
        """What is still held once the upstream stream ended."""
        return b""

    def finish(self) -> None:  # noqa: B027 - optional hook
        """The stream is over, however it ended: settle the usage."""

    @abstractmethod
    def cut(self) -> bytes:
        """The in-stream error event the client's SDK raises when the upstream cut the stream."""

    def answer(self) -> dict[str, Any] | None:
        """The whole streamed answer in the client's dialect, when it was assembled and is intact."""
        return None

    @abstractmethod
    def headers(self, upstream: Mapping[str, str]) -> dict[str, str]:
        """The upstream's response headers a client of this dialect acts on (request ids, rate limits)."""


@dataclass(slots=True)
class Outbound:
    """A request as it goes to one wire, and how its answer comes back."""

    endpoint: Endpoint
    payload: dict[str, Any]
    raw: bytes | None  # the client's exact bytes when the payload is theirs, unchanged
    relay: Callable[[Usage, bool], Relay]  # relay(usage, assemble): the answer's way back


class Leg(ABC):
    """A dialect's way to one wire: the outbound request, and the relay of the answer."""

    @abstractmethod
    def outbound(
        self, endpoint: Endpoint, payload: dict[str, Any], raw: bytes | None, headers: Mapping[str, str],
        config: Config,
    ) -> Outbound:
        """The request for this wire; may raise `TranslationError` (a 400 in the dialect)."""


class Dialect(ABC):
    name: str  # "anthropic", "openai": the metrics label and the spend record's dialect

    @abstractmethod
    def call_endpoint(self, endpoint: Endpoint) -> str:
        """The path the call is recorded under and the optimizer is asked about."""

    @abstractmethod
    def error(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> Response:
        """The gateway's own error, shaped as this API shapes its errors."""

    @abstractmethod
    def upstream_error(self, status: int, body: bytes, provider: str) -> bytes:
        """An upstream's error body, passed through when it already has this dialect's shape, else rewrapped."""

    @abstractmethod
    def validate(self, payload: dict[str, Any], endpoint: Endpoint) -> Response | None:
        """The error for a body this API would refuse, or None."""

    @abstractmethod
    def leg(self, speaks: str) -> Leg:
        """How a request of this dialect reaches an upstream that speaks `speaks`."""

    @abstractmethod
    def cached(self, cached: Any, payload: dict[str, Any], stream: bool) -> tuple[bytes, str] | None:
        """A cached answer replayed as a fresh one (body, media type: JSON or this API's stream), or None
        when what the cache holds is not an answer of this dialect."""
