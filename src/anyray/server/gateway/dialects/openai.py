"""The OpenAI Chat Completions dialect: /v1/chat/completions, to an OpenAI upstream or to Claude.

To an upstream that speaks OpenAI the request goes as the client sent it (the exact bytes, unless the
optimizer changed it) and the answer is relayed as it arrives. To one that speaks Anthropic Messages
(Vertex, Anthropic) it is translated (anyray.translate) both ways, stream chunk by chunk, so the client
only ever sees OpenAI shapes, errors included.
"""

from __future__ import annotations

import functools
import time
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import Response

from anyray.config import Config
from anyray.errors_openai import as_openai_error_body, openai_error
from anyray.pricing import fold_openai_usage
from anyray.providers.base import Endpoint
from anyray.server.gateway.call import Usage
from anyray.server.gateway.dialects.base import BadAnswer, Dialect, Leg, Outbound, Relay
from anyray.server.gateway.replay import AnthropicMessageAssembler
from anyray.server.gateway.usage import OpenAIStreamTap
from anyray.translate import (
    ChatStreamTranslator,
    Translated,
    chat_to_messages,
    completion_to_chunks,
    message_to_completion,
    sse_bytes,
    stream_error,
)

DROPPED_HEADER = "x-anyray-dropped-params"
DROP_REQUEST_HEADER = "x-anyray-drop-params"
PASSED_HEADERS = (
    "x-request-id",
    "openai-processing-ms",
    "openai-version",
    "openai-organization",
    "retry-after",
    "content-disposition",
)
_CUT = "upstream stream ended before the answer was complete"


def anthropic_dialect(headers: Mapping[str, str], path: str) -> bool:
    """Whether a request on a path both APIs have comes from an Anthropic client: the Anthropic SDKs always
    send `anthropic-version` (and usually `x-api-key`), the OpenAI SDKs never do."""
    return "anthropic-version" in headers or "x-api-key" in headers or path.startswith("/v1/messages")


# ------------------------------------------------------------------------------------------ to OpenAI


class ChatRelay(Relay):
    """An OpenAI upstream's answer as it was sent, minus the usage-only chunk the gateway asked for itself."""

    hide_usage_chunk = False

    def __init__(self, usage: Usage, assemble: bool) -> None:
        super().__init__(usage, assemble)
        self.watcher = self.tap = OpenAIStreamTap(usage, self.hide_usage_chunk)

    def whole(self, body: bytes, data: Any) -> tuple[bytes, dict[str, Any] | None]:
        if not isinstance(data, dict):
            return body, None
        fold_openai_usage(data.get("usage"), self.usage)
        return body, data

    def feed(self, chunk: bytes) -> bytes:
        return self.tap.feed(chunk)

    def flush(self) -> bytes:
        return self.tap.flush()

    def cut(self) -> bytes:
        return stream_error(_CUT)

    def headers(self, upstream: Mapping[str, str]) -> dict[str, str]:
        headers = {k: upstream[k] for k in PASSED_HEADERS if k in upstream}
        headers.update({k: v for k, v in upstream.items() if k.lower().startswith("x-ratelimit-")})
        return headers


class _ChatRelayHidingUsage(ChatRelay):
    hide_usage_chunk = True


class _AsSent(Leg):
    def outbound(
        self, endpoint: Endpoint, payload: dict[str, Any], raw: bytes | None, headers: Mapping[str, str],
        config: Config,
    ) -> Outbound:
        options = payload.get("stream_options")
        if payload.get("stream") is True and not (isinstance(options, dict) and options.get("include_usage")):
            # spend records need the usage only the final chunk carries; the client is spared that chunk
            body = {**payload, "stream_options": {**(options or {}), "include_usage": True}}
            return Outbound(Endpoint.CHAT_COMPLETIONS, body, None, _ChatRelayHidingUsage)
        return Outbound(Endpoint.CHAT_COMPLETIONS, payload, raw, ChatRelay)


# ------------------------------------------------------------------------------------------ to Claude


class TranslatedRelay(Relay):
    """A Messages answer turned into a chat.completion (or its chunk stream) for the client."""

    def __init__(self, usage: Usage, assemble: bool, translated: Translated, model: str) -> None:
        super().__init__(usage, assemble)
        self.translated, self.model = translated, model
        self.translator = ChatStreamTranslator(model=self.model, include_usage=self.translated.include_usage,
                                               json_tool=self.translated.json_tool, created=int(time.time()))
        self.watcher = self.translator
        # the whole answer is rebuilt (a parse per event) only when the optimizer will cache it
        self.assembler = AnthropicMessageAssembler() if assemble else None

    def _completion(self, message: dict[str, Any]) -> dict[str, Any]:
        return message_to_completion(message, model=self.model, json_tool=self.translated.json_tool)

    def whole(self, body: bytes, data: Any) -> tuple[bytes, dict[str, Any] | None]:
        if not isinstance(data, dict):
            raise BadAnswer("upstream answered with something that is not JSON")
        self.usage.update(data.get("usage"))
        completion = self._completion(data)
        return orjson.dumps(completion), completion

    def feed(self, chunk: bytes) -> bytes:
        if self.assembler is not None:
            self.assembler.feed(chunk)
        return self.translator.feed(chunk)

    def finish(self) -> None:
        self.usage.update(self.translator.usage)

    def cut(self) -> bytes:
        return stream_error(_CUT)

    def answer(self) -> dict[str, Any] | None:
        if self.assembler is None or self.assembler.broken or self.assembler.message is None:
            return None
        return self._completion(self.assembler.message)

    def headers(self, upstream: Mapping[str, str]) -> dict[str, str]:
        headers = {k: upstream[k] for k in PASSED_HEADERS if k in upstream}
        if "request-id" in upstream:
            headers["x-request-id"] = upstream["request-id"]
        if self.translated.dropped:
            headers[DROPPED_HEADER] = ",".join(self.translated.dropped)
        return headers


class _Translating(Leg):
    def outbound(
        self, endpoint: Endpoint, payload: dict[str, Any], raw: bytes | None, headers: Mapping[str, str],
        config: Config,
    ) -> Outbound:
        asked = headers.get(DROP_REQUEST_HEADER)
        drop = asked.strip().lower() in ("1", "true", "yes") if asked is not None else config.translate.drop_params
        translated = chat_to_messages(payload, drop_params=drop,
                                      default_max_tokens=config.translate.default_max_tokens)
        relay = functools.partial(TranslatedRelay, translated=translated, model=payload["model"])
        return Outbound(Endpoint.MESSAGES, translated.payload, None, relay)


# ------------------------------------------------------------------------------------------ the dialect


class OpenAIDialect(Dialect):
    name = "openai"
    _legs: dict[str, Leg] = {"openai": _AsSent(), "anthropic": _Translating()}

    def call_endpoint(self, endpoint: Endpoint) -> str:
        return "/v1/chat/completions"

    def error(self, status: int, message: str, *, param: str | None = None, code: str | None = None) -> Response:
        return openai_error(status, message, param=param, code=code)

    def upstream_error(self, status: int, body: bytes, provider: str) -> bytes:
        return as_openai_error_body(status, body, provider)

    def validate(self, payload: dict[str, Any], endpoint: Endpoint) -> Response | None:
        return _problem(payload)

    def leg(self, speaks: str) -> Leg:
        return self._legs[speaks]

    def cached(self, cached: Any, payload: dict[str, Any], stream: bool) -> tuple[bytes, str] | None:
        if not (isinstance(cached, dict) and cached.get("object") == "chat.completion"
                and isinstance(cached.get("choices"), list)):
            return None
        completion = {**cached, "id": f"chatcmpl-anyray-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                      "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}
        if stream:
            options = payload.get("stream_options")
            include = isinstance(options, dict) and options.get("include_usage") is True
            return sse_bytes(completion_to_chunks(completion, include_usage=include)), "text/event-stream"
        return orjson.dumps(completion), "application/json"


def _problem(payload: dict[str, Any]) -> Response | None:
    model = payload.get("model")
    if model is None:
        return openai_error(400, "you must provide a model parameter", param="model", code="missing_required_parameter")
    if not isinstance(model, str) or not model:
        return openai_error(
            400, "Invalid type for 'model': expected a non-empty string.", param="model", code="invalid_type"
        )
    messages = payload.get("messages")
    if messages is None:
        return openai_error(
            400, "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
        )
    if not isinstance(messages, list):
        return openai_error(
            400, "Invalid type for 'messages': expected an array.", param="messages", code="invalid_type"
        )
    if not messages:
        return openai_error(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            param="messages",
            code="empty_array",
        )
    if "stream" in payload and payload["stream"] is not None and not isinstance(payload["stream"], bool):
        return openai_error(400, "Invalid type for 'stream': expected a boolean.", param="stream", code="invalid_type")
    options = payload.get("stream_options")
    if options is not None:  # both legs read it as an object (the usage chunk spend records need)
        if not isinstance(options, dict):
            return openai_error(400, f"Invalid type for 'stream_options': expected an object, but got "
                                f"{_json_type(options)} instead.", param="stream_options", code="invalid_type")
        include = options.get("include_usage")
        if include is not None and not isinstance(include, bool):
            return openai_error(400, f"Invalid type for 'stream_options.include_usage': expected a boolean, but got "
                                f"{_json_type(include)} instead.", param="stream_options.include_usage",
                                code="invalid_type")
    return None


def _json_type(value: Any) -> str:
    """What OpenAI's errors call a JSON value's type ("a string", "an array")."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


OPENAI = OpenAIDialect()
