"""Render the Compose and GKE templates from the same config `anyray up` reads.

The templates live in `anyray/templates/{compose,gke,litellm}` inside the wheel. What they get is the
config as the containers must see it: listening on 0.0.0.0, the optimizer reached over HTTP, and every
secret removed. A secret never goes into a rendered file: the containers read it from an env file
(Compose) or a Kubernetes Secret (GKE) under the variable the config names (`api_key_env`).

Writing is careful about a person's edits: a record of what was last written (`.anyray-render`)
tells a file we wrote and nobody touched (safe to replace or remove) from one somebody changed
(refused without `force`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import yaml
from jinja2 import Environment, PackageLoader, StrictUndefined
from pydantic import BaseModel, SecretStr

from anyray.config import Config, load_config
from anyray.deploy import naming
from anyray.providers import PROVIDERS

Target = Literal["compose", "gke", "litellm", "gce"]
ALERTS_DIR = "alerts"
ALERT_RULES = f"{ALERTS_DIR}/anyray.rules.yaml"  # a Prometheus rule file (groups:)
PROMETHEUS_RULE = f"{ALERTS_DIR}/prometheusrule.yaml"  # the same, for the Prometheus Operator
TARGETS: tuple[Target, ...] = ("compose", "gke", "litellm", "gce")
# No .json/.yaml extension: `kubectl apply -f DIR` reads those, and this file is not a manifest.
RECORD = ".anyray-render"

# Where things live inside the image and the containers.
CONFIG_DIR = "/etc/anyray"
CONFIG_PATH = f"{CONFIG_DIR}/anyray.yaml"
DATA_DIR = "/var/lib/anyray"
KEY_FILE_PATH = "/var/run/secrets/anyray/vertex-key.json"  # a provider key file, mounted (Compose)
LITELLM_CONFIG_DIR = "/etc/litellm"
RUN_AS = 10001  # the image's non-root user (Dockerfile)


@dataclass
class Rendered:
    """The files of one target (relative POSIX path -> text) and what a person should know about them."""

    target: Target
    files: dict[str, str]
    warnings: list[str] = field(default_factory=list)
    secret_env: list[str] = field(default_factory=list)
    routes: list[str] = field(default_factory=list)  # the effective model map, a line per route


# ---------------------------------------------------------------------------------------- the config


def parse_sets(sets: Iterable[str]) -> dict[str, str]:
    """`--set deploy.replicas=3` -> `ANYRAY_DEPLOY__REPLICAS=3`: the config's own override path, so the
    values are read as YAML and errors name the dotted key exactly like every other config error."""
    env: dict[str, str] = {}
    for item in sets:
        key, sep, value = item.partition("=")
        parts = key.strip().split(".")
        if not sep or not all(p.strip() for p in parts):
            raise ValueError(f"--set {item!r}: expected key=value with a dotted key, e.g. deploy.replicas=3")
        env["ANYRAY_" + "__".join(p.strip().upper() for p in parts)] = value
    return env


def load_for_render(path: str | os.PathLike[str] | None, sets: Iterable[str] = ()) -> Config:
    """The config `anyray up` would load, with `--set` overrides winning over the environment."""
    return load_config(path, env={**os.environ, **parse_sets(sets)})


def routing_table(config: Config) -> list[str]:
    """What each model a client asks for goes to, fallbacks included, as render and deploy print it."""
    width = max((len(asked) for asked in config.model_map()), default=0)
    lines = []
    for asked, route in config.model_map().items():
        fallbacks = ", ".join(f"{t.key}:{t.model}" for t in route.fallbacks)
        then = f"  (then {fallbacks})" if fallbacks else ""
        lines.append(f"{asked:<{width}}  -> {route.key}:{route.model}{then}")
    return lines


def _public(value: Any) -> Any:
    """A plain-data copy of a config value with every secret and every unset key left out."""
    if isinstance(value, BaseModel):
        out = {}
        for name, info in type(value).model_fields.items():
            if info.exclude:
                continue
            item = getattr(value, name)
            if item is None or isinstance(item, SecretStr):
                continue
            out[name] = _public(item)
        return out
    if isinstance(value, dict):
        return {k: _public(v) for k, v in value.items() if v is not None and not isinstance(v, SecretStr)}
    if isinstance(value, list | tuple):
        return [_public(v) for v in value]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def runtime_config(config: Config, target: Target) -> tuple[dict[str, Any], list[str]]:
    """The config the containers load: secrets out, servers on 0.0.0.0, the optimizer over HTTP."""
    warnings: list[str] = []
    data = _public(config)
    data.pop("deploy", None)
    deploy = config.deploy
    data["gateway"] |= {"host": "0.0.0.0", "port": naming.GATEWAY_PORT}
    optimizer_url = (
        f"http://optimizer:{naming.OPTIMIZER_PORT}"
        if target == "compose"
        else naming.optimizer_cluster_url(deploy.namespace)
    )
    data["optimizer"] |= {"host": "0.0.0.0", "port": naming.OPTIMIZER_PORT, "url": optimizer_url}
    # The routes the config resolves to here, written out: the containers route exactly as `anyray up`
    # would with this config, whichever provider variables their environment happens to hold.
    data["models"] = {asked: _public(route) for asked, route in config.model_map().items()}
    # the stores the deployment runs are the ones it uses, unless the config names others: the containers
    # get the URLs as variables (compose: the services' addresses; GKE: keys of the Secret)
    if deploy.postgres and not config.store.url:
        data["store"]["url"] = "${ANYRAY_POSTGRES_URL}"
    if deploy.redis and config.cache.url == "memory://":
        data["cache"]["url"] = "${ANYRAY_REDIS_URL}"
    secret_home = "anyray.env" if target == "compose" else "the Secret " + naming.SECRET
    for name, cls in PROVIDERS.items():
        warnings += cls.for_containers(cls.settings_of(config), data["providers"][name], target, deploy.project,
                                       KEY_FILE_PATH, secret_home)
    if target == "gke" and not deploy.project and "@" not in deploy.gsa:
        warnings.append(
            "deploy.project is unset: the Workload Identity annotation names PROJECT_ID (--set deploy.project=P)"
        )
    if target == "gke" and deploy.litellm and "/" not in deploy.litellm_image.split(":")[0]:
        warnings.append(
            f"image {deploy.litellm_image} names no registry: build it (docker build --target litellm), push it and "
            "set deploy.litellm_image to where the cluster pulls it"
        )
    if target == "gke" and "/" not in deploy.image.split(":")[0]:
        warnings.append(
            f"image {deploy.image} names no registry, so the cluster can only run it if its nodes already have it: "
            "push it to Artifact Registry and set it with --image (deploy gke) or --set deploy.image= (render): "
            "REGION-docker.pkg.dev/PROJECT/REPO/anyray:TAG"
        )
    if target == "gke" and deploy.replicas > 1 and not deploy.postgres:
        warnings.append(
            f"{deploy.replicas} gateway replicas without deploy.postgres: each replica keeps its own spend records"
        )
    return data, warnings


def secret_env_names(config: Config) -> list[str]:
    """The variables the containers expect from the env file / Secret: names only, never values."""
    names = [env for cls in PROVIDERS.values() if (env := cls.key_env(cls.settings_of(config)))]
    # the console's cookie key, so every gateway replica accepts every login. The optimizer's service token is
    # not here: it has a file (optimizer.env) and a Secret (anyray-optimizer-token) of its own, which the
    # optimizer, the gateway and LiteLLM all read and none may start without
    names += ["ANYRAY_CONSOLE_SECRET"]
    if config.deploy.litellm:
        names.append("LITELLM_MASTER_KEY")
    return names


# ------------------------------------------------------------------------------------------ templates


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("anyray", "templates"),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    # Every interpolated scalar goes through `q`: a JSON string is a valid YAML scalar, so no value
    # from the config can break a manifest's structure (a ':' or '#' in an image name, say).
    env.filters["q"] = lambda v: json.dumps(v)
    return env


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _host_path(path: Path | None) -> str:
    """A host file for a Compose bind mount: absolute, since Compose reads relative paths from its folder."""
    return os.path.abspath(os.path.expanduser(path)) if path else ""


def _key_file(config: Config) -> Path | None:
    """The one provider credentials file a Compose container mounts (a Vertex service-account key)."""
    return next((f for cls in PROVIDERS.values() if (f := cls.key_file(cls.settings_of(config)))), None)


def _gsa_email(config: Config) -> str:
    gsa = config.deploy.gsa
    if "@" in gsa:
        return gsa
    return f"{gsa}@{config.deploy.project or 'PROJECT_ID'}.iam.gserviceaccount.com"


def litellm_models(config: Config) -> list[dict[str, Any]]:
    """LiteLLM `model_list` entries for the model map: the same upstreams, LiteLLM's names for them.
    Keys stay in the environment (`os.environ/...`); Vertex signs with the pod's Workload Identity."""
    out = []
    for asked, route in config.model_map().items():
        cls = PROVIDERS[route.provider]
        params = cls.litellm_params(cls.settings_of(config), route.model.replace("{model}", asked))
        out.append({"model_name": asked, "litellm_params": params})
    return out


def render(target: Target, config: Config) -> Rendered:
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}: expected one of {', '.join(TARGETS)}")
    if target == "gce":  # the compose stack, made to run on one VM
        from anyray.deploy.gce_render import render_gce

        return render_gce(config)
    config = config.for_deployment()
    runtime, warnings = runtime_config(config, target)
    config_yaml = _dump(runtime)
    deploy = config.deploy
    litellm_yaml = (
        _env()
        .get_template("litellm/config.yaml.j2")
        .render(optimizer_url=runtime["optimizer"]["url"], models=litellm_models(config))
    )
    ctx = {
        "d": deploy,
        "n": naming,
        "config_yaml": config_yaml,
        "config_digest": _digest(config_yaml),
        "litellm_yaml": litellm_yaml,
        "litellm_digest": _digest(litellm_yaml),
        "config_path": CONFIG_PATH,
        "config_dir": CONFIG_DIR,
        "data_dir": DATA_DIR,
        "litellm_config_dir": LITELLM_CONFIG_DIR,
        "run_as": RUN_AS,
        "secret_env": secret_env_names(config),
        "key_file": _host_path(_key_file(config)) if target == "compose" else "",
        "key_file_path": KEY_FILE_PATH,
        "gsa_email": _gsa_email(config),
        "gateway_url": naming.gateway_cluster_url(deploy.namespace),
        "optimizer_url": runtime["optimizer"]["url"],
        "profiles": [p for p in ("litellm", "postgres", "redis") if getattr(deploy, p)],
    }
    env = _env()
    files: dict[str, str] = {}
    if target == "litellm":
        files["config.yaml"] = litellm_yaml
    elif target == "compose":
        files["compose.yaml"] = env.get_template("compose/compose.yaml.j2").render(ctx)
        files["anyray.yaml"] = config_yaml
        files["anyray.env.example"] = env.get_template("compose/anyray.env.example.j2").render(ctx)
        files["optimizer.env.example"] = env.get_template("compose/optimizer.env.example.j2").render(ctx)
        if deploy.postgres:
            files["postgres.env.example"] = env.get_template("compose/postgres.env.example.j2").render(ctx)
        files[".env"] = env.get_template("compose/dotenv.j2").render(ctx)
        files["litellm/config.yaml"] = litellm_yaml
    else:
        for name in (
            "00-namespace",
            "10-serviceaccounts",
            "20-configmap",
            "30-optimizer",
            "40-gateway",
            "50-networkpolicy",
            "60-gateway-scaling",
        ):
            files[f"{name}.yaml"] = env.get_template(f"gke/{name}.yaml.j2").render(ctx)
        if deploy.litellm:
            files["70-litellm.yaml"] = env.get_template("gke/70-litellm.yaml.j2").render(ctx)
        # alerting rules: a plain rule file for any Prometheus, and the same as a PrometheusRule that `deploy
        # gke` applies only where the Prometheus Operator's CRD exists (not in the folder `kubectl apply` takes)
        rules = env.get_template("alerts/rules.yaml.j2").render()
        files[ALERT_RULES] = rules
        files[PROMETHEUS_RULE] = env.get_template("alerts/prometheusrule.yaml.j2").render({**ctx, "rules": rules})
    return Rendered(target, files, warnings, ctx["secret_env"], routing_table(config))


def manifests(rendered: Rendered) -> list[dict[str, Any]]:
    """Every Kubernetes object `kubectl apply -f DIR` applies from a GKE rendering, in apply order (the
    alerts/ folder is applied apart, where the cluster has its CRD)."""
    return [doc for name in sorted(rendered.files) if not name.startswith(ALERTS_DIR + "/")
            for doc in yaml.safe_load_all(rendered.files[name]) if doc]


# -------------------------------------------------------------------------------------------- writing


class Conflict(Exception):
    """Files somebody changed since anyray wrote them; replacing them would lose their edits."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = paths
        super().__init__("changed since anyray wrote them: " + ", ".join(str(p) for p in paths))


@dataclass
class WriteResult:
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)


def _sha(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()


def write(rendered: Rendered, out_dir: Path, force: bool = False) -> WriteResult:
    """Write the files; replace or remove only what anyray wrote and nobody changed, unless `force`."""
    out_dir = Path(out_dir)
    record_path = out_dir / RECORD
    try:
        record: dict[str, str] = json.loads(record_path.read_text()).get("files", {})
    except (OSError, ValueError, AttributeError):
        record = {}

    def untouched(rel: str) -> bool:
        path = out_dir / rel
        return not path.exists() or record.get(rel) == _sha(path.read_bytes())

    stale = [rel for rel in record if rel not in rendered.files and (out_dir / rel).exists()]
    conflicts = []
    for rel, text in rendered.files.items():
        path = out_dir / rel
        if path.exists() and path.read_bytes() != text.encode() and not untouched(rel):
            conflicts.append(path)
    conflicts += [out_dir / rel for rel in stale if not untouched(rel)]
    if conflicts and not force:
        raise Conflict(conflicts)

    result = WriteResult()
    new_record = {}
    for rel, text in rendered.files.items():
        assert not PurePosixPath(rel).is_absolute() and ".." not in PurePosixPath(rel).parts
        path = out_dir / rel
        data = text.encode()
        new_record[rel] = _sha(data)
        if path.exists() and path.read_bytes() == data:
            result.unchanged.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        result.written.append(path)
    for rel in stale:
        (out_dir / rel).unlink()
        result.removed.append(out_dir / rel)
    record_path.write_text(json.dumps({"target": rendered.target, "files": new_record}, indent=2) + "\n")
    return result


def env_file_lines(names: Iterable[str], environ: Mapping[str, str]) -> list[str]:
    """`NAME=value` for the names the environment holds: what `up --compose` puts in anyray.env."""
    return [f"{name}={environ[name]}" for name in names if environ.get(name)]
