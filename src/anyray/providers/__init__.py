"""Upstream providers, one module each behind `Provider` (see base.py)."""

from __future__ import annotations

from anyray.config import Config
from anyray.providers.anthropic import AnthropicProvider
from anyray.providers.base import Endpoint, Provider, ProviderRefusal, Readiness, UpstreamRequest
from anyray.providers.openai import OpenAIProvider
from anyray.providers.vertex import VertexProvider

__all__ = [
    "AnthropicProvider",
    "Endpoint",
    "OpenAIProvider",
    "Provider",
    "ProviderRefusal",
    "Readiness",
    "UpstreamRequest",
    "VertexProvider",
    "build_providers",
]


def build_providers(config: Config) -> dict[str, Provider]:
    """Every enabled provider, ready or not: readiness is reported, not assumed."""
    p = config.providers
    out: dict[str, Provider] = {}
    if p.anthropic.enabled:
        out["anthropic"] = AnthropicProvider(p.anthropic)
    if p.vertex.enabled and (p.vertex.project or _vertex_in_model_map(config)):
        out["vertex"] = VertexProvider(p.vertex)
    if p.openai.enabled and (config.provider_configured("openai") or _in_model_map(config, "openai")):
        out["openai"] = OpenAIProvider(p.openai)
    return out


def _in_model_map(config: Config, provider: str) -> bool:
    return any(t.provider == provider for route in config.model_map().values() for t in (route, *route.fallbacks))


def _vertex_in_model_map(config: Config) -> bool:
    return _in_model_map(config, "vertex")
