"""Reading a client's body once, bounded, and parsing it once."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body exceeds the gateway's limit of {limit} bytes")


class BadJSON(ValueError):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def parse_object(raw: bytes) -> dict[str, Any]:
    if not raw:
        raise BadJSON("request body is empty; expected a JSON object")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadJSON(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadJSON(f"request body must be a JSON object, not {type(data).__name__}")
    return data
