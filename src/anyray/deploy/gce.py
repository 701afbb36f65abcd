"""`anyray deploy gce`: the gcloud steps that put the shared stack on one VM, each shown before it runs.

The same step machinery as `deploy gke` (`anyray.deploy.steps`): every change is "look, then change only
if missing", so a second run changes nothing, and the first failure stops the run with gcloud's own
message and the fix. What it sets up:

- a dedicated Google service account with `roles/aiplatform.user` on the project and no other role
  (plus, when the image is in Artifact Registry, read access to that one repository so the VM can pull);
- Private Google Access on the VM's subnet when the VM has no external address, so it reaches Vertex AI
  and Artifact Registry without one;
- a firewall rule admitting tcp:8787 to the VM from IAP's TCP-forwarding range and the ranges named;
- the VM: Container-Optimized OS, shielded, no external address unless asked, the service account with
  the cloud-platform scope (its role is what limits it), and the rendered cloud-config as user-data.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from anyray.config import Config
from anyray.deploy import naming
from anyray.deploy.gce_render import IMAGE_FAMILY, IMAGE_PROJECT, Repository, artifact_repository
from anyray.deploy.steps import Step, UnexpectedProbe, exists, policy_has, vertex_identity

IAP_RANGE = "35.235.240.0/20"  # where IAP's TCP forwarding (gcloud compute start-iap-tunnel) connects from
READER_ROLE = "roles/artifactregistry.reader"
APIS = ("compute.googleapis.com", "aiplatform.googleapis.com", "iap.googleapis.com")
BOOT_DISK_SIZE = "20GB"


@dataclass
class Target:
    project: str
    zone: str
    vm: str
    machine_type: str
    gsa_email: str
    user_data: Path
    image: str
    source_ranges: list[str] = field(default_factory=list)
    external_ip: bool = False
    network: str = "default"
    subnet: str = "default"

    @property
    def region(self) -> str:
        return self.zone.rsplit("-", 1)[0]

    @property
    def tag(self) -> str:
        """The network tag the firewall rule targets: only this VM carries it."""
        return f"{self.vm}-gateway"

    @property
    def firewall_rule(self) -> str:
        return f"{self.vm}-allow-gateway"

    @property
    def ranges(self) -> list[str]:
        return list(dict.fromkeys([IAP_RANGE, *self.source_ranges]))

    @property
    def repository(self) -> Repository | None:
        return artifact_repository(self.image)

    def tunnel(self, local_port: int = naming.GATEWAY_PORT) -> str:
        return (f"gcloud compute start-iap-tunnel {self.vm} {naming.GATEWAY_PORT} "
                f"--local-host-port=localhost:{local_port} --zone {self.zone} --project {self.project}")


def target_from(config: Config, user_data: Path, source_ranges: list[str], external_ip: bool,
                network: str = "default", subnet: str = "default") -> Target:
    d = config.deploy
    if not d.project:
        raise ValueError("no project: pass --project or set deploy.project")
    email = d.gsa if "@" in d.gsa else f"{d.gsa}@{d.project}.iam.gserviceaccount.com"
    return Target(d.project, d.zone, d.vm, d.machine_type, email, user_data, d.image, list(source_ranges),
                  external_ip, network, subnet)


def _private_google_access(result: subprocess.CompletedProcess[str]) -> bool:
    if result.returncode != 0:
        raise UnexpectedProbe
    try:
        return bool(json.loads(result.stdout or "{}").get("privateIpGoogleAccess"))
    except ValueError:
        raise UnexpectedProbe from None


def _reader_step(t: Target, repo: Repository) -> Step:
    member = f"serviceAccount:{t.gsa_email}"
    where = ["--location", repo.location, "--project", repo.project]
    return Step(
        f"it may pull the image from {repo.host}/{repo.project}/{repo.repo} ({READER_ROLE} on that repository only)",
        ["gcloud", "artifacts", "repositories", "get-iam-policy", repo.repo, *where, "--format", "json"],
        f"Check the repository: gcloud artifacts repositories list --project {repo.project}. Changing its policy "
        "needs roles/artifactregistry.admin on it.",
        probe=policy_has(READER_ROLE, member),
        then=["gcloud", "artifacts", "repositories", "add-iam-policy-binding", repo.repo, *where,
              "--member", member, "--role", READER_ROLE, "--condition=None", "--format", "none"],
    )  # fmt: skip


def plan(t: Target) -> list[Step]:
    p = t.project
    zone = ["--zone", t.zone, "--project", p]
    apis = [*APIS, "artifactregistry.googleapis.com"] if t.repository else list(APIS)
    steps = [
        Step(
            "the APIs it uses are on: " + ", ".join(a.split(".")[0] for a in apis),
            ["gcloud", "services", "enable", *apis, "--project", p],
            f"Enabling APIs needs roles/serviceusage.serviceUsageAdmin on {p}, and billing on the project "
            f"(gcloud billing projects describe {p}).",
        ),
        *vertex_identity(p, t.gsa_email, "anyray gateway VM (Vertex AI)"),
    ]
    if t.repository:
        steps.append(_reader_step(t, t.repository))
    if not t.external_ip:
        subnet = ["--region", t.region, "--project", p]
        steps.append(Step(
            f"subnet {t.subnet} ({t.region}) reaches Google APIs without external addresses (Private Google Access)",
            ["gcloud", "compute", "networks", "subnets", "describe", t.subnet, *subnet, "--format", "json"],
            f"Is the subnet right? gcloud compute networks subnets list --network {t.network} --project {p} "
            "(pass --subnet). Turning Private Google Access on needs roles/compute.networkAdmin.",
            probe=_private_google_access,
            then=["gcloud", "compute", "networks", "subnets", "update", t.subnet, *subnet,
                  "--enable-private-ip-google-access"],
        ))  # fmt: skip
    steps += [
        Step(
            f"firewall rule {t.firewall_rule}: tcp:{naming.GATEWAY_PORT} to the VM from {', '.join(t.ranges)}",
            ["gcloud", "compute", "firewall-rules", "describe", t.firewall_rule, "--project", p, "--format", "json"],
            f"Creating firewall rules needs roles/compute.securityAdmin on {p}; check the network name "
            f"(gcloud compute networks list --project {p}, pass --network).",
            probe=exists,
            then=["gcloud", "compute", "firewall-rules", "create", t.firewall_rule, "--project", p,
                  "--network", t.network, "--direction", "INGRESS", "--action", "ALLOW",
                  "--rules", f"tcp:{naming.GATEWAY_PORT}", "--source-ranges", ",".join(t.ranges),
                  "--target-tags", t.tag, "--description", "anyray gateway: IAP tunnel and the ranges named"],
        ),
        Step(
            f"VM {t.vm} ({t.machine_type}, {IMAGE_FAMILY}, "
            f"{'an external address' if t.external_ip else 'internal address only'}) runs the stack",
            ["gcloud", "compute", "instances", "describe", t.vm, *zone, "--format", "json"],
            f"Creating it needs roles/compute.instanceAdmin.v1 on {p} and roles/iam.serviceAccountUser on "
            f"{t.gsa_email} (to attach it); check the zone (gcloud compute zones list) and the quota.",
            probe=exists,
            then=["gcloud", "compute", "instances", "create", t.vm, *zone, "--machine-type", t.machine_type,
                  "--image-family", IMAGE_FAMILY, "--image-project", IMAGE_PROJECT,
                  "--boot-disk-size", BOOT_DISK_SIZE, "--subnet", t.subnet,
                  *([] if t.external_ip else ["--no-address"]), "--tags", t.tag,
                  "--service-account", t.gsa_email, "--scopes", "cloud-platform",
                  "--shielded-secure-boot", "--shielded-vtpm", "--shielded-integrity-monitoring",
                  "--metadata", "enable-oslogin=TRUE",
                  "--metadata-from-file", f"user-data={t.user_data}"],
        ),
        Step(
            "its addresses",
            ["gcloud", "compute", "instances", "describe", t.vm, *zone,
             "--format", "value(networkInterfaces[0].networkIP,networkInterfaces[0].accessConfigs[0].natIP)"],
            f"gcloud compute instances list --project {p} shows the VMs there.",
            capture="addresses",
        ),
    ]  # fmt: skip
    return steps


def next_steps(t: Target, addresses: str) -> list[str]:
    """What `deploy gce` prints at the end: the gateway's URL and the exact lines that wire Claude Code to it."""
    internal, _, external = addresses.partition("\t") if "\t" in addresses else (addresses.strip(), "", "")
    internal, external = internal.strip() or "INTERNAL_IP", external.strip()
    local = f"http://localhost:{naming.GATEWAY_PORT}"
    lines = [
        f"gateway: http://{internal}:{naming.GATEWAY_PORT}  (the VM's internal address; the firewall admits "
        f"{', '.join(t.ranges)} to it)",
        "The VM pulls the images and starts the stack in a minute or two after it boots.",
        "From this machine, through an IAP tunnel (needs roles/iap.tunnelResourceAccessor), in a second terminal:",
        f"  {t.tunnel()}",
        f"  anyray connect claude-code --gateway {local}",
        f"  anyray doctor --gce --gateway {local} --set deploy.project={t.project} --set deploy.zone={t.zone}"
        f" --set deploy.vm={t.vm}",
        "From a machine in the VPC (or a range the firewall rule admits):",
        f"  anyray connect claude-code --gateway http://{internal}:{naming.GATEWAY_PORT}",
    ]
    if external:
        lines.append(f"The VM has an external address, {external}: http://{external}:{naming.GATEWAY_PORT} answers "
                     "the ranges the firewall rule admits, and no one else.")
    return lines
