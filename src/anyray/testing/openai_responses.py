"""The OpenAI Responses API (`POST /v1/responses`), as its wire format says: a JSON response object, or
server-sent events ending in `response.completed`, which carries the usage, as the real API does."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from anyray.testing.openai_api import check_key, openai_error
from anyray.testing.reply import estimate_tokens, short_id, split_words

if TYPE_CHECKING:
    from anyray.testing.upstream import FakeUpstream

TEXT = "Hello from the fake Responses API! You said: "


def _response(body: dict[str, Any], text: str, status: str) -> dict[str, Any]:
    tokens_in = estimate_tokens(body.get("input")) + estimate_tokens(body.get("instructions") or "")
    tokens_out = estimate_tokens(text) if text else 0
    return {
        "id": short_id("resp_", body), "object": "response", "created_at": int(time.time()), "status": status,
        "model": body["model"], "output": [{
            "type": "message", "id": short_id("msg_", body), "status": status, "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}] if text else [],
        "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
        "usage": {"input_tokens": tokens_in, "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens": tokens_out, "output_tokens_details": {"reasoning_tokens": 0},
                  "total_tokens": tokens_in + tokens_out} if status == "completed" else None,
    }


def _said(body: dict[str, Any]) -> str:
    given = body.get("input")
    if isinstance(given, list):
        given = " ".join(str(m.get("content")) for m in given if isinstance(m, dict))
    return TEXT + str(given)[:200]


async def responses(fake: FakeUpstream, request: Request, body: dict[str, Any]) -> Response:
    if refused := check_key(fake, request):
        return refused
    if not isinstance(body.get("model"), str) or body.get("input") is None:
        return openai_error(400, "Missing required parameter: 'input'.", param="input")
    text = _said(body)
    if body.get("stream") is not True:
        return JSONResponse(_response(body, text, "completed"))

    async def events() -> AsyncIterator[bytes]:
        def event(kind: str, n: int, **data: Any) -> bytes:
            data = {"type": kind, "sequence_number": n, **data}
            return f"event: {kind}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"

        done = _response(body, text, "completed")
        item = done["output"][0]
        where = {"item_id": item["id"], "output_index": 0}
        part = {"type": "output_text", "text": "", "annotations": []}
        steps = [("response.created", {"response": _response(body, "", "in_progress")}),
                 ("response.output_item.added", {"output_index": 0, "item": {**item, "status": "in_progress",
                                                                             "content": []}}),
                 ("response.content_part.added", {**where, "content_index": 0, "part": part})]
        steps += [("response.output_text.delta", {**where, "content_index": 0, "delta": w}) for w in split_words(text)]
        steps += [("response.output_text.done", {**where, "content_index": 0, "text": text}),
                  ("response.content_part.done", {**where, "content_index": 0, "part": item["content"][0]}),
                  ("response.output_item.done", {"output_index": 0, "item": item}),
                  ("response.completed", {"response": done})]
        for n, (kind, data) in enumerate(steps):
            yield event(kind, n, **data)

    return StreamingResponse(events(), media_type="text/event-stream")
