"""Who a request is for: the `x-anyray-metadata` header, in any dialect.

A caller attributes its spend with one header, either a JSON object

    x-anyray-metadata: {"team": "search", "app": "indexer", "user": "ana", "tags": {"env": "prod"}}

or the shell-friendly form

    x-anyray-metadata: team=search;app=indexer;user=ana;env=prod

Keys other than team/app/user become tags. Everything is validated and bounded (the values land in
every spend record and in metric-free labels of reports), and a bad header is refused with a clear
message rather than silently unattributed: a 400 in the caller's dialect (each route shapes the error).

The header never goes upstream: providers forward only an allow-list of headers. Claude Code's
`metadata.user_id` body field (its device/session id) is recorded as the `session` tag, with anything
key-shaped in it masked as the logs mask it (anyray.logs.redact); the body field itself is part of the
Anthropic API and is forwarded as the client sent it.

Metadata goes to the optimizer, which refuses anything credential-shaped in it (a key, a token, a tag
named like a credential header). The same rule runs here first, with the optimizer's own patterns: a
header carrying such a value is the caller's mistake and gets the caller's 400, and a session tag that
still looks like one after masking is left out; so the optimizer never sees a message it must refuse.

Gateway keys (another issue) will imply a team: pass the key's team as `key_team` and it wins over
whatever the header says, so a caller can label its spend but cannot bill another team.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from anyray.logs import redact
from anyray.server.optimizer.protocol import ProtocolError, refuse_credentials

HEADER = "x-anyray-metadata"
MAX_HEADER_BYTES = 2048
MAX_VALUE_CHARS = 128
MAX_TAGS = 16
FIELDS = ("team", "app", "user")
SESSION_TAG = "session"

_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Claude Code's user_id: `user_<hex>_account_<uuid or empty>_session_<uuid>` (older), or a JSON object
_SESSION_IN_USER_ID = re.compile(r"_session_([0-9A-Za-z-]{1,64})$")


class MetadataError(ValueError):
    """The header cannot be used; the message says what to fix, for a 400 in the caller's dialect."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"{HEADER}: {problem}")


@dataclass(slots=True)
class Attribution:
    team: str | None = None
    app: str | None = None
    user: str | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The shape `Call.metadata` and the optimizer's `metadata` field carry."""
        out: dict[str, Any] = {k: v for k in FIELDS if (v := getattr(self, k)) is not None}
        if self.tags:
            out["tags"] = dict(self.tags)
        return out


def _value(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise MetadataError(f"{where}: expected a string, got {type(value).__name__}")
    value = value.strip()
    if not value:
        raise MetadataError(f"{where}: must not be empty")
    if len(value) > MAX_VALUE_CHARS:
        raise MetadataError(f"{where}: longer than {MAX_VALUE_CHARS} characters")
    if _CONTROL.search(value):
        raise MetadataError(f"{where}: contains control characters")
    return value


def _key(key: Any) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise MetadataError(f"tag name {key!r}: expected 1-64 characters of A-Z a-z 0-9 _ . : -")
    return key


def _from_pairs(text: str) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise MetadataError(f"expected a JSON object or k=v;k=v pairs, got {part.strip()[:40]!r}")
        if key in pairs:
            raise MetadataError(f"{key!r} given twice")
        pairs[_key(key)] = value
    return pairs


def _from_json(text: str) -> dict[str, Any]:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise MetadataError(f"not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise MetadataError(f"expected a JSON object, got {type(data).__name__}")
    return data


def parse_metadata(header: str | None) -> Attribution:
    """Parse the header value (None or blank: no attribution). Raises MetadataError on bad input."""
    if header is None or not header.strip():
        return Attribution()
    if len(header.encode()) > MAX_HEADER_BYTES:
        raise MetadataError(f"larger than {MAX_HEADER_BYTES} bytes")
    text = header.strip()
    raw = _from_json(text) if text.startswith("{") else _from_pairs(text)
    result = Attribution()
    tags: dict[str, str] = {}
    for key, value in raw.items():
        if key in FIELDS:
            setattr(result, key, _value(value, key))
        elif key == "tags":
            if not isinstance(value, dict):
                raise MetadataError(f"tags: expected an object of name -> string, got {type(value).__name__}")
            for name, tag in value.items():
                tags[_key(name)] = _value(tag, f"tags.{name}")
        else:
            tags[_key(key)] = _value(value, key)
    if len(tags) > MAX_TAGS:
        raise MetadataError(f"more than {MAX_TAGS} tags")
    result.tags = tags
    try:  # the optimizer's own rule, so that it never has to refuse (and the caller hears why)
        refuse_credentials({"metadata": result.as_dict()})
    except ProtocolError as exc:
        where = exc.field.removeprefix("metadata.")
        raise MetadataError(f"{where}: looks like a credential (an API key, token or credential header); "
                            "keys never belong in metadata") from None
    return result


def session_of(user_id: Any) -> str | None:
    """The session id in Claude Code's `metadata.user_id`, or the bounded id itself."""
    if not isinstance(user_id, str) or not user_id.strip():
        return None
    text = user_id.strip()
    if text.startswith("{"):
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("session_id"), str):
            text = data["session_id"]
    elif match := _SESSION_IN_USER_ID.search(text):
        text = match.group(1)
    # a key pasted where an id belongs (a misconfigured client, or a probe) is masked as the logs mask it:
    # the session tag lands in every spend record and report
    text = redact(_CONTROL.sub("", text))[:MAX_VALUE_CHARS]
    if text and _credential_shaped(text):  # what masking missed (a key glued to other letters): not kept
        return None
    return text or None


def _credential_shaped(value: str) -> bool:
    try:
        refuse_credentials({"metadata": {SESSION_TAG: value}})
    except ProtocolError:
        return True
    return False


def attribute(
    headers: Mapping[str, str], payload: Mapping[str, Any] | None = None, key_team: str | None = None
) -> Attribution:
    """A request's attribution, whatever its dialect: header, body session id, and the gateway key's team.

    `key_team` is the hook for gateway keys: when the caller authenticated with a key bound to a team,
    that team is the one billed.
    """
    attribution = parse_metadata(headers.get(HEADER))
    body_meta = payload.get("metadata") if payload is not None else None
    if isinstance(body_meta, Mapping) and SESSION_TAG not in attribution.tags:
        session = session_of(body_meta.get("user_id"))
        if session:
            attribution.tags[SESSION_TAG] = session
    if key_team:
        attribution.team = key_team
    return attribution
