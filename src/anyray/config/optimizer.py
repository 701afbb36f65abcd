"""The optimizer's sections: which strategies run for whom, and the response cache."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator

from anyray.config.base import Section


class StrategySetting(Section):
    """One strategy's switch and parameters; in a rule, only what it overrides."""

    kind: str
    enabled: bool | None = None
    locked: bool = Field(False, description="clients cannot turn it on or off with x-anyray-optimization-kinds")
    params: dict[str, Any] = Field(default_factory=dict)


class OptimizerRule(Section):
    """Overrides for requests whose metadata (team, app, user, tool...) or model matches; globs allowed."""

    match: dict[str, str] = Field(default_factory=dict)
    strategies: list[StrategySetting] = Field(default_factory=list)


class OptimizerSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8088, ge=0, le=65535)
    url: str | None = Field(None, description="call the optimizer over HTTP here; unset = in-process")
    budget_ms: int = Field(800, ge=1)
    enabled: bool = True
    settings_refresh_s: float = Field(
        5.0, gt=0, description="how often a replica re-reads settings PUT to another (shared cache.url)"
    )
    strategies: list[StrategySetting] = Field(default_factory=list, description="org-wide order and settings")
    rules: list[OptimizerRule] = Field(default_factory=list)
    breaker_failures: int = Field(5, ge=1, description="consecutive fail-opens that open the circuit")
    breaker_reset_s: float = Field(10.0, gt=0, description="how long an open circuit waits before one probe")
    worker: Literal["process", "thread"] = Field(
        "process", description="where strategy work on long texts runs: a decider process of its own, or a thread "
                               "(one interpreter with the event loop: long decisions slow the other calls)")


class CacheSettings(Section):
    """The optimizer's response cache (semantic_cache) and stash; content is encrypted at rest."""

    url: str = Field("memory://", description="memory://, sqlite:///path or redis://host:port/db")
    ttl_s: int = Field(3600, ge=1)
    max_entries: int = Field(10_000, ge=1)
    max_entry_bytes: int = Field(1024 * 1024, ge=1)
    key: SecretStr | None = Field(None, description="urlsafe-base64 32-byte key; default: key_file")
    key_file: Path | None = Field(None, description="default ~/.anyray/cache.key, generated with 0600 perms")
    embeddings_url: str | None = Field(
        None, description="similarity matching: the gateway's OpenAI-dialect base, e.g. http://127.0.0.1:8787/v1"
    )
    embeddings_model: str = "text-embedding-3-small"
    similarity_threshold: float = Field(0.92, gt=0, le=1)

    @field_validator("url")
    @classmethod
    def _unset_is_memory(cls, v: str) -> str:
        return v or "memory://"  # `${ANYRAY_REDIS_URL}` where it is not set: the default
