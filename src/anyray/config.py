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

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from anyray import __version__

CONFIG_ENV = "ANYRAY_CONFIG"
ENV_PREFIX = "ANYRAY_"

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


class ConfigError(Exception):
    """A configuration problem a person can fix: names the file, the key and what was expected."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source = source
        self.problems = problems
        lines = [f"{source}: invalid configuration"]
        lines += [f"  {key}: {why}" for key, why in problems]
        super().__init__("\n".join(lines))


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class RetrySettings(_Section):
    """Retrying a failed upstream call on the same target, before the first byte reached the client."""

    attempts: int = Field(2, ge=0, le=10, description="extra tries on the same target after a retryable failure")
    base_ms: int = Field(500, ge=0, description="first backoff; doubles each try, full jitter")
    max_ms: int = Field(8000, ge=0, description="cap on one backoff wait (an upstream's retry-after may be longer)")
    budget_s: float = Field(20.0, ge=0, description="total waiting time for one request across all its retries")
    final_for_clients: bool = Field(
        False, description="after the gateway spent its retries on a failure, answer it with x-should-retry: false "
        "so the client's SDK does not retry it again (theirs multiply ours); off by default because some clients "
        "are more patient than the gateway (Claude Code retries a 529 up to 10 times)")


class LimitSettings(_Section):
    """Input and load limits; each refusal is an error in the caller's dialect."""

    max_header_bytes: int = Field(
        64 * 1024, gt=0, le=1024 * 1024, description="all request headers together; larger gets a 431"
    )
    max_json_depth: int | None = Field(
        64, ge=2, le=254, description="deeper request JSON gets a 400 (orjson cannot write 255+); unset: no check"
    )
    max_concurrent_upstream: int | None = Field(
        None, gt=0, description="model calls in flight at once; unset: unlimited"
    )
    max_concurrent_upstream_per_team: int | None = Field(
        None, gt=0, description="model calls in flight at once for one team (its gateway key's; without keys, the "
        "team x-anyray-metadata names, a label anyone can claim); past it a 429; unset: no per-team cap"
    )
    queue_timeout_s: float = Field(5.0, ge=0, description="how long a call waits for a free slot before a 429")
    # the HTTP server's own bounds on a client connection (server/http11; docs/reliability.md#connections)
    keepalive_timeout_s: float = Field(
        5.0, gt=0, description="an idle connection (kept alive, or that never sent a byte) is closed after this"
    )
    header_timeout_s: float = Field(
        10.0, gt=0, description="a request head must be whole this long after its first byte, else a 408"
    )
    body_timeout_s: float = Field(
        60.0, gt=0, description="a request body must be whole this long after its head, else a 408"
    )
    write_timeout_s: float = Field(
        30.0, gt=0, description="a client that takes none of its answer's waiting bytes for this long is cut: the "
        "connection is dropped, a stream's upstream let go and its slot freed, the call recorded as 499 partial"
    )
    max_connections: int = Field(
        4096, gt=0, description="open client connections; past it a new one gets a 503 at once (at most half "
        "the process's file-descriptor limit)"
    )
    max_connections_per_upstream: int = Field(
        256, gt=0, description="connections to one upstream origin; further calls wait for one, within "
        "connect_timeout_s"
    )


class RetrieveSettings(_Section):
    """The retrieve tool the gateway offers a model when the optimizer elided part of its prompt."""

    enabled: bool = Field(True, description="offer anyray_retrieve and answer its calls from the stash")
    max_rounds: int = Field(4, ge=1, le=16, description="upstream calls at most for one answer, retrievals included")
    min_saving_tokens: int = Field(
        400, ge=0, description="offer the tool only when the optimizer saved at least this many input tokens: the "
        "tool's definition (~110 tokens) is re-sent on every call, and adding it rewrites the cached prefix once")


class GatewaySettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(8787, ge=0, le=65535)
    max_body_bytes: int = Field(32 * 1024 * 1024, gt=0, description="larger request bodies get a 413")
    upstream_timeout_s: float = Field(600.0, gt=0)
    connect_timeout_s: float = Field(10.0, gt=0)
    retry: RetrySettings = Field(default_factory=RetrySettings)
    limits: LimitSettings = Field(default_factory=LimitSettings)
    retrieve: RetrieveSettings = Field(default_factory=RetrieveSettings)


class StrategySetting(_Section):
    """One strategy's switch and parameters; in a rule, only what it overrides."""

    kind: str
    enabled: bool | None = None
    locked: bool = Field(False, description="clients cannot turn it on or off with x-anyray-optimization-kinds")
    params: dict[str, Any] = Field(default_factory=dict)


class OptimizerRule(_Section):
    """Overrides for requests whose metadata (team, app, user, tool...) or model matches; globs allowed."""

    match: dict[str, str] = Field(default_factory=dict)
    strategies: list[StrategySetting] = Field(default_factory=list)


class OptimizerSettings(_Section):
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


class CacheSettings(_Section):
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


class StoreSettings(_Section):
    url: str | None = Field(
        None,
        description="spend store: sqlite:///path or postgresql://...; unset = ~/.anyray/spend.db under `anyray up`",
    )
    enabled: bool = True
    queue_size: int = Field(10_000, ge=1, description="records waiting to be written; beyond this they are dropped")
    batch_size: int = Field(500, ge=1)
    spill_dir: Path | None = Field(
        None,
        description="where records wait on disk while the store is down; default: next to the SQLite file, "
        "or $ANYRAY_HOME/spill (~/.anyray/spill) for PostgreSQL",
    )
    spill_max_bytes: int = Field(
        64 * 1024 * 1024, ge=0, description="bound of the spill file; records beyond it are lost and counted"
    )
    retry_max_s: float = Field(30.0, gt=0, description="longest wait between two tries of a down store")

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, v: str | None) -> str | None:
        if v == "":  # `${ANYRAY_POSTGRES_URL}` where it is not set (the optimizer's container): unset
            return None
        if v is not None and not v.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("expected sqlite:///path/to/spend.db or postgresql://user@host:5432/db")
        return v


class AuthSettings(_Section):
    """Gateway keys (`anyray keys`), kept hashed in the spend store so every replica sees the same set."""

    required: bool | None = Field(
        None,
        description="true: every API call needs a gateway key; false: keys are never asked for; "
        "unset: asked for as soon as a key has been created (revoked ones count)",
    )
    refresh_s: float = Field(5.0, gt=0, description="how often a gateway re-reads the keys (revocations)")


BudgetPeriod = Literal["day", "week", "month"]


class Budget(_Section):
    """A spend limit in USD for one team or one key, over a calendar period (UTC)."""

    limit_usd: float = Field(gt=0, description="hard limit: past it, calls are refused before any upstream cost")
    soft_usd: float | None = Field(
        None, gt=0, description="soft limit: past it, answers carry anyray-budget-warning and a metric counts them"
    )
    period: BudgetPeriod = Field("month", description="day, week (from Monday) or month, in UTC; spend resets then")

    @model_validator(mode="after")
    def _soft_below_hard(self) -> Budget:
        if self.soft_usd is not None and self.soft_usd > self.limit_usd:
            raise ValueError(f"soft_usd ({self.soft_usd}) is above limit_usd ({self.limit_usd}): the soft limit "
                             "warns before the hard one refuses, so it must be lower")
        return self


def _key_ids(value: dict[str, Any]) -> dict[str, Any]:
    for name in value:
        if not re.fullmatch(r"key_[0-9a-f]{12}", name):
            raise ValueError(f"{name!r} is not a key id: expected key_ and 12 hex digits (see anyray keys list)")
    return value


class BudgetSettings(_Section):
    """Spend limits per team and per gateway key, counted from the spend store (docs/budgets.md)."""

    refresh_s: float = Field(
        5.0, gt=0, le=300, description="how often a gateway re-reads every replica's spend from the store; its own "
        "calls count at once. Other replicas' spend may go unseen this long: part of the overshoot bound")
    teams: dict[str, Budget] = Field(default_factory=dict, description="team name -> budget")
    keys: dict[str, Budget] = Field(default_factory=dict, description="key id (key_...) -> budget")

    _ids = field_validator("keys")(classmethod(lambda cls, v: _key_ids(v)))

    @property
    def any(self) -> bool:
        return bool(self.teams or self.keys)


class RateLimit(_Section):
    """Requests and tokens (input + output) per minute for one team or one key; unset: no limit."""

    rpm: int | None = Field(None, gt=0, description="requests per minute")
    tpm: int | None = Field(None, gt=0, description="input + output tokens per minute")


class RateLimitSettings(_Section):
    """Rate limits per team and per gateway key (docs/budgets.md#rate-limits)."""

    redis_url: str | None = Field(
        None, description="redis://host:port/db shared by every replica; unset: cache.url when it is redis://, else "
        "each gateway counts on its own (limits then hold per replica)")
    window_s: int = Field(
        60, ge=1, le=3600, description="the counting window; rpm and tpm are scaled to it (a shorter one spreads a "
        "minute's allowance out: rpm 60 with window_s 10 lets 10 requests through every 10 s)")
    teams: dict[str, RateLimit] = Field(default_factory=dict, description="team name -> limits")
    keys: dict[str, RateLimit] = Field(default_factory=dict, description="key id (key_...) -> limits")

    _ids = field_validator("keys")(classmethod(lambda cls, v: _key_ids(v)))

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, v: str | None) -> str | None:
        if not v:
            return None
        if not v.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("expected redis://host:port/db (or rediss://, unix://)")
        return v

    @property
    def any(self) -> bool:
        return any(limit.rpm or limit.tpm for limit in (*self.teams.values(), *self.keys.values()))


class PricingSettings(_Section):
    file: Path | None = Field(None, description="a price file (same shape as anyray/data/prices.yaml) to overlay")


class ProviderSettings(_Section):
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


class TranslateSettings(_Section):
    """How OpenAI-dialect requests are translated when the model map sends them to Claude (docs/openai.md)."""

    drop_params: bool = Field(
        False, description="drop OpenAI parameters Claude cannot honour (named in a header) instead of a 400"
    )
    default_max_tokens: int = Field(
        4096, gt=0, description="Claude requires max_tokens; this is sent when the client gave none"
    )


class Providers(_Section):
    anthropic: AnthropicSettings = Field(default_factory=AnthropicSettings)
    vertex: VertexSettings = Field(default_factory=VertexSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)


ProviderName = Literal["anthropic", "vertex", "openai"]


class ModelTarget(_Section):
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


class DeployResources(_Section):
    """Kubernetes requests/limits for the gateway (the optimizer gets the same)."""

    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    cpu_limit: str = "1"
    memory_limit: str = "512Mi"


class DeploySettings(_Section):
    """What `anyray render` and `anyray deploy` need beyond the runtime config (docs/deploy.md)."""

    image: str = Field(f"anyray:{__version__}", description="the image built from the Dockerfile")
    build_context: str | None = Field(None, description="compose: build the image from this source folder")
    publish_host: str = Field("127.0.0.1", description="compose: host address the gateway port is published on")
    namespace: str = "anyray"
    replicas: int = Field(2, ge=1, description="gateway replicas (the HPA minimum)")
    max_replicas: int = Field(6, ge=1)
    optimizer_replicas: int = Field(1, ge=1)
    project: str | None = None
    region: str = "us-central1"
    cluster: str = "anyray"
    gsa: str = Field("anyray-gateway", description="Google service account id (or full email) for Vertex")
    zone: str = Field("us-central1-a", description="gce: the VM's zone")
    vm: str = Field("anyray", description="gce: the VM's name")
    machine_type: str = Field("e2-medium", description="gce: the VM's machine type")
    litellm: bool = False
    litellm_image: str = Field(f"anyray-litellm:{__version__}", description="LiteLLM with anyray installed: "
                               "the Dockerfile's litellm stage (docker build --target litellm)")
    postgres: bool = False
    postgres_image: str = "postgres:17-alpine"
    redis: bool = False
    redis_image: str = "redis:7-alpine"
    resources: DeployResources = Field(default_factory=DeployResources)

    @field_validator("namespace")
    @classmethod
    def _namespace_shape(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", v):
            raise ValueError("expected a Kubernetes namespace name (lowercase letters, digits and '-')")
        return v

    @field_validator("vm")
    @classmethod
    def _vm_shape(cls, v: str) -> str:
        # the firewall rule and the network tag are named after it: both follow GCE's resource-name rule
        if not re.fullmatch(r"[a-z]([-a-z0-9]{0,53}[a-z0-9])?", v):
            raise ValueError("expected a Compute Engine name (a lowercase letter, then letters, digits and '-')")
        return v


class Config(_Section):
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


def secret_value(secret: SecretStr | None) -> str | None:
    """The secret without surrounding whitespace: a key pasted from a file or made with `echo ... | base64`
    often ends in a newline, which no API key has and no HTTP header may carry."""
    if secret is None:
        return None
    value = secret.get_secret_value().strip()
    return value or None


# ---------------------------------------------------------------------------------------------- loading

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand_env(value: Any, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: env.get(m.group(1), m.group(2) or ""), value)
    if isinstance(value, list):
        return [_expand_env(v, env) for v in value]
    if isinstance(value, dict):
        return {k: _expand_env(v, env) for k, v in value.items()}
    return value


def _apply_env_overrides(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name == CONFIG_ENV or "__" not in name:
            continue
        path = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            try:
                node[path[-1]] = yaml.safe_load(value) if value else value
            except yaml.YAMLError:
                node[path[-1]] = value


def _apply_conventional_env(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    """Fill in what the provider SDKs' own env vars already say, unless the config says otherwise."""
    providers = raw.setdefault("providers", {})
    if not isinstance(providers, dict):
        return
    vertex = providers.setdefault("vertex", {})
    if isinstance(vertex, dict):
        project = env.get("ANTHROPIC_VERTEX_PROJECT_ID") or env.get("GOOGLE_CLOUD_PROJECT")
        if project and not vertex.get("project"):
            vertex["project"] = project
        if env.get("CLOUD_ML_REGION") and "location" not in vertex:
            vertex["location"] = env["CLOUD_ML_REGION"]
    for name, default_env in (("anthropic", "ANTHROPIC_API_KEY"), ("openai", "OPENAI_API_KEY")):
        section = providers.setdefault(name, {})
        if isinstance(section, dict) and not section.get("api_key"):
            key = env.get(section.get("api_key_env") or default_env)
            if key:
                section["api_key"] = key


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of the YAML node at `loc`, for error messages a person can act on."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return None
    line = None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if k.value == str(key):
                    line, node = k.start_mark.line + 1, v
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
            line = node.start_mark.line + 1
        else:
            return line
    return line


def _describe(err: dict[str, Any]) -> str:
    if err["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see docs/configuration.md)"
    msg = err["msg"].replace("Input should be", "expected")
    value = err.get("input")
    if err["type"] != "missing" and not isinstance(value, dict | list):
        msg += f" (got {value!r})"
    return msg


def load_config(path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the file (if any), apply env overrides, validate; raise ConfigError naming the key."""
    env = os.environ if env is None else env
    path = path or env.get(CONFIG_ENV)
    text = ""
    source = "<defaults>"
    raw: Any = {}
    if path:
        p = Path(path)
        source = str(p)
        try:
            text = p.read_text()
        except OSError as exc:
            raise ConfigError(source, [("<file>", f"cannot read: {exc.strerror or exc}")]) from None
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else "<file>"
            raise ConfigError(source, [(where, f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
        if not isinstance(raw, dict):
            raise ConfigError(source, [("<top>", "expected a mapping of sections (gateway, providers, models...)")])
    raw = _expand_env(raw, env)
    _apply_env_overrides(raw, env)
    _apply_conventional_env(raw, env)
    try:
        config = Config.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = ".".join(str(p) for p in err["loc"])
            line = _line_of(text, err["loc"]) if text else None
            problems.append((f"{key}" + (f" (line {line})" if line else ""), _describe(err)))
        raise ConfigError(source, problems) from None
    config.source = source
    return config
