"""One typed configuration for every part of anyray.

Loaded from `anyray.yaml` (path from `--config` or `ANYRAY_CONFIG`), then overridden by environment
variables, then validated. With no file at all the defaults run a laptop gateway: providers become
ready as soon as their usual credentials (`ANTHROPIC_API_KEY`, Google ADC) are present.

Two kinds of environment override, both documented in docs/configuration.md:
- `ANYRAY_<SECTION>__<KEY>=value` sets any key (`ANYRAY_GATEWAY__PORT=9000`); the value is read as YAML,
  so numbers, booleans and lists keep their types.
- `${NAME}` / `${NAME:-default}` inside a YAML string is replaced from the environment, so secrets live
  in env files, never in the config file.
"""

from __future__ import annotations

from anyray.config.base import ConfigError, Section, secret_value
from anyray.config.deploy import DeployResources, DeploySettings
from anyray.config.gateway import (
    AuthSettings,
    GatewaySettings,
    LimitSettings,
    RetrieveSettings,
    RetrySettings,
    StoreSettings,
)
from anyray.config.load import CONFIG_ENV, ENV_PREFIX, load_config
from anyray.config.money import Budget, BudgetPeriod, BudgetSettings, PricingSettings, RateLimit, RateLimitSettings
from anyray.config.optimizer import CacheSettings, OptimizerRule, OptimizerSettings, StrategySetting
from anyray.config.providers import (
    DEFAULT_VERTEX_BETAS,
    AnthropicSettings,
    ModelRoute,
    ModelTarget,
    OpenAISettings,
    ProviderName,
    Providers,
    ProviderSettings,
    TranslateSettings,
    VertexSettings,
)
from anyray.config.root import Config

__all__ = [
    "CONFIG_ENV", "DEFAULT_VERTEX_BETAS", "ENV_PREFIX", "AnthropicSettings", "AuthSettings", "Budget",
    "BudgetPeriod", "BudgetSettings", "CacheSettings", "Config", "ConfigError", "DeployResources",
    "DeploySettings", "GatewaySettings", "LimitSettings", "ModelRoute", "ModelTarget", "OpenAISettings",
    "OptimizerRule", "OptimizerSettings", "PricingSettings", "ProviderName", "ProviderSettings", "Providers",
    "RateLimit", "RateLimitSettings", "RetrieveSettings", "RetrySettings", "Section", "StoreSettings",
    "StrategySetting", "TranslateSettings", "VertexSettings", "load_config", "secret_value"
]
