"""What the providers signed with an API key the gateway holds (Anthropic, OpenAI) have in common:
the key from config or its conventional variable, readiness, the keyless refusal, and how the key
reaches a container (an env file or a Secret, never a rendered file)."""

from __future__ import annotations

from typing import Any, ClassVar

from anyray.config import secret_value
from anyray.providers.base import Finding, Provider, Readiness, mask


class KeySignedProvider(Provider):
    default_base_url: ClassVar[str]
    # the prefix LiteLLM puts before a model id it should send to this provider
    litellm_prefix: ClassVar[str]

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.base_url = self.upstream_url(settings).rstrip("/")
        self._key = secret_value(settings.api_key)

    def readiness(self) -> Readiness:
        if not self._key:
            return Readiness(False, f"no API key (set {self.settings.api_key_env} or providers.{self.name}.api_key)")
        return Readiness(True, f"API key ...{self._key[-4:]} at {self.base_url}")

    def unusable(self) -> str | None:
        """No key, and the provider's public API as the upstream. (A configured base_url may be a company
        endpoint that authenticates otherwise: calls go there as before.)"""
        if self._key or self.settings.base_url:
            return None
        return (f"the gateway holds no API key for {self.name}: set {self.settings.api_key_env} (or "
                f"providers.{self.name}.api_key) where the gateway runs; `anyray doctor` checks it")

    @classmethod
    def setup_hint(cls, settings: Any) -> str:
        return f"export {settings.api_key_env}=... (or providers.{cls.name}.api_key)"

    @classmethod
    def upstream_url(cls, settings: Any) -> str:
        return settings.base_url or cls.default_base_url

    @classmethod
    def secrets_in(cls, settings: Any) -> list[str]:
        key = secret_value(settings.api_key)
        return [key] if key else []

    @classmethod
    def key_env(cls, settings: Any) -> str | None:
        return settings.api_key_env if settings.enabled else None

    @classmethod
    def for_containers(cls, settings: Any, section: dict[str, Any], target: str, project: str | None,
                       key_file_path: str, secret_home: str) -> list[str]:
        if settings.api_key is None or not settings.api_key.get_secret_value():
            return []
        return [f"providers.{cls.name}.api_key is kept out of the rendered files: the containers read it from "
                f"${settings.api_key_env} ({secret_home})"]

    @classmethod
    def litellm_params(cls, settings: Any, upstream: str) -> dict[str, Any]:
        params = {"model": f"{cls.litellm_prefix}/{upstream}", "api_key": f"os.environ/{settings.api_key_env}"}
        if settings.base_url:
            params["api_base"] = settings.base_url
        return params

    @classmethod
    def credential_findings(cls, settings: Any, timeout_s: float) -> list[Finding]:
        key = secret_value(settings.api_key)
        return [Finding(f"{cls.name} key", "ok" if key else "fail", f"{settings.api_key_env}: {mask(key)}",
                        "" if key else f"export {settings.api_key_env}=...")]
