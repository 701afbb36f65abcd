"""OpenAI API: `Authorization: Bearer` from config, organisation and project headers, everything else as sent.

`base_url` follows the OpenAI SDKs' own convention (`OPENAI_BASE_URL`): it ends in the API version
(`https://api.openai.com/v1`), so any OpenAI-compatible server (a proxy, Azure's `/openai/v1`) can stand
in. A client path `/v1/embeddings` becomes `{base_url}/embeddings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anyray.providers.base import Endpoint, ProviderRefusal, UpstreamRequest, dump_json
from anyray.providers.keyed import KeySignedProvider
from anyray.providers.paths import upstream_path

DEFAULT_BASE_URL = "https://api.openai.com/v1"
# the request's API contract, passed through from the client; the client's own key never is
FORWARDED_OPENAI_HEADERS = ("openai-organization", "openai-project", "openai-beta", "accept")


class OpenAIProvider(KeySignedProvider):
    name = "openai"
    bills_at = "openai"
    speaks = "openai"
    proxies = True
    default_base_url = DEFAULT_BASE_URL
    litellm_prefix = "openai"

    def _headers(self, client: Mapping[str, str]) -> dict[str, str]:
        headers = {"content-type": "application/json"}
        for name in FORWARDED_OPENAI_HEADERS:
            value = client.get(name)
            if value:
                headers[name] = value
        # the gateway's own organisation/project win: they belong with the gateway's key
        if self.settings.organization:
            headers["openai-organization"] = self.settings.organization
        if self.settings.project:
            headers["openai-project"] = self.settings.project
        if self._key:
            headers["authorization"] = f"Bearer {self._key}"
        return headers

    def url(self, client_path: str) -> str:
        """`/v1/x` from a client -> `{base_url}/x`: the base already carries the version."""
        return self.base_url + (client_path[3:] if client_path.startswith("/v1/") else client_path)

    async def prepare(
        self,
        endpoint: Endpoint,
        payload: dict[str, Any],
        model: str,
        headers: Mapping[str, str],
        *,
        raw_body: bytes | None = None,
    ) -> UpstreamRequest:
        if endpoint is not Endpoint.CHAT_COMPLETIONS:
            raise ProviderRefusal(
                400,
                f"model {payload.get('model')!r} is routed to OpenAI, which does not speak the Anthropic Messages "
                "API; route this model to a Claude provider (vertex or anthropic) in the model map",
            )
        body = raw_body
        if body is None or payload.get("model") != model:
            payload = {**payload, "model": model}
            body = dump_json(payload)
        return UpstreamRequest(
            "POST",
            self.base_url + "/chat/completions",
            self._headers(headers),
            body,
            stream=bool(payload.get("stream")),
            payload=payload,
            model=model,
            endpoint=endpoint,
        )

    def passthrough(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> UpstreamRequest | None:
        path = upstream_path(path)  # raises UnsafePath: no '..', encoded separator or NUL goes out signed
        out = self._headers(headers)
        out.pop("content-type")
        if content_type := headers.get("content-type"):  # multipart uploads (audio, files) keep their boundary
            out["content-type"] = content_type
        url = self.url(path) + (f"?{query}" if query else "")
        return UpstreamRequest(method, url, out, body or None, stream=True)
