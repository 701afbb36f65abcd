"""`anyray redirect` against the fake API server, through the real kubernetes client and a kubeconfig."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from anyray.deploy.redirect import ANNOTATION_AT, ANNOTATION_BY, ANNOTATION_GATEWAY, ANNOTATION_PREVIOUS
from tests.kit.kube import FakeKubeAPI
from tests.redirect.conftest import (
    GATEWAY,
    TOKEN,
    container,
    env_of,
    free_port,
    pod_containers,
    workload,
    write_kubeconfig,
)

ORIGINAL_ENV = [
    {"name": "LOG_LEVEL", "value": "info"},
    {"name": "ANTHROPIC_BASE_URL", "value": "https://api.anthropic.com"},
    {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
]


def test_redirect_deployment_prints_diff_patches_and_records(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "web", [container("app", ORIGINAL_ENV)]))
    before = kube.get("Deployment", "web")

    result = anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, "--yes")

    assert result.exit_code == 0, result.output
    assert "deployment/web (namespace default)" in result.output
    assert f"ANTHROPIC_BASE_URL: https://api.anthropic.com → {GATEWAY}" in result.output
    assert f"OPENAI_BASE_URL: (unset) → {GATEWAY}/v1" in result.output
    after = kube.get("Deployment", "web")
    assert env_of(after) == {
        "LOG_LEVEL": "info",
        "ANTHROPIC_BASE_URL": GATEWAY,
        "OPENAI_BASE_URL": f"{GATEWAY}/v1",
        "DB_PASSWORD": {"secretKeyRef": {"name": "db", "key": "password"}},
    }
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1  # a rollout follows
    assert int(after["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    notes = after["metadata"]["annotations"]
    assert json.loads(notes[ANNOTATION_PREVIOUS]) == {
        "app": {
            "ANTHROPIC_BASE_URL": {"name": "ANTHROPIC_BASE_URL", "value": "https://api.anthropic.com"},
            "OPENAI_BASE_URL": None,
        }
    }
    assert notes[ANNOTATION_GATEWAY] == GATEWAY
    assert "@" in notes[ANNOTATION_BY] and "context fake-ctx" in notes[ANNOTATION_BY]
    assert notes[ANNOTATION_AT].endswith("Z")
    (patch,) = kube.patches()
    assert patch.content_type == "application/strategic-merge-patch+json"
    assert patch.path == "/apis/apps/v1/namespaces/default/deployments/web"
    # everything but the env and the annotations is as it was
    assert pod_containers(after)[0]["image"] == pod_containers(before)[0]["image"]
    assert after["spec"]["replicas"] == 2


@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "CronJob"])
def test_each_kind_redirects_and_undoes_to_the_identical_env(kube: FakeKubeAPI, anyray, kind: str) -> None:
    kube.add(workload(kind, "w", [container("app", ORIGINAL_ENV)]))
    original = json.dumps(pod_containers(kube.get(kind, "w")))

    result = anyray("redirect", f"{kind.lower()}/w", "--gateway-url", GATEWAY, "-y")
    assert result.exit_code == 0, result.output
    assert env_of(kube.get(kind, "w"))["OPENAI_BASE_URL"] == f"{GATEWAY}/v1"

    result = anyray("redirect", f"{kind.lower()}/w", "--undo", "-y")
    assert result.exit_code == 0, result.output
    restored = kube.get(kind, "w")
    assert json.dumps(pod_containers(restored)) == original  # same entries, same order, same bytes
    assert "annotations" not in restored["metadata"] or not any(
        k.startswith("anyray.dev/") for k in restored["metadata"]["annotations"]
    )


def test_undo_removes_vars_that_were_not_there_and_env_that_did_not_exist(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "bare", [container("app")]))  # no env at all
    assert anyray("redirect", "deploy/bare", "--gateway-url", GATEWAY, "-y").exit_code == 0
    assert env_of(kube.get("Deployment", "bare")) == {"ANTHROPIC_BASE_URL": GATEWAY, "OPENAI_BASE_URL": f"{GATEWAY}/v1"}

    result = anyray("redirect", "deploy/bare", "--undo", "-y")

    assert result.exit_code == 0, result.output
    assert f"ANTHROPIC_BASE_URL: {GATEWAY} → (unset)" in result.output
    restored = kube.get("Deployment", "bare")
    assert "env" not in pod_containers(restored)[0]
    assert "annotations" not in restored["metadata"]


def test_rerun_is_idempotent_and_keeps_the_first_previous_values(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "web", [container("app", ORIGINAL_ENV)]))
    original = json.dumps(pod_containers(kube.get("Deployment", "web")))
    assert anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, "-y").exit_code == 0
    first = kube.get("Deployment", "web")

    again = anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, "-y")

    assert again.exit_code == 0, again.output
    assert "nothing to change" in again.output
    assert len(kube.patches()) == 1  # the second run sent nothing
    assert kube.get("Deployment", "web") == first

    moved = anyray("redirect", "deployment/web", "--gateway-url", "http://gw2:8787", "-y")  # gateway moved
    assert moved.exit_code == 0, moved.output
    notes = kube.get("Deployment", "web")["metadata"]["annotations"]
    previous = json.loads(notes[ANNOTATION_PREVIOUS])["app"]
    assert previous["ANTHROPIC_BASE_URL"]["value"] == "https://api.anthropic.com"  # not the first gateway URL
    assert notes[ANNOTATION_GATEWAY] == "http://gw2:8787"

    assert anyray("redirect", "deployment/web", "--undo", "-y").exit_code == 0
    assert json.dumps(pod_containers(kube.get("Deployment", "web"))) == original


def test_dry_run_prints_the_diff_and_sends_no_patch(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "web", [container("app", ORIGINAL_ENV)]))
    before = kube.get("Deployment", "web")

    result = anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, "--dry-run")

    assert result.exit_code == 0, result.output
    assert f"OPENAI_BASE_URL: (unset) → {GATEWAY}/v1" in result.output
    assert "dry run: nothing was changed" in result.output
    assert kube.patches() == []
    assert [r.method for r in kube.requests] == ["GET"]
    assert kube.get("Deployment", "web") == before


def test_confirmation_declined_changes_nothing_and_accepted_applies(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "web", [container("app", ORIGINAL_ENV)]))

    declined = anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, input="n\n")
    assert declined.exit_code == 1
    assert "Redirect 1 object(s) in namespace default, context fake-ctx?" in declined.output
    assert kube.patches() == []

    accepted = anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert len(kube.patches()) == 1


def test_selector_changes_every_match_across_kinds(kube: FakeKubeAPI, anyray) -> None:
    team = {"team": "ai"}
    kube.add(workload("Deployment", "a", [container("app", [])], labels=team))
    kube.add(workload("Deployment", "b", [container("app", [{"name": "X", "value": "1"}])], labels=team))
    kube.add(workload("StatefulSet", "c", [container("db")], labels=team))
    kube.add(workload("Deployment", "other", [container("app")], labels={"team": "web"}))

    only_deployments = anyray("redirect", "deployment", "-l", "team=ai", "--gateway-url", GATEWAY, "--dry-run")
    assert only_deployments.exit_code == 0, only_deployments.output
    assert "deployment/a" in only_deployments.output and "deployment/b" in only_deployments.output
    assert "statefulset/c" not in only_deployments.output

    result = anyray("redirect", "-l", "team=ai", "--gateway-url", GATEWAY, "-y")

    assert result.exit_code == 0, result.output
    for kind, name in [("Deployment", "a"), ("Deployment", "b"), ("StatefulSet", "c")]:
        assert env_of(kube.get(kind, name))["ANTHROPIC_BASE_URL"] == GATEWAY
    assert "env" not in pod_containers(kube.get("Deployment", "other"))[0]
    lists = [r for r in kube.requests if r.method == "GET" and r.path.rsplit("/", 1)[-1] not in ("a", "b", "c")]
    assert all(r.query.get("labelSelector") == "team=ai" for r in lists)

    undo = anyray("redirect", "-l", "team=ai", "--undo", "-y")
    assert undo.exit_code == 0, undo.output
    assert env_of(kube.get("Deployment", "b")) == {"X": "1"}
    assert "env" not in pod_containers(kube.get("StatefulSet", "c"))[0]


def test_selector_with_no_match_says_where_it_looked(kube: FakeKubeAPI, anyray) -> None:
    result = anyray("redirect", "deployment", "-l", "team=nobody", "-y")
    assert result.exit_code == 1
    assert "no deployments match -l team=nobody in namespace default (context fake-ctx)" in result.output


def test_container_choice(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "two", [container("app", [{"name": "A", "value": "1"}]), container("proxy")]))

    ambiguous = anyray("redirect", "deployment/two", "--gateway-url", GATEWAY, "-y")
    assert ambiguous.exit_code == 1
    assert "has 2 containers (app, proxy)" in ambiguous.output and "--all-containers" in ambiguous.output
    assert kube.patches() == []

    missing = anyray("redirect", "deployment/two", "--container", "nope", "-y")
    assert missing.exit_code == 1 and "has no container 'nope' (it has: app, proxy)" in missing.output

    one = anyray("redirect", "deployment/two", "--container", "proxy", "--gateway-url", GATEWAY, "-y")
    assert one.exit_code == 0, one.output
    obj = kube.get("Deployment", "two")
    assert env_of(obj, "app") == {"A": "1"}
    assert env_of(obj, "proxy") == {"ANTHROPIC_BASE_URL": GATEWAY, "OPENAI_BASE_URL": f"{GATEWAY}/v1"}

    both = anyray("redirect", "deployment/two", "--all-containers", "--gateway-url", GATEWAY, "-y")
    assert both.exit_code == 0, both.output
    obj = kube.get("Deployment", "two")
    assert env_of(obj, "app")["ANTHROPIC_BASE_URL"] == GATEWAY
    assert set(json.loads(obj["metadata"]["annotations"][ANNOTATION_PREVIOUS])) == {"app", "proxy"}

    assert anyray("redirect", "deployment/two", "--undo", "-y").exit_code == 0
    obj = kube.get("Deployment", "two")
    assert env_of(obj, "app") == {"A": "1"} and env_of(obj, "proxy") == {}


def test_sdk_choice_sets_only_that_sdks_var(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "oa", [container("app")]))
    result = anyray("redirect", "deployment/oa", "--sdk", "openai", "--gateway-url", GATEWAY + "/", "-y")
    assert result.exit_code == 0, result.output
    assert env_of(kube.get("Deployment", "oa")) == {"OPENAI_BASE_URL": f"{GATEWAY}/v1"}


def test_default_gateway_url_is_the_in_cluster_service(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "web", [container("app")]))
    assert anyray("redirect", "deployment/web", "-y").exit_code == 0
    assert env_of(kube.get("Deployment", "web"))["ANTHROPIC_BASE_URL"] == (
        "http://anyray-gateway.anyray.svc.cluster.local:8787"
    )


def test_value_from_is_replaced_with_a_warning_and_restored_on_undo(kube: FakeKubeAPI, anyray) -> None:
    from_secret = {"secretKeyRef": {"name": "llm", "key": "base-url"}}
    env = [{"name": "ANTHROPIC_BASE_URL", "valueFrom": from_secret}, {"name": "B", "value": "2"}]
    kube.add(workload("Deployment", "sec", [container("app", env)]))
    original = json.dumps(pod_containers(kube.get("Deployment", "sec")))

    result = anyray("redirect", "deployment/sec", "--gateway-url", GATEWAY, "-y")

    assert result.exit_code == 0, result.output
    assert "ANTHROPIC_BASE_URL: (secret llm key base-url) → " in result.output
    assert "warning: app: ANTHROPIC_BASE_URL was set from (secret llm key base-url); undo puts that reference back" in (
        result.output
    )
    env_after = pod_containers(kube.get("Deployment", "sec"))[0]["env"]
    entry = next(e for e in env_after if e["name"] == "ANTHROPIC_BASE_URL")
    assert entry == {"name": "ANTHROPIC_BASE_URL", "value": GATEWAY}  # no valueFrom left beside the value

    assert anyray("redirect", "deployment/sec", "--undo", "-y").exit_code == 0
    assert json.dumps(pod_containers(kube.get("Deployment", "sec"))) == original


def test_namespace_comes_from_the_flag_or_the_context(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "web", [container("app")], namespace="other"))

    by_flag = anyray("redirect", "deployment/web", "-n", "other", "--gateway-url", GATEWAY, "--dry-run")
    assert by_flag.exit_code == 0, by_flag.output
    by_context = anyray("redirect", "deployment/web", "--context", "other-ctx", "--gateway-url", GATEWAY, "-y")
    assert by_context.exit_code == 0, by_context.output
    assert env_of(kube.get("Deployment", "web", "other"))["ANTHROPIC_BASE_URL"] == GATEWAY
    assert kube.patches()[0].path == "/apis/apps/v1/namespaces/other/deployments/web"


def test_undo_of_something_never_redirected_is_an_error(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "web", [container("app")]))
    result = anyray("redirect", "deployment/web", "--undo", "-y")
    assert result.exit_code == 1
    assert "deployment/web was not redirected by anyray" in result.output
    assert kube.patches() == []


# -- errors: sentences and non-zero exits ------------------------------------------------------------------


def test_not_found_names_namespace_and_context(kube: FakeKubeAPI, anyray) -> None:
    result = anyray("redirect", "deployment/ghost", "-n", "prod", "-y")
    assert result.exit_code == 1
    assert "error: deployment/ghost not found in namespace prod (context fake-ctx)" in result.output


def test_forbidden_names_the_verb_and_resource_rbac_must_allow(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "web", [container("app")]))
    kube.deny("patch", "deployments")
    result = anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, "-y")
    assert result.exit_code == 1
    assert "forbidden: RBAC must allow verb 'patch' on resource 'deployments.apps' in namespace default" in (
        result.output
    )
    assert "kubeconfig user tester" in result.output
    assert kube.get("Deployment", "web")["metadata"]["generation"] == 1


def test_unreachable_cluster(tmp_path: Path, anyray) -> None:
    dead = write_kubeconfig(tmp_path / "dead", f"http://127.0.0.1:{free_port()}")
    result = anyray("redirect", "deployment/web", "-y", kubeconfig=dead)
    assert result.exit_code == 1
    assert "error: cannot reach the cluster at http://127.0.0.1:" in result.output
    assert "(context fake-ctx)" in result.output


def test_no_kubeconfig_and_unknown_context(tmp_path: Path, anyray) -> None:
    missing = anyray("redirect", "deployment/web", "-y", kubeconfig=tmp_path / "nope")
    assert missing.exit_code == 1
    assert f"no usable kubeconfig at {tmp_path / 'nope'}" in missing.output

    context = anyray("redirect", "deployment/web", "--context", "prod", "-y")
    assert context.exit_code == 1
    assert "context 'prod' is not in the kubeconfig (it has: fake-ctx, other-ctx)" in context.output


def test_wrong_credentials_are_named(tmp_path: Path, kube: FakeKubeAPI, anyray) -> None:
    path = write_kubeconfig(tmp_path / "badtoken", kube.url)  # type: ignore[attr-defined]
    path.write_text(path.read_text().replace(TOKEN, "not-the-token"))
    result = anyray("redirect", "deployment/web", "-y", kubeconfig=path)
    assert result.exit_code == 1
    assert "rejected the credentials of context fake-ctx (401 Unauthorized)" in result.output


def test_unknown_kind_and_usage_errors(anyray) -> None:
    kind = anyray("redirect", "pod/web", "-y")
    assert kind.exit_code == 1
    assert "changes deployment, statefulset, daemonset, cronjob; 'pod' is not one of them" in kind.output
    nothing = anyray("redirect", "-y")
    assert nothing.exit_code == 2 and "say what to change" in nothing.output
    both = anyray("redirect", "deployment/web", "--container", "a", "--all-containers")
    assert both.exit_code == 2


def test_a_change_between_read_and_patch_is_refused_not_overwritten(kube: FakeKubeAPI, anyray) -> None:
    kube.add(workload("Deployment", "web", [container("app", ORIGINAL_ENV)]))

    def someone_else_edits(request) -> None:
        kube.after_get = None
        kube.update("Deployment", "web", lambda o: o["spec"].update(replicas=7))

    kube.after_get = someone_else_edits
    result = anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, "-y")

    assert result.exit_code == 1
    assert "deployment/web changed in namespace default (context fake-ctx) while anyray was working on it" in (
        result.output
    )
    obj = kube.get("Deployment", "web")
    assert obj["spec"]["replicas"] == 7 and "OPENAI_BASE_URL" not in env_of(obj)
    (patch,) = kube.patches()
    assert patch.body["metadata"]["resourceVersion"]  # the precondition was sent

    again = anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, "-y")  # a fresh read succeeds
    assert again.exit_code == 0, again.output


def test_exec_credential_plugin_in_the_kubeconfig_is_used(tmp_path: Path, kube: FakeKubeAPI, anyray) -> None:
    """Like gke-gcloud-auth-plugin: the kubeconfig runs a command that prints an ExecCredential."""
    plugin = tmp_path / "fake-auth-plugin"
    credential = {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "kind": "ExecCredential",
        "status": {"token": TOKEN},
    }
    plugin.write_text(f"#!/bin/sh\necho called >> {tmp_path / 'plugin.log'}\necho '{json.dumps(credential)}'\n")
    plugin.chmod(0o755)
    path = write_kubeconfig(tmp_path / "exec-kubeconfig", kube.url)  # type: ignore[attr-defined]
    config = yaml.safe_load(path.read_text())
    config["users"][0]["user"] = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": str(plugin),
            "interactiveMode": "Never",
            "provideClusterInfo": True,
        }
    }
    path.write_text(yaml.safe_dump(config))
    kube.add(workload("Deployment", "web", [container("app")]))

    result = anyray("redirect", "deployment/web", "--gateway-url", GATEWAY, "-y", kubeconfig=path)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "plugin.log").read_text().startswith("called")
    assert env_of(kube.get("Deployment", "web"))["ANTHROPIC_BASE_URL"] == GATEWAY
