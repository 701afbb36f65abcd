"""The whole configuration: one section per part of anyray, and the default model routes."""

from __future__ import annotations

from pydantic import Field

from anyray.config.base import Section, secret_value
from anyray.config.deploy import DeploySettings
from anyray.config.gateway import AuthSettings, GatewaySettings, StoreSettings
from anyray.config.money import BudgetSettings, PricingSettings, RateLimitSettings
from anyray.config.optimizer import CacheSettings, OptimizerSettings
from anyray.config.providers import ModelRoute, ModelTarget, ProviderName, Providers, TranslateSettings


class Config(Section):
    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    optimizer: OptimizerSettings = Field(default_factory=OptimizerSettings)
    providers: Providers = Field(default_factory=Providers)
    cache: CacheSettings = Field(default_factory=CacheSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    auth: AuthSettings = Field(default_factory=AuthSettings)
    budgets: BudgetSettings = Field(default_factory=BudgetSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    pricing: PricingSettings = Field(default_factory=PricingSettings)
    deploy: DeploySettings = Field(default_factory=DeploySettings)
    translate: TranslateSettings = Field(default_factory=TranslateSettings)
    models: dict[str, ModelRoute] = Field(
        default_factory=dict,
        description="what a client asks for (exact id or glob like claude-*) -> provider and upstream id",
    )
    source: str = Field("<defaults>", exclude=True)

    def model_map(self) -> dict[str, ModelRoute]:
        """The configured map, or a default that sends Claude models to the provider that can serve them."""
        if self.models:
            return self.models
        vertex_first = bool(self.providers.vertex.project)
        primary: ProviderName = "vertex" if vertex_first else "anthropic"
        other: ProviderName = "anthropic" if vertex_first else "vertex"
        fallbacks = [ModelTarget(provider=other)] if self.provider_configured(other) else []
        default = {"claude-*": ModelRoute(provider=primary, fallbacks=fallbacks)}
        if self.provider_configured("openai"):  # a redirected OpenAI workload keeps its models
            default["*"] = ModelRoute(provider="openai")
        return default

    def for_deployment(self) -> Config:
        """`deploy.project` (`deploy gke --project P`) is the Google Cloud project the deployment runs in, so it
        is Vertex's project unless the config names another: the default routes then send Claude models to
        Vertex, whose calls the deployment's Workload Identity signs, whatever the rendering shell exported."""
        vertex = self.providers.vertex
        if not self.deploy.project or vertex.project or not vertex.enabled:
            return self
        vertex = vertex.model_copy(update={"project": self.deploy.project})
        providers = self.providers.model_copy(update={"vertex": vertex})
        return self.model_copy(update={"providers": providers})

    def provider_configured(self, name: str) -> bool:
        """Whether the config names enough for this provider to be tried (credentials are checked later)."""
        p = getattr(self.providers, name)
        if not p.enabled:
            return False
        if name == "vertex":
            return bool(p.project)
        return secret_value(p.api_key) is not None
