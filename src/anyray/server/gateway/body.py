"""Reading a client's body once, bounded, and parsing it once."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import ClientDisconnect, Request

from anyray.server.http11.exchange import ClientLeft


class BodyTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"request body exceeds the gateway's limit of {limit} bytes")


class BadJSON(ValueError):
    pass


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, at most `limit` bytes. A client that leaves before it is whole (or is let go by the
    server's body deadline) raises `ClientLeft`: one log line at the server, not a traceback per
    disconnect from every handler's `except Exception` (there is nobody left to answer)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks = []
    size = 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(limit)
            chunks.append(chunk)
    except ClientDisconnect:
        raise ClientLeft(f"after {size} bytes of its body") from None
    return b"".join(chunks)


def parse_object(raw: bytes, max_depth: int | None = 64) -> dict[str, Any]:
    """The body as a JSON object no deeper than `max_depth` (gateway.limits.max_json_depth).

    orjson itself stops at 1024 levels; the gateway's own, lower limit keeps every later walk over the
    request (translation, the optimizer's strategies) far from Python's recursion limit, and every
    body the gateway accepts one orjson can write again (it refuses 255 levels and more). The check
    costs a few times the parse on a large body (docs/reliability.md); `None` skips it.
    """
    if not raw:
        raise BadJSON("request body is empty; expected a JSON object")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc) or "recursion" in str(exc):
            raise BadJSON(_too_deep(max_depth or 1024)) from None
        raise BadJSON(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadJSON(f"request body must be a JSON object, not {type(data).__name__}")
    # fewer brackets than the limit cannot nest deeper than it: most small bodies skip the walk
    if max_depth is not None and (brackets := raw.count(b"{") + raw.count(b"[")) > max_depth:
        # two exact checks, each cheap where the other is not: a walk costs per container, the byte
        # scan per byte; agent requests are mostly long strings in few containers, so mostly the walk
        deeper = _walk_deeper_than if brackets * 128 < len(raw) else _deeper_than
        if deeper(data if deeper is _walk_deeper_than else raw, max_depth):
            raise BadJSON(_too_deep(max_depth))
    return data


def _too_deep(limit: int) -> str:
    return f"request body nests JSON deeper than the gateway's limit of {limit} levels (gateway.limits.max_json_depth)"


def _walk_deeper_than(data: Any, limit: int) -> bool:
    """Whether parsed JSON has a container more than `limit` levels down: level by level, no recursion."""
    level = [data]
    for _ in range(limit):
        below: list[Any] = []
        extend = below.extend
        for node in level:
            extend([c for c in (node.values() if type(node) is dict else node) if type(c) in (dict, list)])
        if not below:
            return False
        level = below
    return True


_FOLD = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(range(256)).translate(None, b"[]{}")


def _deeper_than(raw: bytes, limit: int) -> bool:
    """Whether valid JSON `raw` nests containers more than `limit` deep, from its bytes alone.

    Walking the parsed object costs a Python step per container (milliseconds for a long agent
    conversation); this costs a few C-speed passes over the bytes: drop escaped backslashes and quotes,
    keep what lies outside strings, keep only the brackets, then peel innermost `[]` pairs one level
    per round. More than `limit` rounds needed means deeper than `limit`.
    """
    if b"\\" in raw:
        raw = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    brackets = b"".join(raw.split(b'"')[::2]).translate(_FOLD, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        brackets = brackets.replace(b"[]", b"")
    return bool(brackets)
