"""The Anthropic Messages API and Claude on Vertex AI, as their wire formats say.

One handler serves both: Vertex takes the same Messages body, with the model in the URL, the
`anthropic_version: vertex-2023-10-16` field in the body, a Google bearer token, and a shorter list of
`anthropic-beta` values and tool types it accepts; anything else it refuses with its own messages.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from anyray.server.gateway.streaming import RelayResponse
from anyray.testing.prompt_cache import TooManyBreakpoints
from anyray.testing.reply import (
    anthropic_turn,
    estimate_tokens,
    example_for,
    forced_anthropic_tool,
    reply_text,
    short_id,
    split_words,
)

if TYPE_CHECKING:
    from anyray.testing.upstream import FakeUpstream

VERTEX_VERSION = "vertex-2023-10-16"
# newer anthropic SDKs' Vertex clients send a dated API version (e.g. 2026-10-21) instead
DATED_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}")
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "api_error",
    529: "overloaded_error",
}


def anthropic_error(status: int, message: str, vertex: bool = False) -> Response:
    request_id = short_id("req_vrtx_" if vertex else "req_", message, status)
    body = {
        "type": "error",
        "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
        "request_id": request_id,
    }
    return JSONResponse(body, status, headers={"request-id": request_id})


def google_error(status: int, message: str, reason: str) -> Response:
    return JSONResponse({"error": {"code": status, "message": message, "status": reason}}, status)


def _beta_values(request: Request) -> list[str]:
    return [v.strip() for v in request.headers.get("anthropic-beta", "").split(",") if v.strip()]


def _unexpected_betas(values: list[str]) -> Response:
    named = ", ".join(f"`{v}`" for v in values)
    return anthropic_error(
        400,
        f"Unexpected value(s) {named} for the `anthropic-beta` header. Please consult our documentation at "
        "docs.anthropic.com or try again without the header.",
        vertex=True,
    )


def check_vertex(fake: FakeUpstream, request: Request, body: dict[str, Any], model: str | None) -> Response | None:
    """What Vertex checks before it looks at the prompt; None when the request passes."""
    auth = request.headers.get("authorization", "")
    if not auth.startswith("Bearer ") or not fake.tokens.valid(auth[7:]):
        return google_error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access "
            "token, login cookie or other valid authentication credential.",
            "UNAUTHENTICATED",
        )
    betas = _beta_values(request)
    if model is None:  # count-tokens: the model goes in the body, betas are not accepted
        if "model" not in body:
            return anthropic_error(400, "model: Field required", vertex=True)
        refused = [b for b in betas if b not in fake.vertex_count_tokens_betas]
        return _unexpected_betas(refused) if refused else None
    if "model" in body:
        return anthropic_error(400, "model: Extra inputs are not permitted", vertex=True)
    version = body.get("anthropic_version")
    if version != VERTEX_VERSION and not (isinstance(version, str) and DATED_VERSION.fullmatch(version)):
        return anthropic_error(400, f"anthropic_version: Input should be '{VERTEX_VERSION}'", vertex=True)
    rejected = fake.vertex_rejected_betas.get(model, set())
    refused = [b for b in betas if b not in fake.vertex_betas or b in rejected]
    if refused:
        return _unexpected_betas(refused)
    for i, tool in enumerate(body.get("tools") or ()):
        kind = tool.get("type") if isinstance(tool, dict) else None
        if kind not in (None, "custom") and kind not in fake.vertex_tool_types:
            expected = ", ".join(f"'{t}'" for t in sorted({"custom", *fake.vertex_tool_types}))
            return anthropic_error(
                400,
                f"tools.{i}: Input tag '{kind}' found using 'type' does not match any of the expected tags: {expected}",
                vertex=True,
            )
    return None


def api_key(request: Request) -> str:
    """The caller's key: `x-api-key`, or `Authorization: Bearer` as newer SDKs send it."""
    auth = request.headers.get("authorization", "")
    return request.headers.get("x-api-key") or (auth[7:] if auth.startswith("Bearer ") else "")


def check_anthropic(fake: FakeUpstream, request: Request) -> Response | None:
    if fake.anthropic_key and api_key(request) != fake.anthropic_key:
        return anthropic_error(401, "invalid x-api-key")
    if not request.headers.get("anthropic-version"):
        return anthropic_error(400, "anthropic-version: header is required")
    return None


def validate_messages(body: dict[str, Any], needs_max_tokens: bool = True) -> str | None:
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return "messages: Field required"
    if needs_max_tokens and not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    return tool_pairing_problem(body["messages"])


def _blocks(message: Any, kind: str) -> list[tuple[int, dict[str, Any]]]:
    content = message.get("content") if isinstance(message, dict) else None
    return [(j, b) for j, b in enumerate(content) if isinstance(b, dict) and b.get("type") == kind] \
        if isinstance(content, list) else []


def tool_pairing_problem(messages: list[Any]) -> str | None:
    """The API's pairing rule, with its messages: every tool_use is answered by a tool_result in the very next
    message, and every tool_result answers a tool_use of the message just before it."""
    for i, message in enumerate(messages):
        asked = {b.get("id") for _, b in _blocks(message, "tool_use")}
        if asked and i + 1 < len(messages):
            answered = {b.get("tool_use_id") for _, b in _blocks(messages[i + 1], "tool_result")}
            if missing := sorted(str(x) for x in asked - answered):
                return (f"messages.{i}: `tool_use` ids were found without `tool_result` blocks immediately after: "
                        f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block "
                        "in the next message.")
        before = {b.get("id") for _, b in _blocks(messages[i - 1], "tool_use")} if i else set()
        for j, block in _blocks(message, "tool_result"):
            if block.get("tool_use_id") not in before:
                return (f"messages.{i}.content.{j}: unexpected `tool_use_id` found in `tool_result` blocks: "
                        f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding `tool_use` "
                        "block in the previous message.")
    return None


def build_message(fake: FakeUpstream, flavor: str, body: dict[str, Any], model: str, org: str) -> dict[str, Any]:
    """The complete Message the model would return, with usage from the prompt-cache accounting."""
    usage = fake.prompt_cache.account(org, body).as_anthropic()
    scripted = fake.next_script(body)
    tool = forced_anthropic_tool(body)
    if scripted is not None:
        content = scripted
    elif tool is not None:
        content = [
            {
                "type": "tool_use",
                "id": short_id("toolu_", body.get("messages"), tool["name"]),
                "name": tool["name"],
                "input": example_for(tool["input_schema"]),
            }
        ]
    else:
        content = [{"type": "text", "text": reply_text(flavor, anthropic_turn(body["messages"]))}]
    stop = "tool_use" if any(b.get("type") == "tool_use" for b in content) else "end_turn"
    usage["output_tokens"] = max(1, estimate_tokens(content) // 2)
    return {
        "id": short_id("msg_", body, len(fake.received)),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def stream_events(message: dict[str, Any]) -> list[bytes]:
    """The event sequence the API streams for `message`."""
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    events = [_sse("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            events.append(
                _sse(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}},
                )
            )
            if index == 0:
                events.append(_sse("ping", {"type": "ping"}))
            for piece in split_words(block["text"]):
                events.append(
                    _sse(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": piece}},
                    )
                )
        else:
            events.append(
                _sse(
                    "content_block_start",
                    {"type": "content_block_start", "index": index, "content_block": {**block, "input": {}}},
                )
            )
            raw = orjson.dumps(block["input"]).decode()
            for i in range(0, len(raw), 7):
                delta = {"type": "input_json_delta", "partial_json": raw[i : i + 7]}
                events.append(
                    _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                )
        events.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
    events.append(
        _sse(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                "usage": {"output_tokens": usage["output_tokens"]},
            },
        )
    )
    events.append(_sse("message_stop", {"type": "message_stop"}))
    return events


def sse_response(fake: FakeUpstream, events: list[bytes], headers: dict[str, str] | None = None) -> Response:
    async def body() -> AsyncIterator[bytes]:
        for event in events:
            yield event

    return RelayResponse(fake.steer(body()), media_type="text/event-stream", headers=headers)


async def messages(
    fake: FakeUpstream,
    request: Request,
    body: dict[str, Any],
    flavor: str,
    *,
    vertex_model: str | None = None,
    stream_verb: bool | None = None,
    count_only: bool = False,
) -> Response:
    vertex = flavor == "vertex"
    if vertex:
        refused = check_vertex(fake, request, body, None if count_only else vertex_model)
        org = request.path_params.get("project", "")
    else:
        refused = check_anthropic(fake, request)
        org = api_key(request)
    if refused is not None:
        return refused
    if problem := validate_messages(body, needs_max_tokens=not count_only):
        return anthropic_error(400, problem, vertex=vertex)
    if count_only:
        prompt = [body.get("tools"), body.get("system"), body.get("messages")]
        return JSONResponse({"input_tokens": estimate_tokens(prompt)})
    model = vertex_model or body.get("model") or ""
    try:
        message = build_message(fake, flavor, body, model, org)
    except TooManyBreakpoints as exc:
        return anthropic_error(400, str(exc), vertex=vertex)
    headers = {"request-id": short_id("req_", message["id"])}
    stream = stream_verb if vertex else bool(body.get("stream"))
    if stream:
        return sse_response(fake, stream_events(message), headers)
    return JSONResponse(message, headers=headers)
