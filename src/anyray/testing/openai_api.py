"""The OpenAI API's chat completions, embeddings and models, as its wire format says."""

from __future__ import annotations

import base64
import hashlib
import math
import re
import struct
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from anyray.server.gateway.streaming import RelayResponse
from anyray.testing.reply import Turn, estimate_tokens, example_for, reply_text, short_id, split_words

if TYPE_CHECKING:
    from anyray.testing.upstream import FakeUpstream

EMBEDDING_DIMENSIONS = 64


def openai_error(
    status: int, message: str, kind: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> Response:
    return JSONResponse({"error": {"message": message, "type": kind, "param": param, "code": code}}, status)


def check_key(fake: FakeUpstream, request: Request) -> Response | None:
    if fake.openai_key and request.headers.get("authorization") != f"Bearer {fake.openai_key}":
        return openai_error(401, "Incorrect API key provided.", "invalid_request_error", code="invalid_api_key")
    return None


def _turn(messages: list[Any]) -> Turn:
    turn = Turn(tool_results=[])
    tail = []
    for message in reversed(messages):
        if not isinstance(message, dict):
            continue
        if message.get("role") == "tool":
            tail.append(str(message.get("content")))
            continue
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                turn.text = content
            elif isinstance(content, list):
                texts = [p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"]
                turn.text = texts[-1] if texts else ""
                turn.images = sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url")
        break
    turn.tool_results = list(reversed(tail))
    return turn


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a decimal", dict: "an object"}
    return names.get(type(value), "null" if value is None else "an unknown type")


def _forced_function(body: dict[str, Any]) -> dict[str, Any] | None:
    tools = [t.get("function") for t in body.get("tools") or () if isinstance(t, dict) and t.get("function")]
    choice = body.get("tool_choice")
    if not tools:
        return None
    if choice == "required":
        return tools[0]
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        return next((t for t in tools if t.get("name") == name), None)
    return None


def _tool_message_problem(messages: list[Any]) -> str | None:
    """The API's rule: a `tool` message answers a tool_call id of the assistant message before the run of
    tool messages it belongs to, and every tool_call gets its answer."""
    open_calls: set[str] = set()
    for i, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role == "tool":
            if message.get("tool_call_id") not in open_calls:
                return (f"Invalid parameter: messages.[{i}]: messages with role 'tool' must be a response to a "
                        "preceeding message with 'tool_calls'.")
            open_calls.discard(message["tool_call_id"])
            continue
        if open_calls:
            return ("An assistant message with 'tool_calls' must be followed by tool messages responding to each "
                    f"'tool_call_id'. The following tool_call_ids did not have response messages: "
                    f"{', '.join(sorted(open_calls))}")
        if role == "assistant":
            open_calls = {c.get("id") for c in message.get("tool_calls") or () if isinstance(c, dict)}
    return None


async def chat_completions(fake: FakeUpstream, request: Request, body: dict[str, Any]) -> Response:
    if refused := check_key(fake, request):
        return refused
    if not isinstance(body.get("messages"), list) or not body["messages"]:
        return openai_error(
            400, "Missing required parameter: 'messages'.", param="messages", code="missing_required_parameter"
        )
    if not body.get("model"):
        return openai_error(
            400, "Missing required parameter: 'model'.", param="model", code="missing_required_parameter"
        )
    if problem := _tool_message_problem(body["messages"]):
        return openai_error(400, problem, param="messages")
    if (tools := body.get("tools")) is not None and not isinstance(tools, list):
        # the API types every parameter before it looks at anything else
        return openai_error(400, f"Invalid type for 'tools': expected an array, but got {_json_type(tools)} instead.",
                            param="tools", code="invalid_type")
    prompt_tokens, cached = fake.prompt_cache.openai_cached_tokens(
        request.headers.get("authorization", ""), [body.get("tools"), body["messages"]]
    )
    function = _forced_function(body)
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None}
    scripted = fake.next_script(body)
    if scripted is not None:  # the same scripts and responder as the Messages fake, in this API's shape
        message.update(_from_blocks(scripted))
        finish = "tool_calls" if message.get("tool_calls") else "stop"
    elif function is not None:
        arguments = orjson.dumps(example_for(function.get("parameters", {}))).decode()
        message["tool_calls"] = [
            {
                "id": short_id("call_", body["messages"]),
                "type": "function",
                "function": {"name": function["name"], "arguments": arguments},
            }
        ]
        finish = "tool_calls"
    else:
        message["content"] = reply_text("openai", _turn(body["messages"]))
        finish = "stop"
    completion_tokens = max(1, estimate_tokens(message) // 2)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": cached, "audio_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
    }
    base = {
        "id": short_id("chatcmpl-", body, len(fake.received)),
        "created": int(time.time()),
        "model": body["model"],
        "system_fingerprint": "fp_fake",
    }
    if not body.get("stream"):
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        return JSONResponse({**base, "object": "chat.completion", "choices": [choice], "usage": usage})
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    chunks = _chunks(base, message, finish, usage if include_usage else None)
    return RelayResponse(fake.steer(chunks), media_type="text/event-stream")


def _from_blocks(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Messages-API content blocks (what tests script) as a chat message: text joined, tool_use as tool_calls."""
    text = "".join(b.get("text", "") for b in blocks if b.get("type") == "text")
    calls = [{"id": b.get("id") or short_id("call_", b), "type": "function",
              "function": {"name": b["name"], "arguments": orjson.dumps(b.get("input", {})).decode()}}
             for b in blocks if b.get("type") == "tool_use"]
    return {"content": text or None, **({"tool_calls": calls} if calls else {})}


async def _chunks(
    base: dict[str, Any], message: dict[str, Any], finish: str, usage: dict[str, Any] | None
) -> AsyncIterator[bytes]:
    def chunk(delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
        choices = [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        data = {**base, "object": "chat.completion.chunk", "choices": choices, **extra}
        if usage is not None:
            data.setdefault("usage", None)
        return b"data: " + orjson.dumps(data) + b"\n\n"

    yield chunk({"role": "assistant", "content": "", "refusal": None})
    if message.get("content"):
        for piece in split_words(message["content"]):
            yield chunk({"content": piece})
    for index, call in enumerate(message.get("tool_calls") or ()):
        yield chunk(
            {
                "tool_calls": [
                    {
                        "index": index,
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["function"]["name"], "arguments": ""},
                    }
                ]
            }
        )
        args = call["function"]["arguments"]
        for i in range(0, len(args), 5):
            yield chunk({"tool_calls": [{"index": index, "function": {"arguments": args[i : i + 5]}}]})
    yield chunk({}, finish)
    if usage is not None:
        yield (
            b"data: "
            + orjson.dumps({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
            + b"\n\n"
        )
    yield b"data: [DONE]\n\n"


def _vector(text: str) -> list[float]:
    """Deterministic, lexical "embeddings": words hashed into buckets (feature hashing), L2-normalised.
    Not a semantic model: texts that share words point the same way, which is all the tests need."""
    vector = [0.0] * EMBEDDING_DIMENSIONS
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        sign = 1.0 if digest[4] & 1 else -1.0
        vector[int.from_bytes(digest[:4], "big") % EMBEDDING_DIMENSIONS] += sign
    norm = math.sqrt(sum(x * x for x in vector)) or 1.0
    return [x / norm for x in vector]


async def embeddings(fake: FakeUpstream, request: Request, body: dict[str, Any]) -> Response:
    if refused := check_key(fake, request):
        return refused
    inputs = body.get("input")
    if inputs is None or not body.get("model"):
        return openai_error(400, "Missing required parameter: 'input'.", param="input")
    items = inputs if isinstance(inputs, list) else [inputs]
    data = []
    for i, item in enumerate(items):
        vector = _vector(str(item))
        encoded: Any = vector
        if body.get("encoding_format") == "base64":
            encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    tokens = sum(estimate_tokens(str(x)) for x in items)
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


async def models(fake: FakeUpstream, request: Request) -> Response:
    if refused := check_key(fake, request):
        return refused
    ids = ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]
    return JSONResponse(
        {
            "object": "list",
            "data": [{"id": i, "object": "model", "created": 1715367049, "owned_by": "openai"} for i in ids],
        }
    )


async def moderations(fake: FakeUpstream, request: Request, body: dict[str, Any]) -> Response:
    if refused := check_key(fake, request):
        return refused
    if body.get("input") is None:
        return openai_error(400, "Missing required parameter: 'input'.", param="input")
    items = body["input"] if isinstance(body["input"], list) else [body["input"]]
    results = [
        {"flagged": False, "categories": {"violence": False}, "category_scores": {"violence": 0.0001}} for _ in items
    ]
    return JSONResponse(
        {"id": short_id("modr-", body), "model": body.get("model") or "omni-moderation-latest", "results": results}
    )


_FILENAME = re.compile(r'filename="([^"]+)"')


async def files(fake: FakeUpstream, request: Request, raw: Any) -> Response:
    """An upload: multipart/form-data with `purpose` and `file`; answers the File object."""
    if refused := check_key(fake, request):
        return refused
    if not request.headers.get("content-type", "").startswith("multipart/form-data") or not isinstance(raw, str):
        return openai_error(400, "Expected multipart/form-data with a 'file' field.", param="file")
    name = _FILENAME.search(raw)
    return JSONResponse(
        {
            "id": short_id("file-", raw),
            "object": "file",
            "bytes": len(raw),
            "created_at": 1715367049,
            "filename": name.group(1) if name else "upload",
            "purpose": "batch" if 'name="purpose"\r\n\r\nbatch' in raw else "assistants",
            "status": "processed",
        }
    )
