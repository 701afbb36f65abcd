"""`anyray deploy gke`: the gcloud and kubectl steps, each shown before it runs and safe to repeat.

The step machinery (look, then change only if missing; the first failure stops the run with its
command, its stderr and the fix) is `anyray.deploy.steps`, shared with `deploy gce`. The cluster side
is declarative (`kubectl apply`).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from anyray.config import Config
from anyray.deploy import naming
from anyray.deploy.render import ALERT_RULES, PROMETHEUS_RULE
from anyray.deploy.steps import (  # noqa: F401  (re-exported: the CLI and older callers use gke.*)
    PRIVATE_FILE,
    VERTEX_ROLE,
    Step,
    StepFailed,
    UnexpectedProbe,
    dry_run_lines,
    execute,
    exists,
    policy_has,
    vertex_identity,
)

WORKLOAD_IDENTITY_ROLE = "roles/iam.workloadIdentityUser"
ROLLOUT_TIMEOUT = "300s"


def _optimizer_token_env() -> str:
    return f"{naming.OPTIMIZER_TOKEN_ENV}={secrets.token_urlsafe(32)}\n"


@dataclass
class Target:
    project: str
    region: str
    cluster: str
    namespace: str
    gsa_email: str
    manifest_dir: Path
    litellm: bool

    @property
    def context(self) -> str:
        """The kubeconfig context `get-credentials` writes; named on every kubectl call so that nothing
        is ever applied to whichever cluster happened to be current."""
        return f"gke_{self.project}_{self.region}_{self.cluster}"

    @property
    def wi_member(self) -> str:
        return f"serviceAccount:{self.project}.svc.id.goog[{self.namespace}/{naming.GATEWAY_KSA}]"


def target_from(config: Config, manifest_dir: Path) -> Target:
    d = config.deploy
    if not d.project:
        raise ValueError("no project: pass --project or set deploy.project")
    email = d.gsa if "@" in d.gsa else f"{d.gsa}@{d.project}.iam.gserviceaccount.com"
    return Target(d.project, d.region, d.cluster, d.namespace, email, manifest_dir, d.litellm)


PROMETHEUS_RULE_CRD = "prometheusrules.monitoring.coreos.com"


def plan(t: Target) -> list[Step]:
    p = t.project
    kctx = ["--context", t.context]
    deployments = [naming.OPTIMIZER_SERVICE, naming.GATEWAY_SERVICE] + ([naming.LITELLM_SERVICE] if t.litellm else [])
    rollout_hint = (
        f"See why: kubectl --context {t.context} -n {t.namespace} get pods -l app.kubernetes.io/part-of=anyray, "
        "then kubectl describe / logs on a failing pod. Often the image cannot be pulled from the cluster "
        "(push it to Artifact Registry and pass --image)."
    )
    return [
        *vertex_identity(p, t.gsa_email, "anyray gateway (Vertex AI)"),
        Step(
            f"the gateway's Kubernetes service account {t.namespace}/{naming.GATEWAY_KSA} may act as it",
            ["gcloud", "iam", "service-accounts", "get-iam-policy", t.gsa_email, "--project", p, "--format", "json"],
            f"Needs roles/iam.serviceAccountAdmin on {t.gsa_email}; the cluster needs Workload Identity "
            f"(gcloud container clusters update {t.cluster} --location {t.region} --workload-pool={p}.svc.id.goog).",
            probe=policy_has(WORKLOAD_IDENTITY_ROLE, t.wi_member),
            then=[
                "gcloud", "iam", "service-accounts", "add-iam-policy-binding", t.gsa_email, "--project", p,
                "--role", WORKLOAD_IDENTITY_ROLE, "--member", t.wi_member, "--format", "none",
            ],
        ),
        Step(
            f"credentials for cluster {t.cluster}",
            ["gcloud", "container", "clusters", "get-credentials", t.cluster, "--location", t.region, "--project", p],
            f"Check the cluster name and region: gcloud container clusters list --project {p}. kubectl also needs "
            "the auth plugin: gcloud components install gke-gcloud-auth-plugin.",
        ),
        Step(
            "apply the manifests",
            ["kubectl", *kctx, "apply", "-f", str(t.manifest_dir)],
            f"kubectl could not apply: check that you may create these objects in namespace {t.namespace} "
            "(kubectl auth can-i create deployments -n NAMESPACE) and read the error above.",
        ),
        Step(
            "alerting rules, as a PrometheusRule where the cluster runs the Prometheus Operator",
            ["kubectl", *kctx, "get", "crd", PROMETHEUS_RULE_CRD, "-o", "name"],
            "kubectl could not read the cluster's CRDs or apply the PrometheusRule: check your permissions "
            "(kubectl auth can-i create prometheusrules -n NAMESPACE) and read the error above.",
            probe=exists,
            then=["kubectl", *kctx, "apply", "-f", str(t.manifest_dir / PROMETHEUS_RULE)],
            then_if="present",
            absent=f"load {t.manifest_dir / ALERT_RULES} into your Prometheus (rule_files) instead",
        ),
        Step(
            f"the optimizer's service token exists (Secret {naming.OPTIMIZER_TOKEN_SECRET}; generated if missing)",
            ["kubectl", *kctx, "-n", t.namespace, "get", "secret", naming.OPTIMIZER_TOKEN_SECRET, "-o", "name"],
            f"Creating it needs permission to create secrets in {t.namespace} "
            "(kubectl auth can-i create secrets -n NAMESPACE). The pods wait for it: none starts without it.",
            probe=exists,
            then=["kubectl", *kctx, "-n", t.namespace, "create", "secret", "generic", naming.OPTIMIZER_TOKEN_SECRET,
                  f"--from-env-file={PRIVATE_FILE}"],
            private_file=_optimizer_token_env,
        ),
        *(
            Step(
                f"wait for {name}",
                ["kubectl", *kctx, "-n", t.namespace, "rollout", "status", f"deployment/{name}",
                 "--timeout", ROLLOUT_TIMEOUT],
                rollout_hint,
            )
            for name in deployments
        ),
    ]  # fmt: skip

