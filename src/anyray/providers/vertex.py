"""Claude on Vertex AI: rawPredict / streamRawPredict, Google OAuth, and the anthropic-beta trap.

Vertex accepts the Anthropic Messages body with two differences: the model moves into the URL and
`anthropic_version: vertex-2023-10-16` goes into the body. Its sharpest edge is `anthropic-beta`:
any value it does not know fails the whole call with a 400, and Claude Code adds new betas every few
releases. So only the configured allow-list is sent, and a value Vertex still rejects (for one model,
say) is stripped, retried once before any byte reaches the client, and remembered for that model.
The same applies to tool types Vertex rejects, when the conversation never used the tool.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from anyray.config import VertexSettings
from anyray.providers.base import (
    Endpoint,
    Finding,
    Provider,
    ProviderRefusal,
    Readiness,
    UpstreamRequest,
    dump_json,
)
from anyray.providers.google_auth import GoogleTokenSource

VERTEX_ANTHROPIC_VERSION = "vertex-2023-10-16"
_ANTHROPIC_DATED = re.compile(r"^(claude-.+)-(\d{8})$")
_BETA_REJECTION = re.compile(r"Unexpected value\(s\) (.+?) for the `anthropic-beta` header")
_TOOL_REJECTION = re.compile(r"tools\.(\d+): Input tag '([^']+)' found using 'type' does not match")
_BACKTICKED = re.compile(r"`([^`]+)`")


def vertex_base_url(location: str) -> str:
    if location == "global":
        return "https://aiplatform.googleapis.com/v1"
    if location in ("us", "eu"):  # multi-region endpoints
        return f"https://aiplatform.{location}.rep.googleapis.com/v1"
    return f"https://{location}-aiplatform.googleapis.com/v1"


def vertex_model_id(model: str) -> str:
    """Anthropic spells dated ids `name-YYYYMMDD`; Vertex spells them `name@YYYYMMDD`."""
    m = _ANTHROPIC_DATED.match(model)
    return f"{m.group(1)}@{m.group(2)}" if m else model


def rejected_betas(body: bytes) -> list[str]:
    """The beta values named in Vertex's 'Unexpected value(s) `x` for the `anthropic-beta` header'."""
    m = _BETA_REJECTION.search(_error_message(body))
    return _BACKTICKED.findall(m.group(1)) if m else []


def rejected_tool(body: bytes) -> tuple[int, str] | None:
    m = _TOOL_REJECTION.search(_error_message(body))
    return (int(m.group(1)), m.group(2)) if m else None


def _error_message(body: bytes) -> str:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")
    err = data.get("error") if isinstance(data, dict) else None
    msg = err.get("message") if isinstance(err, dict) else None
    return msg if isinstance(msg, str) else ""


def _used_tool_names(payload: dict[str, Any]) -> set[str]:
    names = set()
    for message in payload.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") in ("tool_use", "server_tool_use"):
                    names.add(block.get("name"))
    choice = payload.get("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "tool":
        names.add(choice.get("name"))
    return names


class VertexProvider(Provider):
    name = "vertex"
    bills_at = "anthropic"  # Claude on Vertex: Anthropic's list prices ...
    # ... plus 10 % on regional endpoints for Claude models from Sonnet 4.5 on (prices.yaml's sources); a Claude
    # model only genai-prices knows is newer than every one prices.yaml lists
    list_uplift = Decimal("0.10")
    speaks = "anthropic"

    def __init__(self, settings: VertexSettings, tokens: GoogleTokenSource | None = None) -> None:
        self.settings = settings
        self.region = settings.location
        self.base_url = (settings.base_url or vertex_base_url(settings.location)).rstrip("/")
        self._owns_tokens = tokens is None  # a region's instance borrows the main one's credentials
        self.tokens = tokens or GoogleTokenSource(settings.credentials_file, settings.token_refresh_margin_s)
        self._allow_all = "*" in settings.betas
        self._allowed = frozenset(settings.betas)
        # learned from Vertex's own refusals, per upstream model
        self.learned_betas: dict[str, set[str]] = {}
        self.learned_tool_types: dict[str, set[str]] = {}

    @property
    def project(self) -> str | None:
        return self.settings.project or self.tokens.project

    # ---- outside serving: setup, render, doctor

    @classmethod
    def setup_hint(cls, settings: VertexSettings) -> str:
        return "set providers.vertex.project (or GOOGLE_CLOUD_PROJECT)"

    @classmethod
    def upstream_url(cls, settings: VertexSettings) -> str:
        return settings.base_url or vertex_base_url(settings.location)

    @classmethod
    def key_file(cls, settings: VertexSettings) -> Path | None:
        return settings.credentials_file

    @classmethod
    def for_containers(cls, settings: VertexSettings, section: dict[str, Any], target: str, project: str | None,
                       key_file_path: str, secret_home: str) -> list[str]:
        if target != "gke":
            if section.get("credentials_file"):
                section["credentials_file"] = key_file_path
            return []
        warnings = []
        if section.pop("credentials_file", None):
            warnings.append("providers.vertex.credentials_file is dropped on GKE: Workload Identity supplies the token")
        if not section.get("project") and project:
            section["project"] = project
        return warnings

    @classmethod
    def on_platform_identity(cls, settings: VertexSettings, platform: str,
                             signer: str) -> tuple[VertexSettings, list[str]]:
        notes = []
        if settings.credentials_file:
            notes.append(f"providers.vertex.credentials_file is dropped on {platform}: {signer} supplies the token")
            settings = settings.model_copy(update={"credentials_file": None})
        if not settings.project and settings.enabled:
            notes.append(f"no Vertex AI project: {signer} has nothing to call; pass --project (deploy "
                         f"{platform.lower()}) or --set deploy.project=P (render)")
        return settings, notes

    @classmethod
    def litellm_params(cls, settings: VertexSettings, upstream: str) -> dict[str, Any]:
        params: dict[str, Any] = {"model": f"vertex_ai/{upstream}", "vertex_project": settings.project or "",
                                  "vertex_location": settings.location}
        if settings.base_url:
            params["api_base"] = settings.base_url
        return params

    @classmethod
    def credential_findings(cls, settings: VertexSettings, timeout_s: float) -> list[Finding]:
        """The project, and a token minted the way the gateway will mint it (ADC, a key file, the metadata server)."""
        out = [Finding("vertex project", "ok" if settings.project else "fail",
                       f"{settings.project or 'not set'}, location {settings.location}",
                       "" if settings.project else "set providers.vertex.project or export GOOGLE_CLOUD_PROJECT=...")]
        source = GoogleTokenSource(settings.credentials_file)

        async def mint() -> None:
            await source.start()
            await source.close()

        try:
            asyncio.run(asyncio.wait_for(mint(), timeout_s))
        except TimeoutError:
            out.append(Finding("vertex credentials", "fail", f"no token within {timeout_s:.0f} s "
                               f"({source.source}): the token endpoint is not answering",
                               "check network access to oauth2.googleapis.com (or the key's token_uri)"))
            return out
        if source.credentials is None:
            out.append(Finding("vertex credentials", "fail", f"no Application Default Credentials: {source.error}",
                               "gcloud auth application-default login, or set providers.vertex.credentials_file, "
                               "or run on GKE with Workload Identity"))
        elif source.error:
            reason = source.error
            if "Connection" in reason or "Max retries" in reason or "timed out" in reason:
                reason = f"found {source.source}, but the token endpoint is unreachable"
            out.append(Finding("vertex token", "fail", reason, "check network access to the token endpoint "
                               "and that the key is not revoked"))
        else:
            out.append(Finding("vertex credentials", "ok", f"{source.source}; a token was minted"))
        return out

    async def start(self) -> None:
        if self._owns_tokens:
            await self.tokens.start()

    async def close(self) -> None:
        if self._owns_tokens:
            await self.tokens.close()

    def elsewhere(self, location: str) -> VertexProvider:
        """The same project and credentials in another region: its own endpoint (unless base_url names one
        for every region, as a Private Service Connect endpoint does), its own learned refusals."""
        return VertexProvider(self.settings.model_copy(update={"location": location}), tokens=self.tokens)

    def readiness(self) -> Readiness:
        if not self.project:
            return Readiness(False, "no project (set providers.vertex.project or GOOGLE_CLOUD_PROJECT)")
        if self.tokens.error or self.tokens.credentials is None:
            return Readiness(False, self.tokens.error or "credentials not loaded")
        where = f"project {self.project}, {self.settings.location}"
        return Readiness(True, f"{where}, credentials: {self.tokens.source}")

    def _betas(self, value: str | None, model: str) -> str | None:
        if not value:
            return None
        learned = self.learned_betas.get(model, ())
        kept = [
            b
            for b in (v.strip() for v in value.split(","))
            if b and (self._allow_all or b in self._allowed) and b not in learned
        ]
        return ",".join(kept) or None

    def _body(self, endpoint: Endpoint, payload: dict[str, Any], model: str) -> dict[str, Any]:
        body = {k: v for k, v in payload.items() if k != "model"}
        body.setdefault("anthropic_version", VERTEX_ANTHROPIC_VERSION)
        if endpoint is Endpoint.COUNT_TOKENS:
            body["model"] = model  # count-tokens takes the model in the body, not the URL
        dropped = self.learned_tool_types.get(model)
        if dropped and body.get("tools"):
            body["tools"] = [t for t in body["tools"] if not (isinstance(t, dict) and t.get("type") in dropped)]
        return body

    def _url(self, endpoint: Endpoint, model: str, stream: bool) -> str:
        prefix = f"{self.base_url}/projects/{self.project}/locations/{self.settings.location}/publishers/anthropic"
        if endpoint is Endpoint.COUNT_TOKENS:
            return f"{prefix}/models/count-tokens:rawPredict"
        return f"{prefix}/models/{model}:{'streamRawPredict' if stream else 'rawPredict'}"

    async def prepare(
        self,
        endpoint: Endpoint,
        payload: dict[str, Any],
        model: str,
        headers: Mapping[str, str],
        *,
        raw_body: bytes | None = None,
    ) -> UpstreamRequest:
        model = vertex_model_id(model)
        stream = bool(payload.get("stream")) and endpoint is Endpoint.MESSAGES
        out = {"content-type": "application/json", "authorization": f"Bearer {await self.tokens.token()}"}
        if endpoint is Endpoint.MESSAGES and (betas := self._betas(headers.get("anthropic-beta"), model)):
            out["anthropic-beta"] = betas
        body = self._body(endpoint, payload, model)
        return UpstreamRequest(
            "POST",
            self._url(endpoint, model, stream),
            out,
            dump_json(body),
            stream=stream,
            payload=payload,
            model=model,
            endpoint=endpoint,
        )

    def recover(self, sent: UpstreamRequest, status: int, body: bytes) -> UpstreamRequest | None:
        if status != 400 or sent.payload is None:
            return None
        betas = [b for b in rejected_betas(body) if b in (sent.headers.get("anthropic-beta") or "").split(",")]
        if betas:
            self.learned_betas.setdefault(sent.model, set()).update(betas)
            kept = [b for b in sent.headers["anthropic-beta"].split(",") if b not in betas]
            headers = {k: v for k, v in sent.headers.items() if k != "anthropic-beta"}
            if kept:
                headers["anthropic-beta"] = ",".join(kept)
            return UpstreamRequest(
                sent.method, sent.url, headers, sent.body, sent.stream, sent.payload, sent.model, sent.endpoint
            )
        tool = rejected_tool(body)
        if tool is None:
            return None
        index, tool_type = tool
        tools = sent.payload.get("tools") or []
        name = tools[index].get("name") if index < len(tools) and isinstance(tools[index], dict) else None
        if name in _used_tool_names(sent.payload):
            raise ProviderRefusal(
                400,
                f"Vertex AI does not accept tool type '{tool_type}' (tools.{index}, '{name}') for model "
                f"{sent.model}, and this conversation uses that tool, so it cannot be dropped. Route this "
                "model to the Anthropic provider, or remove the tool.",
            )
        self.learned_tool_types.setdefault(sent.model, set()).add(tool_type)
        payload_body = self._body(sent.endpoint, sent.payload, sent.model)
        return UpstreamRequest(
            sent.method,
            sent.url,
            dict(sent.headers),
            dump_json(payload_body),
            sent.stream,
            sent.payload,
            sent.model,
            sent.endpoint,
        )
