"""The names every deployment form agrees on, so `render`, `deploy` and `redirect` point at one thing."""

from __future__ import annotations

DEFAULT_NAMESPACE = "anyray"
GATEWAY_SERVICE = "anyray-gateway"
OPTIMIZER_SERVICE = "anyray-optimizer"
GATEWAY_PORT = 8787
OPTIMIZER_PORT = 8088


def gateway_cluster_url(namespace: str = DEFAULT_NAMESPACE, port: int = GATEWAY_PORT) -> str:
    """The gateway's in-cluster URL, what a redirected workload's ANTHROPIC_BASE_URL is set to."""
    return f"http://{GATEWAY_SERVICE}.{namespace}.svc.cluster.local:{port}"


def optimizer_cluster_url(namespace: str = DEFAULT_NAMESPACE, port: int = OPTIMIZER_PORT) -> str:
    return f"http://{OPTIMIZER_SERVICE}.{namespace}.svc.cluster.local:{port}"
