"""Cluster access for `anyray redirect`, through the official Kubernetes Python client.

The client is configured from the user's kubeconfig (`--kubeconfig`, `KUBECONFIG`, `~/.kube/config`)
and context, so whatever that kubeconfig does to authenticate (tokens, client certificates, exec
plugins such as `gke-gcloud-auth-plugin`) works unchanged. Objects travel as plain JSON dicts
(`_preload_content=False`), never through the client's models, so what is read is exactly what the
API server sent. Every failure becomes a `KubeError` whose message is a sentence naming what to fix.
"""

from __future__ import annotations

import json
import os
from typing import Any

import yaml

from anyray.deploy.kinds import KINDS, Kind, KubeError, kind_named, parse_kind
from anyray.extras import MissingExtra

try:  # the [k8s] extra
    import urllib3
    from kubernetes import client as k8s
    from kubernetes import config as k8s_config
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config.config_exception import ConfigException
except ImportError as exc:
    raise MissingExtra("k8s", exc.name or "kubernetes", "anyray redirect on a cluster") from None

__all__ = ["KINDS", "Cluster", "Kind", "KubeError", "kind_named", "parse_kind"]

STRATEGIC_MERGE = "application/strategic-merge-patch+json"
TIMEOUT = (10, 60)  # connect, read: an unreachable cluster fails in seconds, not minutes


class Cluster:
    """One kubeconfig context: get, list and patch the workload kinds, errors as sentences."""

    def __init__(self, context: str | None = None, kubeconfig: str | None = None) -> None:
        # resolved here, not by the client (which reads KUBECONFIG once, when it is imported)
        kubeconfig = kubeconfig or os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")
        try:
            contexts, active = k8s_config.list_kube_config_contexts(config_file=kubeconfig)
        except (ConfigException, yaml.YAMLError, TypeError, KeyError, AttributeError, ValueError) as exc:
            raise KubeError(_no_kubeconfig(kubeconfig, exc)) from None
        except OSError as exc:
            raise KubeError(f"cannot read kubeconfig {kubeconfig}: {exc.strerror}") from None
        names = [c["name"] for c in contexts or []]
        if context is not None and context not in names:
            raise KubeError(f"context {context!r} is not in the kubeconfig (it has: {', '.join(names) or 'none'})")
        chosen = next((c for c in contexts if c["name"] == context), active) if context else active
        if not chosen:
            raise KubeError("the kubeconfig has no current context; pass --context NAME")
        self.context: str = chosen["name"]
        self.user: str = (chosen.get("context") or {}).get("user", "")
        self.default_namespace: str = (chosen.get("context") or {}).get("namespace") or "default"
        configuration = k8s.Configuration()
        try:
            k8s_config.load_kube_config(
                config_file=kubeconfig, context=self.context, client_configuration=configuration
            )
        except ConfigException as exc:
            raise KubeError(f"kubeconfig context {self.context!r} cannot be used: {exc}") from None
        except Exception as exc:  # exec plugins fail in their own ways (missing binary, expired login)
            raise KubeError(f"kubeconfig context {self.context!r} could not produce credentials: {exc}") from None
        configuration.retries = 1
        self.host: str = configuration.host
        self.api = k8s.ApiClient(configuration)

    # -- operations --------------------------------------------------------------------------------------

    def get(self, kind: Kind, name: str, namespace: str) -> dict[str, Any]:
        return self._call("get", kind, namespace, name, "read", name, namespace)

    def list(self, kind: Kind, namespace: str, selector: str) -> list[dict[str, Any]]:
        body = self._call("list", kind, namespace, None, "list", namespace, label_selector=selector)
        items = body.get("items") or []
        for item in items:  # the API server leaves these off list items
            item.setdefault("apiVersion", kind.api_version)
            item.setdefault("kind", kind.name)
        return items

    def patch(self, kind: Kind, name: str, namespace: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("patch", kind, namespace, name, "patch", name, namespace, body, _content_type=STRATEGIC_MERGE)

    def close(self) -> None:
        self.api.close()

    # -- plumbing ----------------------------------------------------------------------------------------

    def _call(self, verb: str, kind: Kind, namespace: str, name: str | None, op: str, *args: Any, **kw: Any) -> Any:
        api = k8s.AppsV1Api(self.api) if kind.group == "apps" else k8s.BatchV1Api(self.api)
        method = getattr(api, f"{op}_namespaced_{kind.method}")
        try:
            response = method(*args, _preload_content=False, _request_timeout=TIMEOUT, **kw)
            return json.loads(response.data)
        except ApiException as exc:
            raise KubeError(self._api_error(exc, verb, kind, namespace, name)) from None
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise KubeError(
                f"cannot reach the cluster at {self.host} (context {self.context}): {_short(reason)}; "
                "check the network/VPN and that the cluster is running"
            ) from None

    def _api_error(self, exc: ApiException, verb: str, kind: Kind, namespace: str, name: str | None) -> str:
        where = f"in namespace {namespace} (context {self.context})"
        server = _status_message(exc)
        what = f"{kind.name.lower()}/{name}" if name else f"{kind.plural}"
        if exc.status == 404:
            return f"{what} not found {where}"
        if exc.status == 403:
            return (
                f"forbidden: RBAC must allow verb {verb!r} on resource {kind.resource!r} {where} "
                f"for kubeconfig user {self.user or '?'}" + (f" (the server said: {server})" if server else "")
            )
        if exc.status == 409:
            return f"{what} changed {where} while anyray was working on it (409 Conflict); run the command again"
        if exc.status == 401:
            return (
                f"the cluster rejected the credentials of context {self.context} (401 Unauthorized); "
                "refresh them (for GKE: gcloud auth login, then gcloud container clusters get-credentials)"
            )
        return f"{verb} {what} {where} failed: HTTP {exc.status} {server or exc.reason}"


def _status_message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "").get("message", ""))
    except (ValueError, AttributeError):
        return (exc.body or "").strip()[:300]


def _short(reason: Any) -> str:
    text = str(reason)
    return text.split(": ", 1)[-1] if "Connection" in text and ": " in text else text


def _no_kubeconfig(path: str, exc: Exception) -> str:
    missing = not any(os.path.exists(os.path.expanduser(p)) for p in path.split(os.pathsep) if p)
    problem = "not found" if missing else f"unusable: {exc}"
    return (
        f"no usable kubeconfig at {path} ({problem}); get one with your cluster's tool (for GKE: "
        "gcloud container clusters get-credentials NAME), or pass --kubeconfig PATH"
    )
