"""Errors in the caller's own API dialect.

A redirected SDK must be able to parse every answer the gateway gives, errors included, so each
dialect has one function that shapes an error the way that API does (status code and body).
"""

from __future__ import annotations

import uuid

import orjson
from starlette.responses import Response

ANTHROPIC_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    405: "invalid_request_error",
    408: "timeout_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    502: "api_error",
    503: "api_error",
    504: "timeout_error",
    529: "overloaded_error",
}


def request_id() -> str:
    return "req_anyray_" + uuid.uuid4().hex[:24]


def anthropic_error_body(status: int, message: str, error_type: str | None = None) -> bytes:
    kind = error_type or ANTHROPIC_ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id()})


def anthropic_error(status: int, message: str, error_type: str | None = None) -> Response:
    return Response(anthropic_error_body(status, message, error_type), status, media_type="application/json")


def as_anthropic_error_body(status: int, body: bytes, provider: str) -> bytes:
    """An upstream error body in Anthropic's shape: passed through when it already is, else rewrapped."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()[:500] or f"upstream returned HTTP {status}"
        return anthropic_error_body(status, f"{provider}: {text}")
    if isinstance(data, dict) and data.get("type") == "error" and isinstance(data.get("error"), dict):
        return body
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):  # Google ({code, message, status}) and OpenAI ({message, type}) shapes
        return anthropic_error_body(status, f"{provider}: {err.get('message') or err.get('status') or err}")
    if isinstance(err, str):  # OAuth shape
        return anthropic_error_body(status, f"{provider}: {err}: {data.get('error_description', '')}".strip())
    return anthropic_error_body(status, f"{provider}: upstream returned HTTP {status}")
