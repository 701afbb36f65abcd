"""The one small interface every upstream implements.

A provider is the same few pieces each time (Portkey's shape): where to send and how to sign
(`prepare`), what to do when the upstream refuses something it can safely do without
(`recover`), and whether it is ready to serve at all (`readiness`). Adding a provider is copying one
module; the gateway's pipeline never branches on a provider's name.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import orjson

if TYPE_CHECKING:
    from anyray.config import Config, ProviderSettings


class Endpoint(enum.StrEnum):
    MESSAGES = "messages"
    COUNT_TOKENS = "count_tokens"
    CHAT_COMPLETIONS = "chat_completions"  # OpenAI dialect


@dataclass(slots=True)
class UpstreamRequest:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    stream: bool = False
    # what the provider needs to rebuild the call in `recover` (the parsed body, the upstream model)
    payload: dict[str, Any] | None = field(default=None, repr=False)
    model: str = ""
    endpoint: Endpoint = Endpoint.MESSAGES


@dataclass(frozen=True, slots=True)
class Readiness:
    ready: bool
    detail: str


class ProviderRefusal(Exception):
    """The request cannot be sent to this provider as it is, and dropping the offending part is unsafe."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


# Headers that describe the request's API contract and may go upstream; everything else (the
# caller's credentials, cookies, hop-by-hop headers, anyray's own) stays at the gateway.
FORWARDED_ANTHROPIC_HEADERS = ("anthropic-version", "anthropic-beta")


def dump_json(payload: Any) -> bytes:
    return orjson.dumps(payload)


@dataclass(frozen=True, slots=True)
class Finding:
    """One line of `anyray doctor` about what a provider signs with (doctor shows it as a Result)."""

    check: str
    status: Literal["ok", "warn", "fail"]
    found: str
    fix: str = ""


def mask(value: str | None) -> str:
    """present (…abcd) / absent: never more than the last four characters of a secret."""
    if not value:
        return "absent"
    return f"present (…{value[-4:]})" if len(value) >= 12 else "present"


def routed_providers(config: Config) -> set[str]:
    """The providers the model map names, as a route or as a fallback."""
    return {t.provider for route in config.model_map().values() for t in (route, *route.fallbacks)}


class Provider(ABC):
    name: ClassVar[str]
    # the wire this upstream speaks: "anthropic" (Messages) or "openai" (Chat Completions); a client
    # dialect picks how to reach it by this (a translation, or none), never by the provider's name
    speaks: ClassVar[str]
    # where calls are served, when the price depends on it (Vertex regions); None: one price everywhere
    region: str | None = None
    # serves the API's other paths (models, files, batches) through `passthrough`
    proxies: ClassVar[bool] = False
    # pricing (price_source.py): whose list prices this provider bills at, in genai-prices' names (None:
    # none of them), and what it adds on top of that list (a regional endpoint's uplift)
    bills_at: ClassVar[str | None] = None
    list_uplift: ClassVar[Decimal] = Decimal(0)

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Acquire what the provider needs before serving (credentials, background refreshers)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release what `start` acquired."""

    # ---- what the CLI, `doctor` and `render` know of a provider from the config alone (no instance, no call)

    @classmethod
    def settings_of(cls, config: Config) -> ProviderSettings:
        return getattr(config.providers, cls.name)

    @classmethod
    def used(cls, config: Config) -> bool:
        """Enabled, and configured or named by a route: what `doctor` checks the credentials of."""
        return cls.settings_of(config).enabled and (
            config.provider_configured(cls.name) or cls.name in routed_providers(config))

    @classmethod
    def wanted(cls, config: Config) -> bool:
        """Whether a gateway on this config builds the provider (one that is not ready reports it)."""
        return cls.used(config)

    @classmethod
    @abstractmethod
    def setup_hint(cls, settings: Any) -> str:
        """What to set so this provider can be tried."""

    @classmethod
    @abstractmethod
    def upstream_url(cls, settings: Any) -> str:
        """Where calls go (the egress check resolves proxies for it)."""

    @classmethod
    def key_env(cls, settings: Any) -> str | None:
        """The variable a container reads this provider's key from (None: it signs some other way)."""
        return None

    @classmethod
    def secrets_in(cls, settings: Any) -> list[str]:
        """The credentials its settings hold (tests prove none of them leaks anywhere)."""
        return []

    @classmethod
    def key_file(cls, settings: Any) -> Path | None:
        """A credentials file on the host that a Compose container must mount (None: none)."""
        return None

    @classmethod
    def for_containers(cls, settings: Any, section: dict[str, Any], target: str, project: str | None,
                       key_file_path: str, secret_home: str) -> list[str]:
        """Rewrite this provider's rendered config `section` (secrets already left out) for the containers
        of `target` ("compose" or "gke"; `project` is deploy.project, `key_file_path` where a mounted key
        file is, `secret_home` where secrets come from); returns what a person should know about it."""
        return []

    @classmethod
    def on_platform_identity(cls, settings: Any, platform: str, signer: str) -> tuple[Any, list[str]]:
        """The settings for a host whose own identity signs (on `platform`, e.g. "GCE", `signer` supplies the
        token: "the VM's service account"), and what a person should know about the change; a key-signed
        provider's are as they were."""
        return settings, []

    @classmethod
    @abstractmethod
    def litellm_params(cls, settings: Any, upstream: str) -> dict[str, Any]:
        """LiteLLM's `litellm_params` for a route to this provider: its names for the same upstream."""

    @classmethod
    @abstractmethod
    def credential_findings(cls, settings: Any, timeout_s: float) -> list[Finding]:
        """Whether what this provider signs with is there and works (may do I/O within `timeout_s`)."""

    # ---- serving

    def elsewhere(self, location: str) -> Provider:
        """The same provider served from another region (a route's `location`); only a regional one has it."""
        raise ValueError(f"provider {self.name} is served from one place: a route cannot name a location for it")

    @abstractmethod
    def readiness(self) -> Readiness: ...

    def unusable(self) -> str | None:
        """Why no call to this provider can succeed, known from the config alone (None: try it). The gateway
        then answers by itself instead of sending a call the upstream can only refuse."""
        return None

    @abstractmethod
    async def prepare(
        self,
        endpoint: Endpoint,
        payload: dict[str, Any],
        model: str,
        headers: Mapping[str, str],
        *,
        raw_body: bytes | None = None,
    ) -> UpstreamRequest:
        """Build the signed upstream call. `raw_body` is the client's exact bytes when the payload is
        unchanged, so a provider that needs no transform forwards them without re-serialising."""

    def recover(self, sent: UpstreamRequest, status: int, body: bytes) -> UpstreamRequest | None:
        """A corrected request to retry once, when the refusal is one the provider knows how to fix."""
        return None

    def passthrough(
        self, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
    ) -> UpstreamRequest | None:
        """Forward a path the gateway does not interpret (batches, files...), or None if unsupported."""
        return None
