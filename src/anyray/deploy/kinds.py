"""The workload kinds `anyray redirect` changes, by the names the API and kubectl use (no client needed)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    """A workload kind redirect can change: how the API names it and which client methods serve it."""

    name: str  # Deployment
    plural: str  # deployments
    group: str  # apps
    version: str  # v1
    method: str  # deployment, as in read_namespaced_deployment
    aliases: tuple[str, ...]

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def resource(self) -> str:
        return f"{self.plural}.{self.group}"


KINDS = (
    Kind("Deployment", "deployments", "apps", "v1", "deployment", ("deployment", "deployments", "deploy")),
    Kind("StatefulSet", "statefulsets", "apps", "v1", "stateful_set", ("statefulset", "statefulsets", "sts")),
    Kind("DaemonSet", "daemonsets", "apps", "v1", "daemon_set", ("daemonset", "daemonsets", "ds")),
    Kind("CronJob", "cronjobs", "batch", "v1", "cron_job", ("cronjob", "cronjobs", "cj")),
)


class KubeError(Exception):
    """A cluster problem, as a sentence: what failed, where (namespace, context), what would fix it."""


def parse_kind(text: str) -> Kind:
    wanted = text.lower().split(".")[0]
    for kind in KINDS:
        if wanted in kind.aliases or wanted == kind.name.lower():
            return kind
    names = ", ".join(k.name.lower() for k in KINDS)
    raise KubeError(f"anyray redirect changes {names}; {text!r} is not one of them")


def kind_named(name: str) -> Kind:
    return next(k for k in KINDS if k.name == name)
