"""What `anyray render` and `anyray deploy` need: the project, images, resources and the VM."""

from __future__ import annotations

import re

from pydantic import Field, field_validator

from anyray import __version__
from anyray.config.base import Section


class DeployResources(Section):
    """Kubernetes requests/limits for the gateway (the optimizer gets the same)."""

    cpu_request: str = "250m"
    memory_request: str = "256Mi"
    # two: the optimizer works out long requests in a decider process beside its event loop; under a limit of
    # one core the two together would use up the pod's CPU quota early in a period and the kernel would
    # throttle both, small calls included, for the rest of it
    cpu_limit: str = "2"
    memory_limit: str = "512Mi"


class DeploySettings(Section):
    """What `anyray render` and `anyray deploy` need beyond the runtime config (docs/deploy.md)."""

    image: str = Field(f"anyray:{__version__}", description="the image built from the Dockerfile")
    build_context: str | None = Field(None, description="compose: build the image from this source folder")
    publish_host: str = Field("127.0.0.1", description="compose: host address the gateway port is published on")
    namespace: str = "anyray"
    replicas: int = Field(2, ge=1, description="gateway replicas (the HPA minimum)")
    max_replicas: int = Field(6, ge=1)
    optimizer_replicas: int = Field(1, ge=1)
    project: str | None = None
    region: str = "us-central1"
    cluster: str = "anyray"
    gsa: str = Field("anyray-gateway", description="Google service account id (or full email) for Vertex")
    zone: str = Field("us-central1-a", description="gce: the VM's zone")
    vm: str = Field("anyray", description="gce: the VM's name")
    machine_type: str = Field("e2-medium", description="gce: the VM's machine type")
    litellm: bool = False
    litellm_image: str = Field(f"anyray-litellm:{__version__}", description="LiteLLM with anyray installed: "
                               "the Dockerfile's litellm stage (docker build --target litellm)")
    postgres: bool = False
    postgres_image: str = "postgres:17-alpine"
    redis: bool = False
    redis_image: str = "redis:7-alpine"
    resources: DeployResources = Field(default_factory=DeployResources)

    @field_validator("namespace")
    @classmethod
    def _namespace_shape(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?", v):
            raise ValueError("expected a Kubernetes namespace name (lowercase letters, digits and '-')")
        return v

    @field_validator("vm")
    @classmethod
    def _vm_shape(cls, v: str) -> str:
        # the firewall rule and the network tag are named after it: both follow GCE's resource-name rule
        if not re.fullmatch(r"[a-z]([-a-z0-9]{0,53}[a-z0-9])?", v):
            raise ValueError("expected a Compute Engine name (a lowercase letter, then letters, digits and '-')")
        return v
