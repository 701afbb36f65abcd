"""Errors in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}` with the right status.

The OpenAI SDKs pick the exception class from the status and read `error.message`; `type`, `param` and
`code` are what applications branch on. Upstream errors from Claude (Anthropic or Vertex shapes) are
rewrapped here so an OpenAI client never has to parse an Anthropic error.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

OPENAI_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    408: "timeout_error",
    409: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}
# Anthropic error types -> OpenAI's; the Anthropic type is kept as `code` so nothing is lost
_FROM_ANTHROPIC = {
    "invalid_request_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "not_found_error": "invalid_request_error",
    "request_too_large": "invalid_request_error",
    "rate_limit_error": "rate_limit_error",
    "api_error": "server_error",
    "overloaded_error": "server_error",
    "timeout_error": "timeout_error",
}


def openai_error_type(status: int) -> str:
    return OPENAI_ERROR_TYPES.get(status, "server_error" if status >= 500 else "invalid_request_error")


def openai_error_body(
    status: int, message: str, error_type: str | None = None, param: str | None = None, code: str | None = None
) -> bytes:
    error = {"message": message, "type": error_type or openai_error_type(status), "param": param, "code": code}
    return orjson.dumps({"error": error})


def openai_error(
    status: int,
    message: str,
    error_type: str | None = None,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body = openai_error_body(status, message, error_type, param, code)
    return Response(body, status, headers=headers, media_type="application/json")


def as_openai_error_body(status: int, body: bytes, provider: str) -> bytes:
    """An upstream error body in OpenAI's shape: passed through when it already is, else rewrapped."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        text = body.decode("utf-8", "replace").strip()[:500] or f"upstream returned HTTP {status}"
        return openai_error_body(status, f"{provider}: {text}")
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(data, dict) and data.get("type") == "error" and isinstance(err, dict):  # Anthropic
        kind = err.get("type") if isinstance(err.get("type"), str) else None
        mapped = _FROM_ANTHROPIC.get(kind or "", openai_error_type(status))
        return openai_error_body(status, f"{provider}: {err.get('message') or kind}", mapped, None, kind)
    if isinstance(err, dict) and "message" in err and ("type" in err or "code" in err) and "status" not in err:
        return body  # already OpenAI's shape
    if isinstance(err, dict):  # Google ({code, message, status})
        code = err.get("status") if isinstance(err.get("status"), str) else None
        return openai_error_body(status, f"{provider}: {err.get('message') or code or err}", None, None, code)
    if isinstance(err, str):  # OAuth shape
        return openai_error_body(status, f"{provider}: {err}: {data.get('error_description', '')}".strip())
    return openai_error_body(status, f"{provider}: upstream returned HTTP {status}")
