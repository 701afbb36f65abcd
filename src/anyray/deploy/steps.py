"""The numbered plan `anyray deploy gke` and `deploy gce` run: steps shown before they run, safe to repeat.

Every cloud-side change is "look, then change only if missing": a describe (or get-iam-policy) runs
first and the create (or add-binding) only when the thing is not there yet, so a second run changes
nothing. The first step that fails stops the run with its command, the tool's own stderr and the fix:
one read from that stderr when it names a known cause (an API that is off, a permission that is
missing), else the step's own hint at the usual cause.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

VERTEX_ROLE = "roles/aiplatform.user"

Run = Callable[[Sequence[str]], subprocess.CompletedProcess[str]]
# Where a create's argv names the private file `Step.private_file` writes: the file exists only while that one
# command runs, so a generated secret is never in an argv, a printed command, a log or the manifests' folder.
PRIVATE_FILE = "<new-private-file>"


def _run(argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=False)


@dataclass
class Step:
    """One external command. With `probe`, it only looks: `probe(result)` says whether the thing exists,
    and `then` (the create) runs only when it does not. With `capture`, its stdout is kept under that name."""

    title: str
    argv: list[str]
    hint: str
    probe: Callable[[subprocess.CompletedProcess[str]], bool] | None = None
    then: list[str] | None = None
    private_file: Callable[[], str] | None = None  # the content of the file `then` names as PRIVATE_FILE
    capture: str | None = None
    # `then` runs when the probe finds the thing missing (a create); with "present", when it finds it there
    # (an apply that needs something the cluster may not have, e.g. a CRD), and `absent` says what then
    then_if: str = "missing"
    absent: str = ""

    def shown(self) -> str:
        return shlex.join(self.argv)


class StepFailed(Exception):
    def __init__(self, step: Step, argv: list[str], result: subprocess.CompletedProcess[str]) -> None:
        self.step = step
        self.argv = argv
        self.result = result
        super().__init__(f"{step.title}: {shlex.join(argv)} exited {result.returncode}")

    @property
    def fix(self) -> str:
        """What to do: the known cause gcloud's message names, else the step's hint."""
        return diagnose(self.result.stderr or "", self.argv) or self.step.hint


class UnexpectedProbe(Exception):
    """A describe failed for a reason other than 'not found' (no login, no permission, API off)."""


# ------------------------------------------------------------------------------------ gcloud's messages

_API_OFF = (
    re.compile(r"apis/api/(?P<api>[a-z0-9.-]+\.googleapis\.com)"),
    re.compile(r"API \[(?P<api>[a-z0-9.-]+\.googleapis\.com)\] not enabled"),
    re.compile(r"(?P<api>[a-z0-9.-]+\.googleapis\.com) (?:API )?has not been used in project"),
    re.compile(r"SERVICE_DISABLED.*?(?P<api>[a-z0-9.-]+\.googleapis\.com)", re.S),
)
_DENIED = re.compile(r"(?:Permission|permission) '?(?P<perm>[a-zA-Z]+\.[a-zA-Z]+\.[a-zA-Z]+)'? (?:denied|is required)|"
                     r"[Rr]equired '(?P<perm2>[a-zA-Z]+\.[a-zA-Z]+\.[a-zA-Z]+)' permission")
_NO_ACT_AS = re.compile(r"does not have access to service account '?(?P<sa>[\w.-]+@[\w.-]+\.gserviceaccount\.com)")
# the predefined role that grants a permission a deploy needs, as gcloud names the permission
ROLE_FOR = {
    "iam.serviceAccounts.get": "roles/iam.serviceAccountAdmin",
    "iam.serviceAccounts.create": "roles/iam.serviceAccountAdmin",
    "iam.serviceAccounts.getIamPolicy": "roles/iam.serviceAccountAdmin",
    "iam.serviceAccounts.setIamPolicy": "roles/iam.serviceAccountAdmin",
    "iam.serviceAccounts.actAs": "roles/iam.serviceAccountUser",
    "resourcemanager.projects.getIamPolicy": "roles/resourcemanager.projectIamAdmin",
    "resourcemanager.projects.setIamPolicy": "roles/resourcemanager.projectIamAdmin",
    "serviceusage.services.enable": "roles/serviceusage.serviceUsageAdmin",
    "compute.instances.create": "roles/compute.instanceAdmin.v1",
    "compute.instances.get": "roles/compute.viewer",
    "compute.firewalls.create": "roles/compute.securityAdmin",
    "compute.firewalls.get": "roles/compute.viewer",
    "compute.subnetworks.get": "roles/compute.viewer",
    "compute.subnetworks.setPrivateIpGoogleAccess": "roles/compute.networkAdmin",
    "artifactregistry.repositories.getIamPolicy": "roles/artifactregistry.admin",
    "artifactregistry.repositories.setIamPolicy": "roles/artifactregistry.admin",
    "container.clusters.get": "roles/container.clusterViewer",
}


def _option(argv: Sequence[str], name: str) -> str | None:
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def diagnose(stderr: str, argv: Sequence[str]) -> str | None:
    """The fix for a failure whose message names its cause, with the command that applies it."""
    project = _option(argv, "--project") or "PROJECT"
    for pattern in _API_OFF:
        if match := pattern.search(stderr):
            api = match["api"]
            return (f"The {api} API is off in the project: gcloud services enable {api} --project {project}, "
                    "wait a minute, then run the deploy again.")
    if match := _DENIED.search(stderr):
        perm = match["perm"] or match["perm2"]
        role = ROLE_FOR.get(perm)
        grant = (f" It comes with {role}: gcloud projects add-iam-policy-binding {project} "
                 f"--member user:YOU@EXAMPLE.COM --role {role} (by a project owner)") if role else ""
        return f"Your account lacks the permission {perm} (gcloud auth list shows which account is active).{grant}"
    if match := _NO_ACT_AS.search(stderr):
        return (f"Attaching {match['sa']} to the VM needs roles/iam.serviceAccountUser on it: gcloud iam "
                f"service-accounts add-iam-policy-binding {match['sa']} --project {project} "
                "--member user:YOU@EXAMPLE.COM --role roles/iam.serviceAccountUser (by a project owner)")
    if "gcloud auth login" in stderr or "You do not currently have an active account" in stderr:
        return "gcloud has no logged-in account: gcloud auth login, then run the deploy again."
    return None


# ------------------------------------------------------------------------------------------- probes


def _not_found(result: subprocess.CompletedProcess[str]) -> bool:
    text = result.stderr.lower()
    return any(s in text for s in ("not_found", "not found", "does not exist", "notfound"))


def exists(result: subprocess.CompletedProcess[str]) -> bool:
    if result.returncode == 0:
        return True
    if _not_found(result):
        return False
    raise UnexpectedProbe


def policy_has(role: str, member: str) -> Callable[[subprocess.CompletedProcess[str]], bool]:
    def check(result: subprocess.CompletedProcess[str]) -> bool:
        if result.returncode != 0:
            raise UnexpectedProbe
        try:
            policy = json.loads(result.stdout or "{}")
        except ValueError:
            raise UnexpectedProbe from None
        return any(b.get("role") == role and member in b.get("members", []) for b in policy.get("bindings", []))

    return check


def vertex_identity(project: str, email: str, display_name: str) -> list[Step]:
    """A Google service account that may call Vertex AI and nothing else: the first steps of either deploy."""
    iam_hint = (
        f"Are you logged in (gcloud auth login) as someone who may manage service accounts on {project} "
        f"(roles/iam.serviceAccountAdmin)? Is the IAM API on (gcloud services enable iam.googleapis.com "
        f"--project {project})?"
    )
    member = f"serviceAccount:{email}"
    return [
        Step(
            f"Google service account {email} exists",
            ["gcloud", "iam", "service-accounts", "describe", email, "--project", project, "--format", "json"],
            iam_hint,
            probe=exists,
            then=["gcloud", "iam", "service-accounts", "create", email.split("@")[0], "--project", project,
                  "--display-name", display_name],
        ),
        Step(
            f"it may call Vertex AI ({VERTEX_ROLE} on {project})",
            ["gcloud", "projects", "get-iam-policy", project, "--format", "json"],
            f"Changing the project's IAM policy needs roles/resourcemanager.projectIamAdmin on {project}.",
            probe=policy_has(VERTEX_ROLE, member),
            then=["gcloud", "projects", "add-iam-policy-binding", project, "--member", member,
                  "--role", VERTEX_ROLE, "--condition=None", "--format", "none"],
        ),
    ]  # fmt: skip


# ------------------------------------------------------------------------------------------ running


def dry_run_lines(steps: list[Step]) -> list[str]:
    lines = []
    for i, step in enumerate(steps, 1):
        lines.append(f"# {i}. {step.title}")
        lines.append(f"$ {step.shown()}")
        if step.then:
            lines.append(f"$ {shlex.join(step.then)}   # only if {'missing' if step.then_if == 'missing' else 'there'}")
    return lines


def execute(steps: list[Step], echo: Callable[[str], None], run: Run = _run) -> dict[str, str]:
    """Run the plan in order, showing each command first; raise StepFailed at the first failure.
    Returns the stdout of the steps that `capture` it."""
    captured: dict[str, str] = {}
    for i, step in enumerate(steps, 1):
        echo(f"# {i}. {step.title}")
        echo(f"$ {step.shown()}")
        result = run(step.argv)
        if step.probe is not None:
            try:
                present = step.probe(result)
            except UnexpectedProbe:
                raise StepFailed(step, step.argv, result) from None
            if step.then_if == "present" and not present:
                echo(f"  not there: {step.absent}" if step.absent else "  not there")
                continue
            if step.then_if == "missing" and present:
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
        if step.capture:
            captured[step.capture] = (result.stdout or "").strip()
        for line in (result.stdout or "").strip().splitlines():
            echo(f"  {line}")
    return captured


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
