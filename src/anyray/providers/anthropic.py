"""Anthropic API: `x-api-key` from config, the client's API-contract headers passed through."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from anyray.providers.base import FORWARDED_ANTHROPIC_HEADERS, Endpoint, UpstreamRequest, dump_json
from anyray.providers.keyed import KeySignedProvider
from anyray.providers.paths import upstream_path

if TYPE_CHECKING:
    from anyray.config import Config

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_VERSION = "2023-06-01"
_VERTEX_DATED = re.compile(r"^(.+)@(\d{8})$")
_PATHS = {Endpoint.MESSAGES: "/v1/messages", Endpoint.COUNT_TOKENS: "/v1/messages/count_tokens"}


def anthropic_model_id(model: str) -> str:
    """Vertex spells dated ids `name@YYYYMMDD`; Anthropic spells them `name-YYYYMMDD`."""
    m = _VERTEX_DATED.match(model)
    return f"{m.group(1)}-{m.group(2)}" if m else model


class AnthropicProvider(KeySignedProvider):
    name = "anthropic"
    bills_at = "anthropic"
    speaks = "anthropic"
    proxies = True
    default_base_url = DEFAULT_BASE_URL
    litellm_prefix = "anthropic"

    @classmethod
    def wanted(cls, config: Config) -> bool:
        """Always, when enabled: it is the default route for Claude models and serves the Anthropic API's
        other paths, so a missing key shows as "not ready" (and a 503 naming the variable), never absent."""
        return cls.settings_of(config).enabled

    def _headers(self, client: Mapping[str, str]) -> dict[str, str]:
        headers = {"content-type": "application/json", "anthropic-version": DEFAULT_VERSION}
        for name in FORWARDED_ANTHROPIC_HEADERS:
            value = client.get(name)
            if value:
                headers[name] = value
        if self._key:
            headers["x-api-key"] = self._key
        return headers

    async def prepare(
        self,
        endpoint: Endpoint,
        payload: dict[str, Any],
        model: str,
        headers: Mapping[str, str],
        *,
        raw_body: bytes | None = None,
    ) -> UpstreamRequest:
        model = anthropic_model_id(model)
        body = raw_body
        if body is None or payload.get("model") != model or "anthropic_version" in payload:
            payload = {k: v for k, v in payload.items() if k != "anthropic_version"}
            payload["model"] = model
            body = dump_json(payload)
        return UpstreamRequest(
            "POST",
            self.base_url + _PATHS[endpoint],
            self._headers(headers),
            body,
            stream=bool(payload.get("stream")) and endpoint is Endpoint.MESSAGES,
            payload=payload,
            model=model,
            endpoint=endpoint,
        )

    def passthrough(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> UpstreamRequest | None:
        path = upstream_path(path)  # raises UnsafePath: no '..', encoded separator or NUL goes out signed
        out = self._headers(headers)
        if content_type := headers.get("content-type"):
            out["content-type"] = content_type
        url = self.base_url + path + (f"?{query}" if query else "")
        return UpstreamRequest(method, url, out, body or None, stream=True)
