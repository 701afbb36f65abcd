"""`anyray deploy gke`: the gcloud and kubectl steps, each shown before it runs and safe to repeat.

Every cloud-side change is "look, then change only if missing": a describe (or get-iam-policy) runs
first and the create (or add-binding) only when the thing is not there yet, so a second run changes
nothing. The cluster side is declarative (`kubectl apply`). The first step that fails stops the run
with its command, its stderr and a hint at the usual cause.
"""

from __future__ import annotations

import json
import secrets
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from anyray.config import Config
from anyray.deploy import naming

VERTEX_ROLE = "roles/aiplatform.user"
WORKLOAD_IDENTITY_ROLE = "roles/iam.workloadIdentityUser"
ROLLOUT_TIMEOUT = "300s"

Run = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]
# Where a create's argv names the private file `Step.private_file` writes: the file exists only while that one
# command runs, so a generated secret is never in an argv, a printed command, a log or the manifests' folder.
PRIVATE_FILE = "<new-private-file>"


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


@dataclass
class Step:
    """One external command. With `probe`, it only looks: `probe(result)` says whether the thing exists,
    and `then` (the create) runs only when it does not."""

    title: str
    argv: list[str]
    hint: str
    probe: Callable[[subprocess.CompletedProcess[str]], bool] | None = None
    then: list[str] | None = None
    private_file: Callable[[], str] | None = None  # the content of the file `then` names as PRIVATE_FILE

    def shown(self) -> str:
        return shlex.join(self.argv)


def _optimizer_token_env() -> str:
    return f"{naming.OPTIMIZER_TOKEN_ENV}={secrets.token_urlsafe(32)}\n"


class StepFailed(Exception):
    def __init__(self, step: Step, argv: list[str], result: subprocess.CompletedProcess[str]) -> None:
        self.step = step
        self.argv = argv
        self.result = result
        super().__init__(f"{step.title}: {shlex.join(argv)} exited {result.returncode}")


class UnexpectedProbe(Exception):
    """A describe failed for a reason other than 'not found' (no login, no permission, API off)."""


def _not_found(result: subprocess.CompletedProcess[str]) -> bool:
    text = result.stderr.lower()
    return any(s in text for s in ("not_found", "not found", "does not exist", "notfound"))


def _exists(result: subprocess.CompletedProcess[str]) -> bool:
    if result.returncode == 0:
        return True
    if _not_found(result):
        return False
    raise UnexpectedProbe


def _policy_has(role: str, member: str) -> Callable[[subprocess.CompletedProcess[str]], bool]:
    def check(result: subprocess.CompletedProcess[str]) -> bool:
        if result.returncode != 0:
            raise UnexpectedProbe
        try:
            policy = json.loads(result.stdout or "{}")
        except ValueError:
            raise UnexpectedProbe from None
        return any(b.get("role") == role and member in b.get("members", []) for b in policy.get("bindings", []))

    return check


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


def plan(t: Target) -> list[Step]:
    p = t.project
    iam_hint = (
        f"Are you logged in (gcloud auth login) as someone who may manage service accounts on {p} "
        f"(roles/iam.serviceAccountAdmin)? Is the IAM API on (gcloud services enable iam.googleapis.com --project {p})?"
    )
    kctx = ["--context", t.context]
    deployments = [naming.OPTIMIZER_SERVICE, naming.GATEWAY_SERVICE] + ([naming.LITELLM_SERVICE] if t.litellm else [])
    rollout_hint = (
        f"See why: kubectl --context {t.context} -n {t.namespace} get pods -l app.kubernetes.io/part-of=anyray, "
        "then kubectl describe / logs on a failing pod. Often the image cannot be pulled from the cluster "
        "(push it to Artifact Registry and pass --image)."
    )
    return [
        Step(
            f"Google service account {t.gsa_email} exists",
            ["gcloud", "iam", "service-accounts", "describe", t.gsa_email, "--project", p, "--format", "json"],
            iam_hint,
            probe=_exists,
            then=[
                "gcloud", "iam", "service-accounts", "create", t.gsa_email.split("@")[0], "--project", p,
                "--display-name", "anyray gateway (Vertex AI)",
            ],
        ),
        Step(
            f"it may call Vertex AI ({VERTEX_ROLE} on {p})",
            ["gcloud", "projects", "get-iam-policy", p, "--format", "json"],
            f"Changing the project's IAM policy needs roles/resourcemanager.projectIamAdmin on {p}.",
            probe=_policy_has(VERTEX_ROLE, f"serviceAccount:{t.gsa_email}"),
            then=[
                "gcloud", "projects", "add-iam-policy-binding", p, "--member", f"serviceAccount:{t.gsa_email}",
                "--role", VERTEX_ROLE, "--condition=None", "--format", "none",
            ],
        ),
        Step(
            f"the gateway's Kubernetes service account {t.namespace}/{naming.GATEWAY_KSA} may act as it",
            ["gcloud", "iam", "service-accounts", "get-iam-policy", t.gsa_email, "--project", p, "--format", "json"],
            f"Needs roles/iam.serviceAccountAdmin on {t.gsa_email}; the cluster needs Workload Identity "
            f"(gcloud container clusters update {t.cluster} --location {t.region} --workload-pool={p}.svc.id.goog).",
            probe=_policy_has(WORKLOAD_IDENTITY_ROLE, t.wi_member),
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
            f"the optimizer's service token exists (Secret {naming.OPTIMIZER_TOKEN_SECRET}; generated if missing)",
            ["kubectl", *kctx, "-n", t.namespace, "get", "secret", naming.OPTIMIZER_TOKEN_SECRET, "-o", "name"],
            f"Creating it needs permission to create secrets in {t.namespace} "
            "(kubectl auth can-i create secrets -n NAMESPACE). The pods wait for it: none starts without it.",
            probe=_exists,
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


def dry_run_lines(steps: list[Step]) -> list[str]:
    lines = []
    for i, step in enumerate(steps, 1):
        lines.append(f"# {i}. {step.title}")
        lines.append(f"$ {step.shown()}")
        if step.then:
            lines.append(f"$ {shlex.join(step.then)}   # only if missing")
    return lines


def execute(steps: list[Step], echo: Callable[[str], None], run: Run = _run) -> None:
    """Run the plan in order, showing each command first; raise StepFailed at the first failure."""
    for i, step in enumerate(steps, 1):
        echo(f"# {i}. {step.title}")
        echo(f"$ {step.shown()}")
        result = run(step.argv)
        if step.probe is not None:
            try:
                present = step.probe(result)
            except UnexpectedProbe:
                raise StepFailed(step, step.argv, result) from None
            if present:
                echo("  already there")
                continue
            assert step.then is not None
            echo(f"$ {shlex.join(step.then)}")
            result = _run_then(step, run)
            if result.returncode != 0:
                raise StepFailed(step, step.then, result)
            echo("  done")
            continue
        if result.returncode != 0:
            raise StepFailed(step, step.argv, result)
        for line in (result.stdout or "").strip().splitlines():
            echo(f"  {line}")


def _run_then(step: Step, run: Run) -> subprocess.CompletedProcess[str]:
    """The create, with PRIVATE_FILE replaced by a file only this user can read, gone once the command ran."""
    assert step.then is not None
    if step.private_file is None:
        return run(step.then)
    with tempfile.TemporaryDirectory(prefix="anyray-") as folder:  # mode 0700
        path = Path(folder) / "secret.env"
        path.touch(mode=0o600)
        path.write_text(step.private_file())
        return run([arg.replace(PRIVATE_FILE, str(path)) for arg in step.then])
