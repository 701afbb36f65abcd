"""The rendered GKE manifests and Compose file: valid against their schemas, and secure by construction."""

from __future__ import annotations

import copy

import jsonschema
import kubernetes_validate
import pytest
import yaml

from anyray.config import Config, load_config
from anyray.deploy import naming
from anyray.deploy.render import RUN_AS, manifests, render
from tests.deploy.conftest import CONFIGS, SECRETS, config_for, validate_compose, validate_k8s


def _by_kind(objs):
    out: dict[str, list[dict]] = {}
    for obj in objs:
        out.setdefault(obj["kind"], []).append(obj)
    return out


def _one(objs, kind, name):
    [obj] = [o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj


# ---------------------------------------------------------------------------------------------- GKE


def test_every_gke_manifest_validates_against_the_kubernetes_schemas(config_name, tmp_path):
    objs = manifests(render("gke", config_for(config_name, tmp_path)))
    kinds = _by_kind(objs)
    expected = {
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Deployment",
        "Service",
        "NetworkPolicy",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
    }
    assert set(kinds) == expected
    for obj in objs:
        validate_k8s(obj)
    deployments = {d["metadata"]["name"] for d in kinds["Deployment"]}
    litellm = CONFIGS[config_name]["deploy"].get("litellm", False)
    assert deployments == {naming.GATEWAY_SERVICE, naming.OPTIMIZER_SERVICE} | (
        {naming.LITELLM_SERVICE} if litellm else set()
    )


def test_the_validator_is_not_vacuous(tmp_path):
    """A broken object must fail, or the test above proves nothing."""
    objs = manifests(render("gke", config_for("vertex-only", tmp_path)))
    gateway = copy.deepcopy(_one(objs, "Deployment", naming.GATEWAY_SERVICE))
    gateway["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["prot"] = 8787
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_k8s(gateway)
    gateway = copy.deepcopy(_one(objs, "Deployment", naming.GATEWAY_SERVICE))
    gateway["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate_k8s(gateway)


def test_names_and_namespace_are_the_ones_redirect_uses(config_name, tmp_path):
    config = config_for(config_name, tmp_path)
    objs = manifests(render("gke", config))
    ns = config.deploy.namespace
    assert _one(objs, "Namespace", ns)
    for obj in objs:
        if obj["kind"] != "Namespace":
            assert obj["metadata"]["namespace"] == ns
    service = _one(objs, "Service", naming.GATEWAY_SERVICE)
    assert service["spec"]["ports"][0]["port"] == naming.GATEWAY_PORT
    # the in-cluster URL `anyray redirect` sets resolves to this Service
    assert naming.gateway_cluster_url(ns) == f"http://{service['metadata']['name']}.{ns}.svc.cluster.local:8787"
    optimizer_service = _one(objs, "Service", naming.OPTIMIZER_SERVICE)
    assert optimizer_service["spec"]["type"] == "ClusterIP"


def test_gateway_deployment_is_hardened_probed_spread_and_scaled(config_name, tmp_path):
    config = config_for(config_name, tmp_path)
    objs = manifests(render("gke", config))
    gateway = _one(objs, "Deployment", naming.GATEWAY_SERVICE)
    spec = gateway["spec"]
    assert "replicas" not in spec  # the HPA owns the count: a re-apply must not scale a busy gateway down
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == naming.GATEWAY_KSA
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == RUN_AS != 0
    [container] = pod["containers"]
    assert container["args"] == ["serve", "gateway"]
    sc = container["securityContext"]
    assert sc["runAsNonRoot"] is True
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": naming.GATEWAY_PORT}
    assert set(container["resources"]) == {"requests", "limits"}
    # the pods spread over zones and nodes, selecting exactly the gateway's pods
    keys = {c["topologyKey"] for c in pod["topologySpreadConstraints"]}
    assert keys == {"topology.kubernetes.io/zone", "kubernetes.io/hostname"}
    for c in pod["topologySpreadConstraints"]:
        assert c["labelSelector"]["matchLabels"] == spec["selector"]["matchLabels"]
    # the config comes from the ConfigMap; the writable paths are emptyDirs, the root stays read-only
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/etc/anyray"]["readOnly"] is True
    assert "/tmp" in mounts

    hpa = _one(objs, "HorizontalPodAutoscaler", naming.GATEWAY_SERVICE)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "anyray-gateway"}
    assert hpa["spec"]["minReplicas"] == config.deploy.replicas <= hpa["spec"]["maxReplicas"]
    pdb = _one(objs, "PodDisruptionBudget", naming.GATEWAY_SERVICE)
    assert pdb["spec"]["selector"]["matchLabels"] == spec["selector"]["matchLabels"]


def test_every_pod_runs_as_non_root_without_privilege_escalation(config_name, tmp_path):
    objs = manifests(render("gke", config_for(config_name, tmp_path)))
    for deployment in _by_kind(objs)["Deployment"]:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["securityContext"]["runAsNonRoot"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["runAsUser"] != 0


def test_workload_identity_and_a_credential_free_optimizer(config_name, tmp_path):
    config = config_for(config_name, tmp_path)
    objs = manifests(render("gke", config))
    ksa = _one(objs, "ServiceAccount", naming.GATEWAY_KSA)
    project = config.deploy.project
    assert ksa["metadata"]["annotations"]["iam.gke.io/gcp-service-account"] == (
        f"anyray-gateway@{project}.iam.gserviceaccount.com"
    )
    optimizer_ksa = _one(objs, "ServiceAccount", naming.OPTIMIZER_KSA)
    assert "annotations" not in optimizer_ksa["metadata"]
    assert optimizer_ksa["automountServiceAccountToken"] is False
    optimizer = _one(objs, "Deployment", naming.OPTIMIZER_SERVICE)["spec"]["template"]["spec"]
    assert optimizer["serviceAccountName"] == naming.OPTIMIZER_KSA
    assert optimizer["automountServiceAccountToken"] is False
    [container] = optimizer["containers"]
    assert container["args"] == ["serve", "optimizer"]
    assert "envFrom" not in container  # the Secret with provider keys is never given to the optimizer
    # ... only its own service token, from a Secret of its own, required: the pod does not start without one
    token_ref = {"name": naming.OPTIMIZER_TOKEN_SECRET, "key": "ANYRAY_OPTIMIZER_TOKEN"}
    from_secret = [(e["name"], e["valueFrom"]["secretKeyRef"]) for e in container["env"] if "valueFrom" in e]
    cache = [("ANYRAY_REDIS_URL", {"name": naming.SECRET, "key": "ANYRAY_REDIS_URL"})] if config.deploy.redis else []
    # (and, with deploy.redis, the one key of the shared Secret its response cache needs: never a provider key)
    assert from_secret == [("ANYRAY_OPTIMIZER_TOKEN", token_ref), *cache]
    # the gateway (and LiteLLM) read the same one, as required, whatever the provider keys' Secret holds
    workloads = [naming.GATEWAY_SERVICE] + ([naming.LITELLM_SERVICE] if config.deploy.litellm else [])
    for name in workloads:
        [other] = _one(objs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in other["env"]}
        assert env["ANYRAY_OPTIMIZER_TOKEN"]["valueFrom"]["secretKeyRef"] == token_ref
        assert other["envFrom"][0]["secretRef"]["name"] == naming.SECRET


def test_network_policy_lets_only_the_gateway_and_litellm_reach_the_optimizer(config_name, tmp_path):
    config = config_for(config_name, tmp_path)
    objs = manifests(render("gke", config))
    [policy] = _by_kind(objs)["NetworkPolicy"]
    optimizer = _one(objs, "Deployment", naming.OPTIMIZER_SERVICE)
    optimizer_labels = optimizer["spec"]["template"]["metadata"]["labels"]
    selector = policy["spec"]["podSelector"]["matchLabels"]
    # it selects the optimizer's pods, and no other deployment's
    assert selector.items() <= optimizer_labels.items()
    for deployment in _by_kind(objs)["Deployment"]:
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert (selector.items() <= labels.items()) == (deployment is optimizer)
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": naming.OPTIMIZER_PORT}]
    allowed = set()
    for peer in rule["from"]:
        assert set(peer) == {"podSelector"}  # no namespaceSelector / ipBlock: nothing from outside
        peer_labels = peer["podSelector"]["matchLabels"]
        allowed |= {
            d["metadata"]["name"]
            for d in _by_kind(objs)["Deployment"]
            if peer_labels.items() <= d["spec"]["template"]["metadata"]["labels"].items()
        }
    expected = {naming.GATEWAY_SERVICE} | ({naming.LITELLM_SERVICE} if config.deploy.litellm else set())
    assert allowed == expected


def test_the_configmap_is_the_runtime_config_for_the_cluster(config_name, tmp_path):
    config = config_for(config_name, tmp_path)
    objs = manifests(render("gke", config))
    data = _one(objs, "ConfigMap", naming.CONFIGMAP)["data"]["anyray.yaml"]
    path = tmp_path / "incluster.yaml"
    path.write_text(data)
    loaded = load_config(path, env={})  # what the pod loads, with no secret in its environment
    assert loaded.gateway.host == "0.0.0.0"
    assert loaded.optimizer.url == naming.optimizer_cluster_url(config.deploy.namespace)
    assert loaded.providers.vertex.project == config.deploy.project
    assert loaded.providers.vertex.credentials_file is None  # Workload Identity, not a key file
    assert loaded.model_map() == config.model_map()


def test_postgres_and_redis_come_from_the_secret_by_reference(tmp_path):
    objs = manifests(render("gke", config_for("stores", tmp_path)))
    [container] = _one(objs, "Deployment", naming.GATEWAY_SERVICE)["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    for name in ("ANYRAY_POSTGRES_URL", "ANYRAY_REDIS_URL"):
        assert env[name]["valueFrom"]["secretKeyRef"] == {"name": naming.SECRET, "key": name}
        assert "value" not in env[name]
    objs = manifests(render("gke", config_for("vertex-only", tmp_path)))
    [container] = _one(objs, "Deployment", naming.GATEWAY_SERVICE)["spec"]["template"]["spec"]["containers"]
    assert {e["name"] for e in container["env"]} == {"ANYRAY_CONFIG", "ANYRAY_OPTIMIZER_TOKEN"}


def test_no_secret_value_in_any_rendered_file_even_when_the_config_holds_keys(tmp_path):
    path = tmp_path / "anyray.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "providers": {
                    "anthropic": {"api_key": SECRETS["anthropic"]},
                    "vertex": {"project": "p", "credentials_file": str(tmp_path / "sa.json")},
                },
                "deploy": {"project": "p", "litellm": True, "postgres": True, "redis": True},
            }
        )
    )
    env = {"OPENAI_API_KEY": SECRETS["openai"], "POSTGRES_PASSWORD": SECRETS["postgres"]}
    config = load_config(path, env=env)
    assert config.providers.anthropic.api_key.get_secret_value() == SECRETS["anthropic"]
    assert config.providers.openai.api_key.get_secret_value() == SECRETS["openai"]
    for target in ("gke", "compose"):
        rendered = render(target, config)
        assert rendered.files
        for name, text in rendered.files.items():
            for secret in SECRETS.values():
                assert secret not in text, f"{target}/{name} holds a secret"
                assert secret[8:30] not in text
        # ...and the user is told where each key is read from instead
        assert any("ANTHROPIC_API_KEY" in w for w in rendered.warnings)


def test_litellm_config_registers_the_anyray_callback(tmp_path):
    objs = manifests(render("gke", config_for("litellm", tmp_path)))
    litellm_config = yaml.safe_load(_one(objs, "ConfigMap", naming.LITELLM_CONFIGMAP)["data"]["config.yaml"])
    assert litellm_config["litellm_settings"]["callbacks"] == ["anyray.adapters.litellm.proxy_handler"]
    deployment = _one(objs, "Deployment", naming.LITELLM_SERVICE)
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["ANYRAY_OPTIMIZER_URL"] == naming.optimizer_cluster_url("llm-gw")


# ------------------------------------------------------------------------------------------ Compose


def test_compose_file_validates_against_the_compose_spec(config_name, tmp_path):
    rendered = render("compose", config_for(config_name, tmp_path))
    doc = yaml.safe_load(rendered.files["compose.yaml"])
    validate_compose(doc)
    broken = copy.deepcopy(doc)
    broken["services"]["gateway"]["healthcheck"]["retires"] = 3
    with pytest.raises(jsonschema.ValidationError):
        validate_compose(broken)


def test_compose_publishes_only_the_gateway_and_keeps_secrets_in_the_env_file(config_name, tmp_path):
    config = config_for(config_name, tmp_path)
    rendered = render("compose", config)
    services = yaml.safe_load(rendered.files["compose.yaml"])["services"]
    assert services["gateway"]["ports"] == [f"127.0.0.1:{naming.GATEWAY_PORT}:{naming.GATEWAY_PORT}"]
    assert "ports" not in services["optimizer"]
    assert services["gateway"]["command"] == ["serve", "gateway"]
    assert services["optimizer"]["command"] == ["serve", "optimizer"]
    for name in ("gateway", "optimizer"):
        service = services[name]
        assert service["restart"] == "unless-stopped"
        assert "healthz" in " ".join(service["healthcheck"]["test"])
        assert service["read_only"] is True
        assert service["user"] == f"{RUN_AS}:{RUN_AS}"
        assert not any(k.endswith(("API_KEY", "TOKEN", "PASSWORD")) for k in service["environment"])
    # the gateway reads the secrets from the env file; the credential-free optimizer only its own token's file,
    # which the gateway and LiteLLM read too, and which none of them may start without
    token_file = {"path": "optimizer.env", "required": True}
    assert services["gateway"]["env_file"] == [{"path": "anyray.env", "required": False}, token_file]
    assert services["litellm"]["env_file"] == [{"path": "anyray.env", "required": False}, token_file]
    assert services["optimizer"]["env_file"] == [token_file]
    token_example = [line for line in rendered.files["optimizer.env.example"].splitlines() if not line.startswith("#")]
    assert token_example == ["ANYRAY_OPTIMIZER_TOKEN="]
    assert "ANYRAY_OPTIMIZER_TOKEN" not in rendered.files["anyray.env.example"]
    assert services["postgres"]["env_file"] == [{"path": "postgres.env", "required": False}]
    assert services["gateway"]["depends_on"]["optimizer"] == {"condition": "service_healthy"}
    for optional in ("litellm", "postgres", "redis"):
        assert services[optional]["profiles"] == [optional]
    enabled = [p for p in ("litellm", "postgres", "redis") if getattr(config.deploy, p)]
    assert rendered.files[".env"].splitlines()[-1] == f"COMPOSE_PROFILES={','.join(enabled)}"
    # the example env file names the variables and holds no value
    examples = [text for name, text in rendered.files.items() if name.endswith(".env.example")]
    for line in "\n".join(examples).splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            assert value == "", line
    # the gateway reads the config the file mounts, and that config calls the optimizer on the network
    runtime = yaml.safe_load(rendered.files["anyray.yaml"])
    assert runtime["optimizer"]["url"] == f"http://optimizer:{naming.OPTIMIZER_PORT}"
    assert runtime["gateway"]["host"] == "0.0.0.0"


def test_compose_wires_the_stores_and_mounts_a_vertex_key_read_only(tmp_path):
    rendered = render("compose", config_for("stores", tmp_path))
    services = yaml.safe_load(rendered.files["compose.yaml"])["services"]
    gateway = services["gateway"]
    assert gateway["environment"]["ANYRAY_POSTGRES_URL"] == "postgresql://anyray@postgres:5432/anyray"
    assert gateway["environment"]["ANYRAY_REDIS_URL"] == "redis://redis:6379/0"
    assert {"postgres", "redis"} <= set(gateway["depends_on"])
    assert "/home/me/keys/sa.json:/var/run/secrets/anyray/vertex-key.json:ro" in gateway["volumes"]
    assert yaml.safe_load(rendered.files["anyray.yaml"])["providers"]["vertex"]["credentials_file"] == (
        "/var/run/secrets/anyray/vertex-key.json"
    )
    assert "PGPASSWORD=" in rendered.files["anyray.env.example"].splitlines()
    assert "POSTGRES_PASSWORD=" in rendered.files["postgres.env.example"].splitlines()


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    return env if isinstance(env, dict) else dict(e.split("=", 1) for e in env)


def test_the_stores_a_rendering_runs_are_the_ones_its_servers_use(tmp_path):
    """deploy.postgres / deploy.redis start the stores and point the config at them: the gateway's spend
    store and the optimizer's response cache, as each container loads its config with its own environment."""
    config = Config.model_validate({"deploy": {"postgres": True, "redis": True, "project": "p"}})
    rendered = render("compose", config)
    services = yaml.safe_load(rendered.files["compose.yaml"])["services"]
    path = tmp_path / "anyray.yaml"
    path.write_text(rendered.files["anyray.yaml"])
    gateway = load_config(path, env=_environment(services["gateway"]))
    optimizer = load_config(path, env=_environment(services["optimizer"]))
    assert gateway.store.url == "postgresql://anyray@postgres:5432/anyray"
    assert optimizer.cache.url == "redis://redis:6379/0"
    assert "redis" in services["optimizer"]["depends_on"]
    assert "ANYRAY_POSTGRES_URL" not in _environment(services["optimizer"])  # the optimizer gets only its cache
    # on GKE the same two keys come from the Secret, each to the container that uses it
    objs = manifests(render("gke", config))
    for name, wanted in ((naming.GATEWAY_SERVICE, {"ANYRAY_POSTGRES_URL", "ANYRAY_REDIS_URL"}),
                         (naming.OPTIMIZER_SERVICE, {"ANYRAY_REDIS_URL"})):
        [container] = _one(objs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        refs = {e["name"] for e in container["env"] if "secretKeyRef" in e.get("valueFrom", {})
                and e["valueFrom"]["secretKeyRef"]["name"] == naming.SECRET}
        assert refs == wanted, name
    # a config that names its own stores keeps them
    own = Config.model_validate({"deploy": {"postgres": True, "redis": True},
                                 "store": {"url": "postgresql://db.internal/spend"}, "cache": {"url": "redis://r:1/2"}})
    runtime = yaml.safe_load(render("compose", own).files["anyray.yaml"])
    assert (runtime["store"]["url"], runtime["cache"]["url"]) == ("postgresql://db.internal/spend", "redis://r:1/2")
