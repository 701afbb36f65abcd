"""Loading: the YAML file, then environment overrides, then validation, with errors that name the key."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from anyray.config.base import ConfigError
from anyray.config.root import Config

CONFIG_ENV = "ANYRAY_CONFIG"
ENV_PREFIX = "ANYRAY_"

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
