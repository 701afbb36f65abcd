"""Upstream providers, one module each behind `Provider` (see base.py).

`PROVIDERS` is the one place that lists them: the gateway builds from it, and the CLI, `doctor` and
`render` ask each provider class what they need (setup hints, where calls go, how credentials reach a
container), so adding a provider is adding a module and a line here.
"""

from __future__ import annotations

from anyray.config import Config
from anyray.providers.anthropic import AnthropicProvider
from anyray.providers.base import Endpoint, Finding, Provider, ProviderRefusal, Readiness, UpstreamRequest
from anyray.providers.openai import OpenAIProvider
from anyray.providers.vertex import VertexProvider

__all__ = [
    "PROVIDERS",
    "AnthropicProvider",
    "Endpoint",
    "Finding",
    "OpenAIProvider",
    "Provider",
    "ProviderRefusal",
    "Readiness",
    "UpstreamRequest",
    "VertexProvider",
    "build_providers",
]

# in the order the gateway reports them
PROVIDERS: dict[str, type[Provider]] = {
    cls.name: cls for cls in (AnthropicProvider, VertexProvider, OpenAIProvider)
}


def build_providers(config: Config) -> dict[str, Provider]:
    """Every provider the config wants, ready or not (readiness is reported, not assumed), and one more instance
    for each other region a route names (`vertex@europe-west1`), sharing its credentials."""
    out: dict[str, Provider] = {name: cls(cls.settings_of(config)) for name, cls in PROVIDERS.items()
                                if cls.wanted(config)}
    for route in config.model_map().values():
        for target in (route, *route.fallbacks):
            if target.location and target.key not in out and target.provider in out:
                out[target.key] = out[target.provider].elsewhere(target.location)
    return out
