"""Helpers for the deployment tests: the CLI as a user runs it, configs, and the offline schemas.

Schemas come from packages, not the network: Kubernetes' OpenAPI schemas from `kubernetes-validate`
and the Compose specification's JSON Schema as vendored by `check-jsonschema`
(check_jsonschema/builtin_schemas/vendor/compose-spec.json, Apache-2.0, see LICENSE.compose-spec beside it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from anyray.config import Config, load_config

K8S_VERSION = kubernetes_validate.latest_version()  # the newest the package ships (1.37 when written)

# Secret values that must never appear in a rendered file, whatever the config holds.
SECRETS = {
    "anthropic": "sk-ant-api03-SECRET-in-config-file-000000000000000000000000000000-ZZZZ",
    "openai": "sk-proj-SECRET-from-environment-1111111111111111111111111111111",
    "postgres": "pg-SECRET-password-2222",
}

CONFIGS: dict[str, dict[str, Any]] = {
    "vertex-only": {
        "providers": {"vertex": {"project": "proj-a", "location": "us-east5"}, "anthropic": {"enabled": False}},
        "deploy": {"project": "proj-a", "image": "us-docker.pkg.dev/proj-a/anyray/anyray:0.1.0"},
    },
    "litellm": {
        "providers": {"vertex": {"project": "proj-b"}},
        "deploy": {"project": "proj-b", "litellm": True, "namespace": "llm-gw"},
    },
    "stores": {
        "providers": {
            "vertex": {"project": "proj-c", "credentials_file": "/home/me/keys/sa.json"},
            "anthropic": {"api_key": SECRETS["anthropic"]},
        },
        "deploy": {"project": "proj-c", "postgres": True, "redis": True, "replicas": 3, "max_replicas": 10},
    },
}


def config_for(name: str, tmp_path: Path, env: dict[str, str] | None = None) -> Config:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(CONFIGS[name]))
    return load_config(path, env=env if env is not None else {"OPENAI_API_KEY": SECRETS["openai"]})


@pytest.fixture(params=sorted(CONFIGS))
def config_name(request: pytest.FixtureRequest) -> str:
    return request.param


# ------------------------------------------------------------------------------------------- schemas


def validate_k8s(obj: dict[str, Any]) -> None:
    """Strict: unknown fields are errors too, so a misspelt key cannot pass."""
    kubernetes_validate.validate(obj, K8S_VERSION, strict=True)


def compose_schema() -> dict[str, Any]:
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    return json.loads(text)


def validate_compose(doc: dict[str, Any]) -> None:
    schema = compose_schema()
    jsonschema.validators.validator_for(schema)(schema).validate(doc)


# ---------------------------------------------------------------------------------------------- CLI


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANYRAY_", "ANTHROPIC_", "GOOGLE_", "OPENAI_"))}
    env.update(COLUMNS="200", NO_COLOR="1", TERM="dumb")
    env.update(extra)
    return env


def run_anyray(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60):
    return subprocess.run(
        [sys.executable, "-m", "anyray", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else clean_env(),
        cwd=cwd,
        timeout=timeout,
    )
