"""`anyray doctor --gke`: the cluster side, read through the same gcloud and kubectl a person would use.

Every call is a read (`get`, `config get-value`, `version`) with a timeout; nothing is changed.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from anyray.deploy import naming
from anyray.doctor import Result, Situation

WI_ANNOTATION = "iam.gke.io/gcp-service-account"


def _run(s: Situation, argv: list[str]) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=min(s.timeout_s, 10.0), env=dict(s.env))
    except subprocess.TimeoutExpired:
        return None


def _json(run: subprocess.CompletedProcess[str] | None) -> Any:
    if run is None or run.returncode != 0:
        return None
    try:
        return json.loads(run.stdout)
    except json.JSONDecodeError:
        return None


def _why(run: subprocess.CompletedProcess[str] | None) -> str:
    if run is None:
        return "no answer in time"
    return (run.stderr or run.stdout).strip().splitlines()[-1][:200] if (run.stderr or run.stdout).strip() else \
        f"exit {run.returncode}"


def gke(s: Situation) -> list[Result]:
    path = s.env.get("PATH")
    gcloud, kubectl = shutil.which("gcloud", path=path), shutil.which("kubectl", path=path)
    out = [
        Result("gcloud", "ok" if gcloud else "fail", gcloud or "not found on PATH",
               "" if gcloud else "install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install)"),
        Result("kubectl", "ok" if kubectl else "fail", kubectl or "not found on PATH",
               "" if kubectl else "gcloud components install kubectl"),
    ]
    d = s.config.deploy if s.config else None
    namespace = d.namespace if d else naming.DEFAULT_NAMESPACE
    project = d.project if d else None
    if gcloud:
        run = _run(s, [gcloud, "config", "get-value", "project"])
        current = run.stdout.strip() if run is not None and run.returncode == 0 else ""
        project = project or current or None
        out.append(Result("gcloud project", "ok" if project else "fail", project or "none set",
                          "" if project else "gcloud config set project PROJECT (or deploy.project)"))
    if not kubectl:
        return out
    run = _run(s, [kubectl, "config", "current-context"])
    if run is None or run.returncode != 0:
        out.append(Result("kube context", "fail", _why(run), "gcloud container clusters get-credentials CLUSTER "
                          "--region REGION"))
        return out
    context = run.stdout.strip()
    out.append(Result("kube context", "ok", context))
    version = _json(_run(s, [kubectl, "version", "-o", "json", "--request-timeout", "5s"]))
    server = (version or {}).get("serverVersion", {}).get("gitVersion")
    if not server:
        out.append(Result("cluster", "fail", f"{context} is not reachable", "check the network path to the "
                          "cluster's control plane (authorized networks, VPN) and your credentials"))
        return out
    out.append(Result("cluster", "ok", f"{context} reachable, Kubernetes {server}"))

    ns = _run(s, [kubectl, "get", "namespace", namespace, "-o", "json"])
    if _json(ns) is None:
        out.append(Result("namespace", "fail", f"{namespace}: {_why(ns)}", "anyray deploy gke --project P"))
        return out
    out.append(Result("namespace", "ok", namespace))

    deployments = _json(_run(s, [kubectl, "-n", namespace, "get", "deployments", "-o", "json"])) or {"items": []}
    found = {item["metadata"]["name"]: item for item in deployments.get("items", [])}
    for name in (naming.GATEWAY_SERVICE, naming.OPTIMIZER_SERVICE):
        item = found.get(name)
        if item is None:
            out.append(Result(f"deployment {name}", "fail", "not deployed", "anyray deploy gke --project P"))
            continue
        want = item.get("spec", {}).get("replicas", 1)
        ready = item.get("status", {}).get("readyReplicas", 0) or 0
        out.append(Result(f"deployment {name}", "ok" if ready >= want else "fail", f"{ready}/{want} ready",
                          "" if ready >= want else f"kubectl -n {namespace} describe deployment {name}"))

    expected = None
    if d is not None:
        expected = d.gsa if "@" in d.gsa else f"{d.gsa}@{project}.iam.gserviceaccount.com" if project else None
    ksa = _json(_run(s, [kubectl, "-n", namespace, "get", "serviceaccount", naming.GATEWAY_KSA, "-o", "json"]))
    bound = ((ksa or {}).get("metadata", {}).get("annotations") or {}).get(WI_ANNOTATION)
    if ksa is None:
        out.append(Result("workload identity", "fail", f"service account {naming.GATEWAY_KSA} missing",
                          "anyray deploy gke --project P"))
    elif expected and bound != expected:
        out.append(Result("workload identity", "fail", f"{naming.GATEWAY_KSA} is bound to {bound or 'nothing'}, "
                          f"expected {expected}", f"kubectl -n {namespace} annotate serviceaccount "
                          f"{naming.GATEWAY_KSA} {WI_ANNOTATION}={expected} --overwrite"))
    else:
        out.append(Result("workload identity", "ok", f"{naming.GATEWAY_KSA} -> {bound}"))

    policies = _json(_run(s, [kubectl, "-n", namespace, "get", "networkpolicy", "-o", "json"])) or {"items": []}
    guards = [p for p in policies.get("items", [])
              if (p.get("spec", {}).get("podSelector", {}).get("matchLabels") or {}).get(
                  "app.kubernetes.io/component") == "optimizer"]
    out.append(Result("network policy", "ok" if guards else "fail",
                      f"{guards[0]['metadata']['name']} guards the optimizer" if guards else
                      "no NetworkPolicy selects the optimizer: anything in the cluster can call it",
                      "" if guards else "anyray render gke -o DIR && kubectl apply -f DIR"))
    return out
