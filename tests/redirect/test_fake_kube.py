"""The fake API server itself: patch semantics as apimachinery applies them, Status errors, selectors."""

from __future__ import annotations

import httpx
import pytest

from tests.kit.kube import FakeKubeAPI
from tests.redirect.conftest import TOKEN, container, env_of, workload

PATH = "/apis/apps/v1/namespaces/default/deployments/web"
SMP = {"content-type": "application/strategic-merge-patch+json"}


@pytest.fixture
def http(kube: FakeKubeAPI):
    with httpx.Client(base_url=kube.url, headers={"authorization": f"Bearer {TOKEN}"}) as client:  # type: ignore[attr-defined]
        yield client


def _env_patch(*items: dict) -> dict:
    return {"spec": {"template": {"spec": {"containers": [{"name": "app", "env": list(items)}]}}}}


def _names(kube: FakeKubeAPI) -> list[str]:
    return list(env_of(kube.get("Deployment", "web")))


def test_strategic_merge_orders_env_like_apimachinery(kube: FakeKubeAPI, http: httpx.Client) -> None:
    env = [{"name": n, "value": n.lower()} for n in ("A", "B", "C")]
    kube.add(workload("Deployment", "web", [container("app", env), container("side")]))

    # a patch of only new items puts them before the server-only items (mergeSortedSlice picks the patch side)
    assert http.patch(PATH, json=_env_patch({"name": "NEW", "value": "1"}), headers=SMP).status_code == 200
    assert _names(kube) == ["NEW", "A", "B", "C"]
    # an existing item keeps its place; a new one after it in the patch follows it
    http.patch(PATH, json=_env_patch({"name": "B", "value": "b2"}, {"name": "N2", "value": "2"}), headers=SMP)
    assert _names(kube) == ["NEW", "A", "B", "N2", "C"]
    assert env_of(kube.get("Deployment", "web"))["B"] == "b2"
    # $patch: delete removes by merge key; the other container is untouched
    http.patch(
        PATH, json=_env_patch({"name": "NEW", "$patch": "delete"}, {"name": "N2", "$patch": "delete"}), headers=SMP
    )
    assert _names(kube) == ["A", "B", "C"]
    assert "env" not in kube.get("Deployment", "web")["spec"]["template"]["spec"]["containers"][1]
    # null deletes a key; a list without a merge key (args) is replaced whole
    http.patch(
        PATH,
        json={"spec": {"replicas": None, "template": {"spec": {"containers": [{"name": "app", "args": ["x"]}]}}}},
        headers=SMP,
    )
    obj = kube.get("Deployment", "web")
    assert "replicas" not in obj["spec"]
    assert obj["spec"]["template"]["spec"]["containers"][0]["args"] == ["x"]


def test_versions_generation_and_noop(kube: FakeKubeAPI, http: httpx.Client) -> None:
    kube.add(workload("Deployment", "web", [container("app")]))
    first = kube.get("Deployment", "web")["metadata"]
    http.patch(PATH, json={"metadata": {"annotations": {"a": "1"}}}, headers=SMP)
    second = kube.get("Deployment", "web")["metadata"]
    assert int(second["resourceVersion"]) > int(first["resourceVersion"])
    assert second["generation"] == first["generation"]  # metadata only: no new generation
    http.patch(PATH, json={"metadata": {"annotations": {"a": "1"}}}, headers=SMP)
    assert kube.get("Deployment", "web")["metadata"] == second  # no-op: nothing moves
    http.patch(PATH, json={"spec": {"replicas": 5}}, headers=SMP)
    assert kube.get("Deployment", "web")["metadata"]["generation"] == second["generation"] + 1


def test_merge_patch_and_json_patch(kube: FakeKubeAPI, http: httpx.Client) -> None:
    kube.add(workload("Deployment", "web", [container("app", [{"name": "A", "value": "a"}])]))
    merge = {"content-type": "application/merge-patch+json"}
    # RFC 7386 replaces lists whole: the containers list becomes exactly the patch's
    http.patch(PATH, json={"spec": {"template": {"spec": {"containers": [{"name": "only"}]}}}}, headers=merge)
    assert kube.get("Deployment", "web")["spec"]["template"]["spec"]["containers"] == [{"name": "only"}]

    jp = {"content-type": "application/json-patch+json"}
    ops = [
        {"op": "add", "path": "/spec/template/spec/containers/0/env", "value": [{"name": "X", "value": "1"}]},
        {"op": "add", "path": "/metadata/labels/tier", "value": "web"},
        {"op": "replace", "path": "/spec/replicas", "value": 3},
    ]
    assert http.patch(PATH, json=ops, headers=jp).status_code == 200
    obj = kube.get("Deployment", "web")
    assert obj["spec"]["replicas"] == 3 and obj["metadata"]["labels"]["tier"] == "web"
    failed = http.patch(PATH, json=[{"op": "test", "path": "/spec/replicas", "value": 9}], headers=jp)
    assert failed.status_code == 422 and failed.json()["kind"] == "Status"
    assert http.patch(PATH, content=b"{}", headers={"content-type": "text/plain"}).status_code == 415


def test_errors_are_status_objects(kube: FakeKubeAPI, http: httpx.Client) -> None:
    missing = http.get(PATH)
    assert missing.status_code == 404
    assert missing.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'deployments.apps "web" not found',
        "reason": "NotFound",
        "details": {"name": "web", "group": "apps", "kind": "deployments"},
        "code": 404,
    }
    assert httpx.get(kube.url + PATH).status_code == 401  # type: ignore[attr-defined]
    kube.add(workload("Deployment", "web", [container("app")]))
    kube.deny("get", "deployments")
    forbidden = http.get(PATH)
    assert forbidden.status_code == 403 and forbidden.json()["reason"] == "Forbidden"
    assert 'cannot get resource "deployments" in API group "apps"' in forbidden.json()["message"]


def test_list_with_label_selectors(kube: FakeKubeAPI, http: httpx.Client) -> None:
    for name, labels in [("a", {"tier": "web", "team": "ai"}), ("b", {"tier": "db"}), ("c", {"team": "ai"})]:
        kube.add(workload("Deployment", name, [container("app")], labels=labels))
    url = "/apis/apps/v1/namespaces/default/deployments"

    def names(selector: str) -> list[str]:
        body = http.get(url, params={"labelSelector": selector}).json()
        assert body["kind"] == "DeploymentList" and all("kind" not in i for i in body["items"])
        return [i["metadata"]["name"] for i in body["items"]]

    assert names("") == ["a", "b", "c"]
    assert names("team=ai") == ["a", "c"]
    assert names("team==ai,tier!=web") == ["c"]
    assert names("tier in (web, db)") == ["a", "b"]
    assert names("tier notin (web)") == ["b", "c"]
    assert names("!tier") == ["c"]
    assert names("tier") == ["a", "b"]
