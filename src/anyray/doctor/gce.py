"""`anyray doctor --gce`: the VM `anyray deploy gce` made, read through the gcloud a person would use,
and the gateway on it asked for its health through the path chosen (`--gateway`: an IAP tunnel's
localhost, or the internal address from inside the VPC).

Every gcloud call is a read (`describe`, `get-iam-policy`, `config get-value`) with a timeout.
"""

from __future__ import annotations

import shutil

from anyray.deploy import naming
from anyray.deploy.gce import IAP_RANGE
from anyray.deploy.steps import VERTEX_ROLE
from anyray.doctor import Result, Situation
from anyray.doctor.gke import _json, _run, _why
from anyray.doctor.local import _get_json


def gce(s: Situation) -> list[Result]:
    gcloud = shutil.which("gcloud", path=s.env.get("PATH"))
    out = [Result("gcloud", "ok" if gcloud else "fail", gcloud or "not found on PATH",
                  "" if gcloud else "install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)")]
    d = s.config.deploy if s.config else None
    if not gcloud or d is None:
        return out
    project = d.project
    if not project:
        run = _run(s, [gcloud, "config", "get-value", "project"])
        project = run.stdout.strip() if run is not None and run.returncode == 0 else ""
    if not project:
        out.append(Result("gcloud project", "fail", "none set",
                          "--set deploy.project=P (or gcloud config set project P)"))
        return out
    where = ["--zone", d.zone, "--project", project]
    deploy_fix = f"anyray deploy gce --project {project} --zone {d.zone} --name {d.vm}"

    run = _run(s, [gcloud, "compute", "instances", "describe", d.vm, *where, "--format", "json"])
    vm = _json(run)
    if vm is None:
        out.append(Result("gce vm", "fail", f"{d.vm} in {project}/{d.zone}: {_why(run)}", deploy_fix))
        return out
    status = vm.get("status", "?")
    out.append(Result("gce vm", "ok" if status == "RUNNING" else "fail", f"{d.vm} {status}",
                      "" if status == "RUNNING" else f"gcloud compute instances start {d.vm} {' '.join(where)}"))
    nic = (vm.get("networkInterfaces") or [{}])[0]
    internal = nic.get("networkIP", "")
    external = [c.get("natIP") for c in nic.get("accessConfigs") or [] if c.get("natIP")]
    out.append(Result("gce address", "warn" if external else "ok",
                      f"internal {internal}" + (f", external {external[0]}" if external else ", no external address"),
                      "the gateway answers on the external address whatever the firewall admits: keep its source "
                      "ranges narrow" if external else ""))

    expected = d.gsa if "@" in d.gsa else f"{d.gsa}@{project}.iam.gserviceaccount.com"
    accounts = vm.get("serviceAccounts") or []
    email = accounts[0].get("email", "") if accounts else ""
    scopes = accounts[0].get("scopes", []) if accounts else []
    if email != expected:
        out.append(Result("vm service account", "fail", f"{d.vm} runs as {email or 'no service account'}, "
                          f"expected {expected}", f"recreate the VM: gcloud compute instances delete {d.vm} "
                          f"{' '.join(where)}, then {deploy_fix}"))
    elif not any(sc.endswith("/cloud-platform") for sc in scopes):
        out.append(Result("vm service account", "fail", f"{email} without the cloud-platform scope",
                          f"gcloud compute instances set-service-account {d.vm} {' '.join(where)} "
                          f"--service-account {email} --scopes cloud-platform (the VM must be stopped)"))
    else:
        out.append(Result("vm service account", "ok", f"{email}, scope cloud-platform"))

    policy = _json(_run(s, [gcloud, "projects", "get-iam-policy", project, "--format", "json"]))
    if policy is None:
        out.append(Result("vm role", "fail", f"could not read the IAM policy of {project}",
                          "needs resourcemanager.projects.getIamPolicy (roles/iam.securityReviewer)"))
    else:
        member = f"serviceAccount:{email or expected}"
        roles = sorted(b.get("role", "") for b in policy.get("bindings", []) if member in b.get("members", []))
        others = [r for r in roles if r != VERTEX_ROLE]
        if VERTEX_ROLE not in roles:
            out.append(Result("vm role", "fail", f"{member} lacks {VERTEX_ROLE}: Vertex AI calls are refused",
                              f"gcloud projects add-iam-policy-binding {project} --member {member} "
                              f"--role {VERTEX_ROLE} --condition=None"))
        else:
            out.append(Result("vm role", "warn" if others else "ok", f"{VERTEX_ROLE}" + (
                f" and more than it needs: {', '.join(others)}" if others else ", nothing else"),
                f"remove them: gcloud projects remove-iam-policy-binding {project} --member {member} --role ROLE"
                if others else ""))

    url = s.gateway_url.rstrip("/") if s.gateway_url else f"http://{internal}:{naming.GATEWAY_PORT}"
    health = _get_json(f"{url}/healthz", min(s.timeout_s, 5.0))
    tunnel = (f"open an IAP tunnel: gcloud compute start-iap-tunnel {d.vm} {naming.GATEWAY_PORT} "
              f"--local-host-port=localhost:{naming.GATEWAY_PORT} {' '.join(where)}, then pass "
              f"--gateway http://localhost:{naming.GATEWAY_PORT}")
    if health is None or not health.get("version"):
        fix = (tunnel if not s.gateway_url else
               f"is the tunnel open, and does the firewall admit {IAP_RANGE}? On the VM: sudo journalctl -u "
               "anyray.service; sudo docker ps")
        out.append(Result("gce gateway", "fail", f"no anyray gateway answers at {url}", fix))
        return out
    providers = health.get("providers") or {}
    waiting = sorted(name for name, ready in providers.items() if not ready)
    said = ", ".join(f"{name} {'ready' if ready else 'not ready'}" for name, ready in sorted(providers.items()))
    out.append(Result("gce gateway", "warn" if waiting or not providers else "ok",
                      f"{url} anyray {health.get('version')}, {said or 'no provider'}",
                      "" if providers and not waiting else "on the VM: sudo docker logs anyray-gateway-1 (the "
                      "metadata server's token, the project's Vertex AI API)"))
    return out
