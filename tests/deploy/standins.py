"""Recording stand-ins for `gcloud`, `kubectl` and `docker`, put first on PATH by the tests.

Each appends its argv (one JSON list per line) to $STANDIN_LOG and keeps just enough state in
$STANDIN_STATE to answer like the real tool: a service account exists once created, an IAM policy
holds the bindings added to it, `kubectl apply` reports created then unchanged. $STANDIN_FAIL makes
the call whose argv contains that text fail with $STANDIN_FAIL_STDERR, as the real tool would.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

COMMON = r"""
import json, os, sys
from pathlib import Path

args = sys.argv[1:]
state = Path(os.environ["STANDIN_STATE"])
state.mkdir(parents=True, exist_ok=True)
with open(os.environ["STANDIN_LOG"], "a") as log:
    log.write(json.dumps([TOOL, *args]) + "\n")
fail = os.environ.get("STANDIN_FAIL")
if fail and fail in " ".join([TOOL, *args]):
    sys.stderr.write(os.environ.get("STANDIN_FAIL_STDERR", "ERROR: injected failure") + "\n")
    sys.exit(1)


def opt(name):
    for i, a in enumerate(args):
        if a == name:
            return args[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return None


def load(name, default):
    path = state / name
    return json.loads(path.read_text()) if path.exists() else default


def save(name, value):
    (state / name).write_text(json.dumps(value))


def add_binding(policy_file, role, member):
    policy = load(policy_file, {"bindings": []})
    for b in policy["bindings"]:
        if b["role"] == role:
            if member not in b["members"]:
                b["members"].append(member)
            break
    else:
        policy["bindings"].append({"role": role, "members": [member]})
    save(policy_file, policy)
"""

GCLOUD = r"""
words = [a for a in args if not a.startswith("-")]
if words[:3] == ["iam", "service-accounts", "describe"]:
    email = words[3]
    if email not in load("accounts", []):
        sys.stderr.write(f"ERROR: (gcloud.iam.service-accounts.describe) NOT_FOUND: Unknown service account {email}\n")
        sys.exit(1)
    print(json.dumps({"email": email}))
elif words[:3] == ["iam", "service-accounts", "create"]:
    email = f"{words[3]}@{opt('--project')}.iam.gserviceaccount.com"
    save("accounts", load("accounts", []) + [email])
    sys.stderr.write(f"Created service account [{words[3]}].\n")
elif words[:2] == ["projects", "get-iam-policy"]:
    print(json.dumps(load("project-policy", {"bindings": [{"role": "roles/owner", "members": ["user:me@x"]}]})))
elif words[:2] == ["projects", "add-iam-policy-binding"]:
    add_binding("project-policy", opt("--role"), opt("--member"))
elif words[:3] == ["iam", "service-accounts", "get-iam-policy"]:
    print(json.dumps(load("sa-policy", {})))
elif words[:3] == ["iam", "service-accounts", "add-iam-policy-binding"]:
    add_binding("sa-policy", opt("--role"), opt("--member"))
elif words[:3] == ["container", "clusters", "get-credentials"]:
    sys.stderr.write(f"Fetching cluster endpoint and auth data.\nkubeconfig entry generated for {words[3]}.\n")
elif words[:2] == ["services", "enable"]:
    save("services", sorted(set(load("services", [])) | {w for w in words[2:] if w.endswith(".googleapis.com")}))
    sys.stderr.write("Operation \"operations/acf.p2-1-2\" finished successfully.\n")
elif words[:4] == ["compute", "networks", "subnets", "describe"]:
    print(json.dumps({"name": words[4], "region": opt("--region"), "privateIpGoogleAccess": load("pga", False)}))
elif words[:4] == ["compute", "networks", "subnets", "update"]:
    save("pga", "--enable-private-ip-google-access" in args)
    sys.stderr.write(f"Updated [https://www.googleapis.com/compute/v1/projects/{opt('--project')}/regions/"
                     f"{opt('--region')}/subnetworks/{words[4]}].\n")
elif words[:3] == ["compute", "firewall-rules", "describe"]:
    rule = load("firewalls", {}).get(words[3])
    if rule is None:
        sys.stderr.write(f"ERROR: (gcloud.compute.firewall-rules.describe) Could not fetch resource:\n - The resource "
                         f"'projects/{opt('--project')}/global/firewalls/{words[3]}' was not found\n")
        sys.exit(1)
    print(json.dumps(rule))
elif words[:3] == ["compute", "firewall-rules", "create"]:
    rules = load("firewalls", {})
    rules[words[3]] = {"name": words[3], "network": opt("--network"), "direction": opt("--direction"),
                       "allowed": opt("--rules"), "sourceRanges": opt("--source-ranges").split(","),
                       "targetTags": opt("--target-tags").split(",")}
    save("firewalls", rules)
elif words[:3] == ["compute", "instances", "describe"]:
    vm = load("instances", {}).get(words[3])
    if vm is None:
        sys.stderr.write(f"ERROR: (gcloud.compute.instances.describe) Could not fetch resource:\n - The resource "
                         f"'projects/{opt('--project')}/zones/{opt('--zone')}/instances/{words[3]}' was not found\n")
        sys.exit(1)
    if (opt("--format") or "").startswith("value("):
        nic = vm["networkInterfaces"][0]
        print("\t".join([nic["networkIP"], *[c["natIP"] for c in nic.get("accessConfigs", [])[:1]]]))
    else:
        print(json.dumps(vm))
elif words[:3] == ["compute", "instances", "create"]:
    key, _, path = opt("--metadata-from-file").partition("=")
    nic = {"networkIP": "10.128.0.7", "subnetwork": opt("--subnet")}
    if "--no-address" not in args:
        nic["accessConfigs"] = [{"name": "external-nat", "natIP": "34.1.2.3"}]
    instances = load("instances", {})
    instances[words[3]] = {
        "name": words[3], "status": "RUNNING", "machineType": opt("--machine-type"), "networkInterfaces": [nic],
        "serviceAccounts": [{"email": opt("--service-account"),
                             "scopes": ["https://www.googleapis.com/auth/" + opt("--scopes")]}],
        "tags": {"items": opt("--tags").split(",")},
        "metadata": {"items": [{"key": key, "value": Path(path).read_text()}]},
    }
    save("instances", instances)
    sys.stderr.write(f"Created [https://www.googleapis.com/compute/v1/projects/{opt('--project')}/zones/"
                     f"{opt('--zone')}/instances/{words[3]}].\n")
elif words[:3] == ["artifacts", "repositories", "get-iam-policy"]:
    print(json.dumps(load("repo-policy", {})))
elif words[:3] == ["artifacts", "repositories", "add-iam-policy-binding"]:
    add_binding("repo-policy", opt("--role"), opt("--member"))
else:
    sys.stderr.write(f"ERROR: (gcloud) unexpected call in the stand-in: {args}\n")
    sys.exit(2)
"""

KUBECTL = r"""
import yaml

if args[2:4] == ["get", "crd"]:  # --context CTX get crd NAME: the CRDs $STANDIN_CRDS names exist
    name = args[4]
    if name not in os.environ.get("STANDIN_CRDS", "").split(","):
        sys.stderr.write(f'Error from server (NotFound): customresourcedefinitions.apiextensions.k8s.io "{name}" '
                         "not found\n")
        sys.exit(1)
    print(f"customresourcedefinition.apiextensions.k8s.io/{name}")
elif "apply" in args:
    target = Path(opt("-f"))
    applied = load("applied", {})
    for path in sorted(target.iterdir()) if target.is_dir() else [target]:
        if path.suffix not in (".yaml", ".yml", ".json"):
            continue
        for doc in yaml.safe_load_all(path.read_text()):
            key = f"{doc['kind'].lower()}/{doc['metadata']['name']}"
            text = json.dumps(doc, sort_keys=True)
            verb = "unchanged" if applied.get(key) == text else ("configured" if key in applied else "created")
            applied[key] = text
            print(f"{key} {verb}")
    save("applied", applied)
elif "rollout" in args:
    name = args[args.index("status") + 1].split("/", 1)[1]
    print(f'deployment "{name}" successfully rolled out')
elif args[args.index("-n") + 2:args.index("-n") + 4] == ["get", "secret"]:
    name = args[args.index("secret") + 1]
    if name not in load("secrets", {}):
        sys.stderr.write(f'Error from server (NotFound): secrets "{name}" not found\n')
        sys.exit(1)
    print(f"secret/{name}")
elif args[args.index("-n") + 2:args.index("-n") + 5] == ["create", "secret", "generic"]:
    name = args[args.index("generic") + 1]
    path = Path(opt("--from-env-file"))
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    made = load("secrets", {})  # what the real API would hold, minus the values: their names and lengths
    made[name] = {"keys": {k: len(v) for k, v in values.items()}, "mode": oct(path.stat().st_mode & 0o777),
                  "folder_mode": oct(path.parent.stat().st_mode & 0o777)}
    save("secrets", made)
    print(f"secret/{name} created")
else:
    sys.stderr.write(f"error: unexpected call in the stand-in: {args}\n")
    sys.exit(2)
"""

DOCKER = r"""
if args[:1] == ["info"]:
    if os.environ.get("STANDIN_DOCKER_ENGINE") == "down":
        sys.stderr.write(
            "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n"
        )
        sys.exit(1)
    print("28.1.1")
elif args[:2] == ["compose", "version"]:
    if os.environ.get("STANDIN_DOCKER_COMPOSE") == "missing":
        sys.stderr.write("docker: unknown command: docker compose\n")
        sys.exit(1)
    print("Docker Compose version v2.36.0")
elif args[:1] == ["compose"] and "up" in args:
    save("compose-up", {"cwd": os.getcwd(), "args": args})
    print("Container anyray-gateway-1  Started")
else:
    sys.stderr.write(f"unexpected call in the stand-in: {args}\n")
    sys.exit(2)
"""


def install(bin_dir: Path, tool: str) -> Path:
    body = {"gcloud": GCLOUD, "kubectl": KUBECTL, "docker": DOCKER}[tool]
    path = bin_dir / tool
    path.write_text(f"#!{sys.executable}\nTOOL = {tool!r}\n{COMMON}\n{body}")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def standin_env(bin_dir: Path, state: Path, log: Path, base: dict[str, str], keep_path: bool = True) -> dict[str, str]:
    env = dict(base)
    env["PATH"] = str(bin_dir) + (os.pathsep + base.get("PATH", "") if keep_path else "")
    env["STANDIN_STATE"] = str(state)
    env["STANDIN_LOG"] = str(log)
    return env
