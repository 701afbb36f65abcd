"""Fixtures for `anyray redirect`: the fake Kubernetes API server on loopback and a kubeconfig for it.

The command under test configures the real `kubernetes` client from the kubeconfig file written here,
exactly as it would for a real cluster; nothing is injected.
"""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from anyray.cli import app
from tests.kit import ServerThread
from tests.kit.kube import FakeKubeAPI

TOKEN = "fake-bearer-token-for-redirect-tests"
GATEWAY = "http://gw.anyray.test:8787"


@pytest.fixture
def kube() -> Iterator[FakeKubeAPI]:
    api = FakeKubeAPI(token=TOKEN)
    with ServerThread(api.app) as server:
        api.url = server.url  # type: ignore[attr-defined]
        yield api


def write_kubeconfig(path: Path, server: str, namespace: str = "default") -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "tester", "user": {"token": TOKEN}}],
        "contexts": [
            {"name": "fake-ctx", "context": {"cluster": "fake", "user": "tester", "namespace": namespace}},
            {"name": "other-ctx", "context": {"cluster": "fake", "user": "tester", "namespace": "other"}},
        ],
        "current-context": "fake-ctx",
    }
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture
def kubeconfig(kube: FakeKubeAPI, tmp_path: Path) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", kube.url)  # type: ignore[attr-defined]


class Runner:
    """`anyray ...` in-process with KUBECONFIG pointing at the fake."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, input: str | None = None, kubeconfig: Path | None = None):
        env = {"KUBECONFIG": str(kubeconfig or self.kubeconfig), "COLUMNS": "240", "NO_COLOR": "1", "TERM": "dumb"}
        return CliRunner().invoke(app, list(args), input=input, env=env, catch_exceptions=False)


@pytest.fixture
def anyray(kubeconfig: Path) -> Runner:
    return Runner(kubeconfig)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def container(name: str, env: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    c: dict[str, Any] = {"name": name, "image": f"ghcr.io/acme/{name}:1.0", "ports": [{"containerPort": 8080}]}
    if env is not None:
        c["env"] = env
    return c


def workload(
    kind: str, name: str, containers: list[dict[str, Any]], namespace: str = "default", labels: dict | None = None
) -> dict[str, Any]:
    pod = {"metadata": {"labels": {"app": name}}, "spec": {"containers": copy.deepcopy(containers)}}
    meta = {"name": name, "namespace": namespace, "labels": labels or {"app": name}}
    if kind == "CronJob":
        spec: dict[str, Any] = {"schedule": "0 3 * * *", "jobTemplate": {"spec": {"template": pod}}}
        return {"apiVersion": "batch/v1", "kind": kind, "metadata": meta, "spec": spec}
    spec = {"selector": {"matchLabels": {"app": name}}, "template": pod}
    if kind != "DaemonSet":
        spec["replicas"] = 2
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": meta, "spec": spec}


def pod_containers(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj["spec"]
    if obj["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]["containers"]


def env_of(obj: dict[str, Any], name: str | None = None) -> dict[str, Any]:
    """name -> value (or the valueFrom dict) for one container (the first when not named)."""
    cs = pod_containers(obj)
    c = next(c for c in cs if name is None or c["name"] == name)
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}
