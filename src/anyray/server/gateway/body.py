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


def parse_object(raw: bytes, max_depth: int = 64) -> dict[str, Any]:
    """The body as a JSON object no deeper than `max_depth` (gateway.limits.max_json_depth).

    orjson itself stops at 1024 levels; the gateway's own, lower limit keeps every later walk over the
    request (translation, the optimizer's strategies) far from Python's recursion limit.
    """
    if not raw:
        raise BadJSON("request body is empty; expected a JSON object")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "recursion limit" in str(exc):
            raise BadJSON(_too_deep(max_depth)) from None
        raise BadJSON(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadJSON(f"request body must be a JSON object, not {type(data).__name__}")
    # fewer brackets than the limit cannot nest deeper than it: most small bodies skip the walk
    if raw.count(b"{") + raw.count(b"[") > max_depth and _deeper_than(data, max_depth):
        raise BadJSON(_too_deep(max_depth))
    return data


def _too_deep(limit: int) -> str:
    return f"request body nests JSON deeper than the gateway's limit of {limit} levels (gateway.limits.max_json_depth)"


def _deeper_than(data: Any, limit: int) -> bool:
    """Whether any container sits more than `limit` levels down; iterative, so depth costs no stack."""
    level: list[Any] = [data]
    depth = 1
    while level:
        if depth > limit:
            return True
        below: list[Any] = []
        for node in level:
            children = node.values() if isinstance(node, dict) else node
            below.extend(c for c in children if isinstance(c, dict | list))
        level = below
        depth += 1
    return False
