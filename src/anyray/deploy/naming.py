"""The names every deployment form agrees on, so `render`, `deploy` and `redirect` point at one thing."""

from __future__ import annotations

DEFAULT_NAMESPACE = "anyray"
GATEWAY_SERVICE = "anyray-gateway"
OPTIMIZER_SERVICE = "anyray-optimizer"
GATEWAY_PORT = 8787
OPTIMIZER_PORT = 8088

# Kubernetes service accounts: the gateway's carries the Workload Identity binding to the Google service
# account; the optimizer's has no cloud identity and mounts no token (it is credential-free by design).
GATEWAY_KSA = "anyray-gateway"
OPTIMIZER_KSA = "anyray-optimizer"
LITELLM_SERVICE = "anyray-litellm"
LITELLM_PORT = 4000
CONFIGMAP = "anyray-config"
LITELLM_CONFIGMAP = "anyray-litellm-config"
SECRET = "anyray-secrets"
# the optimizer's service token, alone in its own Secret: the optimizer, the gateway and LiteLLM all read it,
# and it is required (a pod without it does not start); `anyray deploy gke` generates it when it is missing
OPTIMIZER_TOKEN_SECRET = "anyray-optimizer-token"
OPTIMIZER_TOKEN_ENV = "ANYRAY_OPTIMIZER_TOKEN"


def gateway_cluster_url(namespace: str = DEFAULT_NAMESPACE, port: int = GATEWAY_PORT) -> str:
    """The gateway's in-cluster URL, what a redirected workload's ANTHROPIC_BASE_URL is set to."""
    return f"http://{GATEWAY_SERVICE}.{namespace}.svc.cluster.local:{port}"


def optimizer_cluster_url(namespace: str = DEFAULT_NAMESPACE, port: int = OPTIMIZER_PORT) -> str:
    return f"http://{OPTIMIZER_SERVICE}.{namespace}.svc.cluster.local:{port}"
