"""Optimizer Protocol v1: one JSON Schema per message, validation at the door, and the credential wall.

The schemas are the contract (docs/protocol.md prints them); a message that does not fit is refused
with a 400 naming the field. Bodies of `request`/`response` are the caller's own API shapes and are not
constrained here beyond being objects: the strategies read them defensively.
"""

from __future__ import annotations

import re
from typing import Any

import fastjsonschema

PROTOCOL_VERSION = "1"
ENDPOINTS = ("/v1/messages", "/v1/chat/completions")

_DECISION = {
    "type": "object",
    "required": ["kind", "changed"],
    "properties": {
        "kind": {"type": "string"},
        "changed": {"type": "string", "description": "what changed, content-free (field names and numbers)"},
        "tokensBefore": {"type": "integer"},
        "tokensAfter": {"type": "integer"},
        "estimatedSavingTokens": {"type": "integer"},
        "details": {"type": "object"},
    },
}
_ROUTE = {
    "type": "object",
    "properties": {
        "provider": {"type": "string"},
        "model": {"type": "string"},
        "wire": {"enum": ["anthropic", "openai"], "description": "the API the upstream speaks (a translation between)"},
    },
    "additionalProperties": False,
}
_METADATA = {"type": "object", "description": "team, app, user and free tags; never a credential"}
_AUTHENTICATED_TEAM = {
    "type": "string",
    "minLength": 1,
    "description": "the team of the gateway key the caller authenticated with, as the gateway verified it; cache "
    "entries are bound to it (absent: the one shared scope of unauthenticated callers), never to metadata.team",
}
_HEADERS = {
    "type": "object",
    "additionalProperties": {"type": "string"},
    "description": "only headers that change what a request means (anthropic-beta, anthropic-version, x-anyray-*)",
}

SCHEMAS: dict[str, dict[str, Any]] = {
    "OptimizeRequest": {
        "type": "object",
        "required": ["endpoint", "request"],
        "additionalProperties": False,
        "properties": {
            "protocolVersion": {"const": PROTOCOL_VERSION},
            "endpoint": {"enum": list(ENDPOINTS)},
            "request": {"type": "object", "description": "the request body in the endpoint's dialect"},
            "route": _ROUTE,
            "metadata": _METADATA,
            "headers": _HEADERS,
            "enabledKinds": {"type": "array", "items": {"type": "string"}},
            "canShortCircuit": {"type": "boolean", "default": False},
            "authenticatedTeam": _AUTHENTICATED_TEAM,
        },
    },
    "OptimizeAnswer": {
        "type": "object",
        "required": ["request", "decisions"],
        "properties": {
            "request": {"type": "object"},
            "decisions": {"type": "array", "items": _DECISION},
            "cacheHit": {"type": "boolean"},
            "cachedResponse": {"type": "object", "description": "present only when cacheHit"},
            "cacheKey": {"type": "string", "description": "cacheable miss: write the live answer back under it"},
            "retrievable": {
                "type": "array",
                "items": {"type": "string"},
                "description": "handles of what was elided and stashed: a caller that can, offers a retrieve tool",
            },
            "skipped": {"type": "array", "items": {"type": "object"}},
            "preserved": {"type": "array", "items": {"type": "string"}},
        },
    },
    "OptimizeResponseRequest": {
        "type": "object",
        "required": ["response"],
        "additionalProperties": False,
        "properties": {
            "protocolVersion": {"const": PROTOCOL_VERSION},
            "endpoint": {"enum": list(ENDPOINTS)},
            "request": {"type": "object"},
            "response": {"type": "object"},
            "route": _ROUTE,
            "metadata": _METADATA,
            "decisions": {"type": "array", "items": _DECISION},
        },
    },
    "OptimizeResponseAnswer": {
        "type": "object",
        "required": ["response", "decisions"],
        "properties": {"response": {"type": "object"}, "decisions": {"type": "array", "items": _DECISION}},
    },
    "CacheWrite": {
        "type": "object",
        "required": ["response"],
        "anyOf": [{"required": ["cacheKey"]}, {"required": ["request"]}],
        "additionalProperties": False,
        "properties": {
            "cacheKey": {"type": "string", "minLength": 1},
            "endpoint": {"enum": list(ENDPOINTS)},
            "request": {"type": "object"},
            "route": _ROUTE,
            "response": {"type": "object"},
            "ttlSeconds": {"type": "integer", "minimum": 1},
            "metadata": _METADATA,
            "authenticatedTeam": _AUTHENTICATED_TEAM,
        },
    },
    "CachePurge": {
        "type": "object",
        "additionalProperties": False,
        "properties": {"team": {"type": "string"}, "model": {"type": "string"}},
    },
    "Retrieve": {
        "type": "object",
        "required": ["handle"],
        "additionalProperties": False,
        "properties": {
            "handle": {"type": "string", "minLength": 1},
            "team": {"type": "string", "description": "the team the caller authenticated: stashes are team-scoped"},
        },
    },
}
# fastjsonschema compiles each schema to Python once: accepting a message costs ~5 us (jsonschema's walk of
# the same schema, which the protocol used before, cost ~75 us and was ~8% of the gateway's CPU per request
# under `anyray up`). Its refusal names the failing rule and where; the field a 400 names comes from that.
_VALIDATORS = {name: fastjsonschema.compile(schema, use_default=False) for name, schema in SCHEMAS.items()}


class ProtocolError(ValueError):
    """A message the optimizer does not understand; `field` names the offending part."""

    def __init__(self, field: str, problem: str, status: int = 400) -> None:
        self.field = field
        self.status = status
        super().__init__(f"{field}: {problem}")


def validate(kind: str, message: Any) -> dict[str, Any]:
    try:
        _VALIDATORS[kind](message)
    except fastjsonschema.JsonSchemaValueException as error:
        raise ProtocolError(*_refusal(error)) from None
    refuse_credentials(message)
    return message


def _refusal(error: fastjsonschema.JsonSchemaValueException) -> tuple[str, str]:
    """(field, problem) for a refused message: the dotted path to the offending value (`route.provider`,
    `decisions.1.kind`), or to the missing or unexpected key; `<body>` when it is the message as a whole."""
    path = list(error.path or [])[1:]  # [0] is fastjsonschema's name for the whole message, "data"
    problem = error.message.removeprefix(error.name or "data").strip()  # "must be string", "must be one of [...]"
    value, definition = error.value, error.definition or {}
    if error.rule == "required" and isinstance(value, dict):
        missing = [key for key in definition.get("required", []) if key not in value]
        if missing:
            path.append(missing[0])
            problem = f"{missing[0]!r} is a required property"
    elif error.rule == "additionalProperties" and isinstance(value, dict):
        unexpected = [key for key in value if key not in definition.get("properties", {})]
        if unexpected:
            path.append(unexpected[0])
            problem = f"additional properties are not allowed ({', '.join(map(repr, unexpected))} unexpected)"
    return ".".join(str(part) for part in path) or "<body>", problem


# ------------------------------------------------------------------------------------------- credentials

CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "set-cookie"}
)
_KEY_SHAPES = re.compile(
    r"sk-ant-[A-Za-z0-9_-]{8,}"  # Anthropic keys
    r"|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}"  # OpenAI keys
    r"|AIza[0-9A-Za-z_-]{30,}"  # Google API keys
    r"|ya29\.[0-9A-Za-z_-]{10,}"  # Google OAuth access tokens
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)


def refuse_credentials(message: dict[str, Any]) -> None:
    """The optimizer holds no provider credential and accepts none, even by mistake."""
    headers = message.get("headers") or {}
    for name, value in headers.items():
        if name.lower() in CREDENTIAL_HEADERS:
            raise ProtocolError(f"headers.{name}", "credentials are never sent to the optimizer")
        if isinstance(value, str) and _KEY_SHAPES.search(value):
            raise ProtocolError(f"headers.{name}", "looks like a provider credential; refused")
    _scan(message.get("metadata"), "metadata")


def _scan(value: Any, where: str) -> None:
    if isinstance(value, str):
        if _KEY_SHAPES.search(value):
            raise ProtocolError(where, "looks like a provider credential; refused")
    elif isinstance(value, dict):
        for k, v in value.items():
            if str(k).lower() in CREDENTIAL_HEADERS:
                raise ProtocolError(f"{where}.{k}", "credentials are never sent to the optimizer")
            _scan(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _scan(v, f"{where}.{i}")
