"""The providers (where to send and how to sign) and the model routes that pick one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from anyray.config.base import Section

# Betas Vertex AI is known to accept for Claude. Everything else Claude Code or an SDK sends is
# dropped before the call; a beta listed here that Vertex still rejects is learned and stripped.
DEFAULT_VERTEX_BETAS = [
    "interleaved-thinking-2025-05-14",
    "context-1m-2025-08-07",
    "fine-grained-tool-streaming-2025-05-14",
    "token-efficient-tools-2025-02-19",
    "output-128k-2025-02-19",
    "computer-use-2025-01-24",
    "context-management-2025-06-27",
]

class ProviderSettings(Section):
    enabled: bool = True
    base_url: str | None = None


class AnthropicSettings(ProviderSettings):
    api_key: SecretStr | None = None
    api_key_env: str = "ANTHROPIC_API_KEY"


class VertexSettings(ProviderSettings):
    project: str | None = None
    location: str = "us-east5"
    credentials_file: Path | None = Field(None, description="a key file; unset = Application Default Credentials")
    betas: list[str] = Field(default_factory=lambda: list(DEFAULT_VERTEX_BETAS))
    token_refresh_margin_s: float = Field(300.0, ge=0)

    @field_validator("location")
    @classmethod
    def _location_shape(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9-]+", v):
            raise ValueError("expected a Vertex location such as us-east5, europe-west1 or global")
        return v


class OpenAISettings(ProviderSettings):
    api_key: SecretStr | None = None
    api_key_env: str = "OPENAI_API_KEY"
    organization: str | None = None
    project: str | None = None


class TranslateSettings(Section):
    """How OpenAI-dialect requests are translated when the model map sends them to Claude (docs/openai.md)."""

    drop_params: bool = Field(
        False, description="drop OpenAI parameters Claude cannot honour (named in a header) instead of a 400"
    )
    default_max_tokens: int = Field(
        4096, gt=0, description="Claude requires max_tokens; this is sent when the client gave none"
    )


class Providers(Section):
    anthropic: AnthropicSettings = Field(default_factory=AnthropicSettings)
    vertex: VertexSettings = Field(default_factory=VertexSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)


ProviderName = Literal["anthropic", "vertex", "openai"]


class ModelTarget(Section):
    provider: ProviderName
    model: str = Field("{model}", description="upstream model id; {model} is what the client asked for")
    location: str | None = Field(
        None, description="vertex only: serve this target from another region than providers.vertex.location "
        "(a fallback to another region, or `global`, for a regional capacity error)")

    @field_validator("location")
    @classmethod
    def _location_shape(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[a-z0-9-]+", v):
            raise ValueError("expected a Vertex location such as us-east5, europe-west1 or global")
        return v

    @model_validator(mode="after")
    def _located_provider(self) -> ModelTarget:
        if self.location is not None and self.provider != "vertex":
            raise ValueError(f"location is a Vertex region: provider {self.provider} is served from one place")
        return self

    @property
    def key(self) -> str:
        """The provider instance that serves it: `vertex`, or `vertex@europe-west1` for another region."""
        return f"{self.provider}@{self.location}" if self.location else self.provider


class ModelRoute(ModelTarget):
    fallbacks: list[ModelTarget] = Field(default_factory=list)
