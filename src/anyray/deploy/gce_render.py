"""`anyray render gce`: the Compose stack of `render compose`, made to run on one Container-Optimized OS VM.

What goes on the VM is one cloud-init user-data file (`cloud-config.yaml`) that carries everything: the
Compose files, a systemd unit that runs them, and a script that makes the secrets on the VM. The same
files are written beside it (`stack/`, `anyray.service`, `prepare.sh`) so a person reviews what the VM
will run without reading YAML inside YAML.

Why Container-Optimized OS: Docker and the Artifact Registry credential helper come with the image, so a
VM with no external IP starts the stack from Artifact Registry (Private Google Access) without a
package mirror; cloud-init reads the user-data. It has no Compose plugin, so Compose runs from the
official `docker:*-cli` image (which carries it) against the host's Docker. Docker Hub's official images
(that one, postgres, redis) come from Google's cache of them, `mirror.gcr.io/library/...`.

What differs from the Compose rendering: the gateway is published on the VM's internal address only
(`${ANYRAY_HOST_IP}`, written at boot from the metadata server), a Vertex key file is dropped (the VM's
service account signs, through the metadata server, the google-auth path Workload Identity takes), and
nothing is built on the VM (`deploy.build_context` is dropped).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from anyray.config import Config
from anyray.deploy import naming
from anyray.deploy.render import Rendered, _env, render
from anyray.providers import PROVIDERS

HOME_DIR = "/var/lib/anyray"  # on the stateful partition: the boot persistent disk, kept across reboots
STACK_DIR = f"{HOME_DIR}/stack"
UNIT_PATH = "/etc/systemd/system/anyray.service"
# Docker Hub's official images, pulled from Google's cache of them, which a VM without an external address reaches
# through Private Google Access as it reaches Artifact Registry (Docker Hub itself it cannot reach)
DOCKER_HUB_CACHE = "mirror.gcr.io/library/"
COMPOSE_IMAGE = DOCKER_HUB_CACHE + "docker:28-cli"  # Docker's official CLI image: it carries the Compose v2 plugin
HOST_IP = "${ANYRAY_HOST_IP:?the VM's internal address, written by prepare.sh}"
IMAGE_FAMILY, IMAGE_PROJECT = "cos-stable", "cos-cloud"

_ARTIFACT_REGISTRY = re.compile(r"^(?P<location>[a-z0-9-]+)-docker\.pkg\.dev/(?P<project>[^/]+)/(?P<repo>[^/]+)/")


@dataclass(frozen=True)
class Repository:
    """An Artifact Registry Docker repository the VM pulls the anyray image from."""

    location: str
    project: str
    repo: str

    @property
    def host(self) -> str:
        return f"{self.location}-docker.pkg.dev"


def artifact_repository(image: str) -> Repository | None:
    match = _ARTIFACT_REGISTRY.match(image)
    return Repository(match["location"], match["project"], match["repo"]) if match else None


def _via_cache(image: str) -> str:
    """A Docker Hub official image (`postgres:17-alpine`) as Google's cache serves it; any other as it is."""
    return DOCKER_HUB_CACHE + image if "/" not in image.split(":")[0] else image


def for_vm(config: Config) -> tuple[Config, list[str]]:
    """The config the VM's stack is rendered from, and what was changed to make it so."""
    config = config.for_deployment()
    warnings: list[str] = []
    deploy, providers = config.deploy, config.providers
    for name, cls in PROVIDERS.items():  # a key file is dropped: the VM's service account signs
        settings, notes = cls.on_platform_identity(cls.settings_of(config), "GCE", "the VM's service account")
        providers = providers.model_copy(update={name: settings})
        warnings += notes
    if deploy.build_context:
        warnings.append("deploy.build_context is dropped on GCE: the VM pulls deploy.image, it builds nothing")
    if "/" not in deploy.image.split(":")[0]:
        warnings.append(f"image {deploy.image} names no registry, so the VM cannot pull it: push it to Artifact "
                        "Registry and pass --image REGION-docker.pkg.dev/PROJECT/REPO/anyray:TAG")
    deploy = deploy.model_copy(update={
        "publish_host": HOST_IP, "build_context": None,
        "postgres_image": _via_cache(deploy.postgres_image), "redis_image": _via_cache(deploy.redis_image),
    })  # fmt: skip
    return config.model_copy(update={"providers": providers, "deploy": deploy}), warnings


class _LiteralDumper(yaml.SafeDumper):
    pass


_LiteralDumper.add_representer(
    str,
    lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|" if "\n" in data else None),
)


def _block(text: str, indent: int) -> str:
    """A file's text as a YAML literal block at `indent` columns, readable in the user-data as it is on disk;
    PyYAML picks a quoted scalar instead when a literal block cannot hold the text exactly."""
    dumped = yaml.dump({"c": text}, Dumper=_LiteralDumper, default_flow_style=False, width=1 << 30)
    first, _, rest = dumped[len("c: ") :].partition("\n")
    pad = " " * (indent - 2)
    return (first + "\n" + "".join(pad + line if line.strip() else line for line in rest.splitlines(True))).rstrip(
        "\n"
    )


def render_gce(config: Config) -> Rendered:
    vm_config, warnings = for_vm(config)
    stack = render("compose", vm_config)
    deploy = vm_config.deploy
    stack_files = {rel: text for rel, text in stack.files.items() if not rel.endswith(".example")}
    repository = artifact_repository(deploy.image)
    env = _env()
    env.filters["block"] = _block
    ctx: dict[str, Any] = {
        "home_dir": HOME_DIR,
        "stack_dir": STACK_DIR,
        "compose_image": COMPOSE_IMAGE,
        "port": naming.GATEWAY_PORT,
        "registry": repository.host if repository else "",
        "image": deploy.image,
        "postgres": deploy.postgres,
        "token_env": naming.OPTIMIZER_TOKEN_ENV,
        "routes": stack.routes,
    }
    unit = env.get_template("gce/anyray.service.j2").render(ctx)
    prepare = env.get_template("gce/prepare.sh.j2").render(ctx)
    on_vm = [{"path": f"{STACK_DIR}/{rel}", "mode": "0644", "content": text} for rel, text in stack_files.items()]
    on_vm += [
        {"path": f"{HOME_DIR}/prepare.sh", "mode": "0700", "content": prepare},
        {"path": UNIT_PATH, "mode": "0644", "content": unit},
    ]
    files = {"cloud-config.yaml": env.get_template("gce/cloud-config.yaml.j2").render(ctx | {"files": on_vm})}
    files |= {"anyray.service": unit, "prepare.sh": prepare}
    files |= {f"stack/{rel}": text for rel, text in stack_files.items()}
    return Rendered("gce", files, [*warnings, *stack.warnings], stack.secret_env, stack.routes)


def user_data_files(cloud_config: str) -> dict[str, str]:
    """What the user-data writes where (path -> text): how tests and reviewers read it back."""
    return {f["path"]: f.get("content", "") for f in yaml.safe_load(cloud_config).get("write_files", [])}
