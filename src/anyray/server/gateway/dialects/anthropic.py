"""The Anthropic Messages dialect: /v1/messages, count_tokens and the Vertex-shaped paths.

Answers are passed back as the upstream sent them (a stream byte for byte, as it arrives); only errors
are reshaped, so that an SDK always gets Anthropic's error JSON. A request goes to any upstream as it
is: the providers that speak Messages (Anthropic, Vertex) take it, the others refuse it by themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from anyray.config import Config
from anyray.errors import anthropic_error, anthropic_error_body, as_anthropic_error_body
from anyray.providers.base import Endpoint
from anyray.server.gateway.call import Usage
from anyray.server.gateway.dialects.base import Dialect, Leg, Outbound, Relay
from anyray.server.gateway.replay import AnthropicMessageAssembler, anthropic_sse_from_message
from anyray.server.gateway.usage import AnthropicStreamUsage

PASSED_HEADERS = ("request-id", "x-request-id", "retry-after")
_ENDPOINTS = {Endpoint.MESSAGES: "/v1/messages", Endpoint.COUNT_TOKENS: "/v1/messages/count_tokens"}


def cut_event() -> bytes:
    """Anthropic's own mid-stream error: the SDKs raise it as an APIStatusError with this message."""
    error = orjson.loads(anthropic_error_body(502, "upstream stream ended before the message was complete"))
    return b"event: error\ndata: " + orjson.dumps(error) + b"\n\n"


class MessagesRelay(Relay):
    """The answer as the upstream sent it; usage read from message_start / message_delta as they pass."""

    def __init__(self, usage: Usage, assemble: bool) -> None:
        super().__init__(usage, assemble)
        self.watcher = self.tap = AnthropicStreamUsage(usage)
        # assembling the whole answer costs a parse per event: only when the optimizer will cache it
        self.assembler = AnthropicMessageAssembler() if assemble else None

    def whole(self, body: bytes, data: Any) -> tuple[bytes, dict[str, Any] | None]:
        if not isinstance(data, dict):
            return body, None
        self.usage.update(data.get("usage"))
        return body, data

    def feed(self, chunk: bytes) -> bytes:
        self.tap.feed(chunk)
        if self.assembler is not None:
            self.assembler.feed(chunk)
        return chunk

    def cut(self) -> bytes:
        return cut_event()

    def answer(self) -> dict[str, Any] | None:
        if self.assembler is None or self.assembler.broken:
            return None
        return self.assembler.message

    def headers(self, upstream: Mapping[str, str]) -> dict[str, str]:
        return {k: upstream[k] for k in PASSED_HEADERS if k in upstream}


class _AsSent(Leg):
    def outbound(
        self, endpoint: Endpoint, payload: dict[str, Any], raw: bytes | None, headers: Mapping[str, str],
        config: Config,
    ) -> Outbound:
        return Outbound(endpoint, payload, raw, MessagesRelay)


class AnthropicDialect(Dialect):
    name = "anthropic"
    _leg = _AsSent()

    def call_endpoint(self, endpoint: Endpoint) -> str:
        return _ENDPOINTS[endpoint]

    def error(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> Response:
        if param and not message.startswith(f"{param}: "):
            message = f"{param}: {message}"
        return anthropic_error(status, message)

    def upstream_error(self, status: int, body: bytes, provider: str) -> bytes:
        return as_anthropic_error_body(status, body, provider)

    def validate(self, payload: dict[str, Any], endpoint: Endpoint) -> Response | None:
        problem = _problem(payload, endpoint)
        return anthropic_error(400, problem) if problem else None

    def leg(self, speaks: str) -> Leg:
        return self._leg

    def cached(self, cached: Any, payload: dict[str, Any], stream: bool) -> tuple[bytes, str] | None:
        if not (isinstance(cached, dict) and cached.get("type") == "message"
                and isinstance(cached.get("content"), list)):
            return None
        # a new id, and usage that says what this answer cost: nothing
        message = {**cached, "id": f"msg_anyray_{uuid.uuid4().hex[:24]}",
                   "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                             "cache_read_input_tokens": 0}}
        if stream:
            return anthropic_sse_from_message(message), "text/event-stream"
        return orjson.dumps(message), "application/json"


def _problem(payload: dict[str, Any], endpoint: Endpoint) -> str | None:
    model = payload.get("model")
    if model is None:
        return "model: Field required"
    if not isinstance(model, str) or not model:
        return "model: Input should be a non-empty string"
    messages = payload.get("messages")
    if messages is None:
        return "messages: Field required"
    if not isinstance(messages, list):
        return "messages: Input should be a valid list"
    if endpoint is Endpoint.MESSAGES and "stream" in payload and not isinstance(payload["stream"], bool):
        return "stream: Input should be a valid boolean"
    return None


def cut_event_for(content_type: str) -> bytes | None:
    """What ends a proxied answer the upstream cut: an event stream gets the error event the SDK raises."""
    return cut_event() if content_type.startswith("text/event-stream") else None


ANTHROPIC = AnthropicDialect()
