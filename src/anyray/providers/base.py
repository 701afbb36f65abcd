"""The one small interface every upstream implements.

A provider is the same few pieces each time (Portkey's shape): where to send and how to sign
(`prepare`), what to do when the upstream refuses something it can safely do without
(`recover`), and whether it is ready to serve at all (`readiness`). Adding a provider is copying one
module; the gateway's pipeline never branches on a provider's name.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import orjson


class Endpoint(enum.StrEnum):
    MESSAGES = "messages"
    COUNT_TOKENS = "count_tokens"
    CHAT_COMPLETIONS = "chat_completions"  # OpenAI dialect


@dataclass(slots=True)
class UpstreamRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    stream: bool = False
    # what the provider needs to rebuild the call in `recover` (the parsed body, the upstream model)
    payload: dict[str, Any] | None = field(default=None, repr=False)
    model: str = ""
    endpoint: Endpoint = Endpoint.MESSAGES


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    detail: str


class ProviderRefusal(Exception):
    """The request cannot be sent to this provider as it is, and dropping the offending part is unsafe."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


# Headers that describe the request's API contract and may go upstream; everything else (the
# caller's credentials, cookies, hop-by-hop headers, anyray's own) stays at the gateway.
FORWARDED_ANTHROPIC_HEADERS = ("anthropic-version", "anthropic-beta")


def dump_json(payload: Any) -> bytes:
    return orjson.dumps(payload)


def keyless(name: str, key: str | None, base_url: str | None, key_env: str) -> str | None:
    """For a provider signed with an API key: none configured, and the provider's public API as the upstream.
    (A configured base_url may be a company endpoint that authenticates otherwise: calls go there as before.)"""
    if key or base_url:
        return None
    return (f"the gateway holds no API key for {name}: set {key_env} (or providers.{name}.api_key) where the "
            "gateway runs; `anyray doctor` checks it")


class Provider(ABC):
    name: ClassVar[str]
    # the wire this upstream speaks: "anthropic" (Messages) or "openai" (Chat Completions); a client
    # dialect picks how to reach it by this (a translation, or none), never by the provider's name
    speaks: ClassVar[str]
    # where calls are served, when the price depends on it (Vertex regions); None: one price everywhere
    region: str | None = None
    # serves the API's other paths (models, files, batches) through `passthrough`
    proxies: ClassVar[bool] = False

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire what the provider needs before serving (credentials, background refreshers)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `start` acquired."""

    @abstractmethod
    def readiness(self) -> Readiness: ...

    def unusable(self) -> str | None:
        """Why no call to this provider can succeed, known from the config alone (None: try it). The gateway
        then answers by itself instead of sending a call the upstream can only refuse."""
        return None

    @abstractmethod
    async def prepare(
        self,
        endpoint: Endpoint,
        payload: dict[str, Any],
        model: str,
        headers: Mapping[str, str],
        *,
        raw_body: bytes | None = None,
    ) -> UpstreamRequest:
        """Build the signed upstream call. `raw_body` is the client's exact bytes when the payload is
        unchanged, so a provider that needs no transform forwards them without re-serialising."""

    def recover(self, sent: UpstreamRequest, status: int, body: bytes) -> UpstreamRequest | None:
        """A corrected request to retry once, when the refusal is one the provider knows how to fix."""
        return None

    def passthrough(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> UpstreamRequest | None:
        """Forward a path the gateway does not interpret (batches, files...), or None if unsupported."""
        return None
