"""A fake Kubernetes API server, for testing `anyray redirect` with the real `kubernetes` client.

This is a FAKE, not a cluster: it stores objects in memory and speaks just enough of the API for the
workload kinds redirect touches, written from the Kubernetes API reference and the apimachinery
strategic-merge-patch rules. What it covers:

- `GET` and `PATCH` of one object and `GET` (LIST, with `labelSelector`) of a collection at
  `/apis/apps/v1/namespaces/{ns}/{deployments,statefulsets,daemonsets}` and
  `/apis/batch/v1/namespaces/{ns}/cronjobs`; list items carry no kind/apiVersion, like the real server.
- PATCH as `application/strategic-merge-patch+json` (lists merged by their merge key: containers and
  env by `name`, ports by `containerPort`, volumeMounts by `mountPath`, ...; `$patch: delete` and
  `$patch: replace` in list items and maps; `null` deletes a key; the element order of a merged list
  follows apimachinery's `mergeSlice`/`normalizeElementOrder`, so new items go before the server-only
  items that follow them), `application/merge-patch+json` (RFC 7386) and `application/json-patch+json`
  (RFC 6902: add, remove, replace, test, copy, move). Other content types get a 415.
- After a write, empty lists/maps and nulls are dropped (what Go's `omitempty` does when the server
  re-encodes the typed object); `metadata.resourceVersion` goes up on every change and
  `metadata.generation` when anything outside metadata/status changed; a no-op patch changes nothing.
- A `metadata.resourceVersion` in a merge patch is a precondition: 409 Conflict when the object moved.
- Errors in the `Status` shape: 404 NotFound, 403 Forbidden (rules added with `deny`), 401 when a
  bearer token is required and missing or wrong, 400 for a patch it cannot apply, 415.
- `requests`: every request seen (method, path, query, content type, JSON body), for assertions.

Not covered: `$setElementOrder`, `$retainKeys`, `$deleteFromPrimitiveList`, server-side apply,
watches, dryRun, admission and validation, other groups and kinds, cluster-scoped lists.
"""

from __future__ import annotations

import copy
import itertools
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

# (group, version, plural) -> Kind, for the workload kinds that carry a pod template.
RESOURCES: dict[tuple[str, str, str], str] = {
    ("apps", "v1", "deployments"): "Deployment",
    ("apps", "v1", "statefulsets"): "StatefulSet",
    ("apps", "v1", "daemonsets"): "DaemonSet",
    ("batch", "v1", "cronjobs"): "CronJob",
}

# Lists whose patch strategy is "merge", keyed by field name, with their merge key (from the Go types'
# `patchStrategy:"merge" patchMergeKey:"..."` tags). Every other list is replaced whole by a patch.
MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "ports": "containerPort",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "volumes": "name",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
    "ownerReferences": "uid",
    "conditions": "type",
}

STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


class PatchError(Exception):
    """A patch the server cannot apply: becomes a 400 (or 422 for a failed json-patch test)."""

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.code = code


@dataclass
class KubeRequest:
    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: Any = None


@dataclass
class _Deny:
    verb: str
    resource: str
    namespace: str | None


@dataclass
class FakeKubeAPI:
    """The fake API server's state and ASGI app; serve `app` with `ServerThread`."""

    token: str | None = None
    user: str = "system:serviceaccount:test:redirect"
    requests: list[KubeRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self._denies: list[_Deny] = []
        self._rv = itertools.count(1000)
        self._lock = threading.RLock()
        self.after_get: Callable[[KubeRequest], None] | None = None  # e.g. someone else edits the object
        base = "/apis/{group}/{version}/namespaces/{namespace}/{resource}"
        self.app = Starlette(
            routes=[
                Route(base, self._collection, methods=["GET"]),
                Route(base + "/{name}", self._item, methods=["GET", "PATCH"]),
            ]
        )

    # -- seeding and inspection (test side) -------------------------------------------------------

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store an object as if created: fills uid, resourceVersion, generation and creationTimestamp."""
        plural = _plural_of(obj["kind"])
        group, _version = _group_version(obj["apiVersion"])
        stored = copy.deepcopy(obj)
        meta = stored.setdefault("metadata", {})
        meta.setdefault("namespace", "default")
        meta.setdefault("uid", str(uuid.uuid4()))
        meta.setdefault("creationTimestamp", "2026-01-01T00:00:00Z")
        meta["resourceVersion"] = str(next(self._rv))
        meta["generation"] = 1
        stored = _omit_empty(stored)
        with self._lock:
            self._objects[(group, plural, meta["namespace"], meta["name"])] = stored
        return copy.deepcopy(stored)

    def get(self, kind: str, name: str, namespace: str = "default") -> dict[str, Any]:
        group = next(g for (g, _v, p), k in RESOURCES.items() if k == kind)
        with self._lock:
            return copy.deepcopy(self._objects[(group, _plural_of(kind), namespace, name)])

    def update(
        self, kind: str, name: str, change: Callable[[dict[str, Any]], None], namespace: str = "default"
    ) -> None:
        """Change a stored object as another client would (new resourceVersion, generation if spec moved)."""
        group = next(g for (g, _v, p), k in RESOURCES.items() if k == kind)
        key = (group, _plural_of(kind), namespace, name)
        with self._lock:
            obj = copy.deepcopy(self._objects[key])
            change(obj)
            obj["metadata"]["resourceVersion"] = str(next(self._rv))
            if _without(obj, "metadata", "status") != _without(self._objects[key], "metadata", "status"):
                obj["metadata"]["generation"] += 1
            self._objects[key] = _omit_empty(obj)

    def deny(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """Answer 403 to `verb` (get, list, patch) on `resource` (e.g. deployments), as missing RBAC would."""
        self._denies.append(_Deny(verb, resource, namespace))

    def patches(self) -> list[KubeRequest]:
        return [r for r in self.requests if r.method == "PATCH"]

    # -- HTTP ----------------------------------------------------------------------------------------

    async def _record(self, request: Request) -> KubeRequest:
        raw = await request.body()
        body: Any = None
        if raw:
            try:
                body = orjson.loads(raw)
            except orjson.JSONDecodeError:
                body = raw.decode("utf-8", "replace")
        entry = KubeRequest(
            request.method,
            request.url.path,
            dict(request.query_params),
            request.headers.get("content-type"),
            body,
        )
        self.requests.append(entry)
        return entry

    def _check(self, request: Request, verb: str, group: str, resource: str, namespace: str, name: str | None):
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return _status(401, "Unauthorized", "Unauthorized")
        for rule in self._denies:
            if rule.verb == verb and rule.resource == resource and rule.namespace in (None, namespace):
                what = f'{resource}.{group} "{name}"' if name else f"{resource}.{group}"
                message = (
                    f'{what} is forbidden: User "{self.user}" cannot {verb} resource "{resource}" '
                    f'in API group "{group}" in the namespace "{namespace}"'
                )
                return _status(403, "Forbidden", message, name=name, group=group, kind=resource)
        return None

    async def _collection(self, request: Request) -> Response:
        await self._record(request)
        p = request.path_params
        key = (p["group"], p["version"], p["resource"])
        if key not in RESOURCES:
            return _status(404, "NotFound", "the server could not find the requested resource")
        denied = self._check(request, "list", p["group"], p["resource"], p["namespace"], None)
        if denied:
            return denied
        try:
            match = _selector(request.query_params.get("labelSelector", ""))
        except ValueError as exc:
            return _status(400, "BadRequest", f"unable to parse requirement: {exc}")
        with self._lock:
            items = [
                copy.deepcopy(obj)
                for (g, plural, ns, _n), obj in sorted(self._objects.items())
                if g == p["group"]
                and plural == p["resource"]
                and ns == p["namespace"]
                and match(obj.get("metadata", {}).get("labels", {}))
            ]
            rv = str(next(self._rv))
        for item in items:  # items of a list carry no kind/apiVersion on the wire
            item.pop("kind", None)
            item.pop("apiVersion", None)
        body = {
            "kind": RESOURCES[key] + "List",
            "apiVersion": f"{p['group']}/{p['version']}",
            "metadata": {"resourceVersion": rv},
            "items": items,
        }
        return _json(200, body)

    async def _item(self, request: Request) -> Response:
        entry = await self._record(request)
        p = request.path_params
        group, resource, namespace, name = p["group"], p["resource"], p["namespace"], unquote(p["name"])
        if (group, p["version"], resource) not in RESOURCES:
            return _status(404, "NotFound", "the server could not find the requested resource")
        verb = "get" if request.method == "GET" else "patch"
        denied = self._check(request, verb, group, resource, namespace, name)
        if denied:
            return denied
        with self._lock:
            current = self._objects.get((group, resource, namespace, name))
            if current is None:
                return _status(
                    404, "NotFound", f'{resource}.{group} "{name}" not found', name=name, group=group, kind=resource
                )
            if request.method == "GET":
                response = _json(200, current)
                if self.after_get is not None:
                    self.after_get(entry)
                return response
            content_type = (entry.content_type or "").split(";")[0].strip()
            wanted = (entry.body.get("metadata") or {}).get("resourceVersion") if isinstance(entry.body, dict) else None
            if wanted is not None and str(wanted) != current["metadata"]["resourceVersion"]:
                message = (
                    f'Operation cannot be fulfilled on {resource}.{group} "{name}": the object has been modified; '
                    "please apply your changes to the latest version and try again"
                )
                return _status(409, "Conflict", message, name=name, group=group, kind=resource)
            try:
                patched = _apply_patch(current, entry.body, content_type)
            except PatchError as exc:
                reason = "UnsupportedMediaType" if exc.code == 415 else "BadRequest" if exc.code == 400 else "Invalid"
                return _status(exc.code, reason, str(exc))
            patched = _omit_empty(patched)
            for immutable in ("name", "namespace", "uid", "creationTimestamp"):
                patched.setdefault("metadata", {})[immutable] = current["metadata"].get(immutable)
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]  # the precondition
            patched["metadata"]["generation"] = current["metadata"]["generation"]
            if patched != current:
                patched["metadata"]["resourceVersion"] = str(next(self._rv))
                if _without(patched, "metadata", "status") != _without(current, "metadata", "status"):
                    patched["metadata"]["generation"] = current["metadata"]["generation"] + 1
                self._objects[(group, resource, namespace, name)] = patched
            return _json(200, patched)


# -- patch application -------------------------------------------------------------------------------


def _apply_patch(current: dict[str, Any], patch: Any, content_type: str) -> dict[str, Any]:
    if content_type == STRATEGIC:
        if not isinstance(patch, dict):
            raise PatchError("a strategic merge patch must be a JSON object")
        return strategic_merge(copy.deepcopy(current), copy.deepcopy(patch))
    if content_type == MERGE:
        if not isinstance(patch, dict):
            raise PatchError("a merge patch must be a JSON object")
        return json_merge_patch(copy.deepcopy(current), patch)
    if content_type == JSON_PATCH:
        if not isinstance(patch, list):
            raise PatchError("a json patch must be a JSON array of operations")
        return json_patch(copy.deepcopy(current), patch)
    raise PatchError(
        f"the body of the request was in an unknown format - accepted media types include: "
        f"{JSON_PATCH}, {MERGE}, {STRATEGIC}",
        code=415,
    )


def strategic_merge(original: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """apimachinery's mergeMap for the fields in MERGE_KEYS; other lists are replaced."""
    directive = patch.pop("$patch", None)
    if directive == "replace":
        return patch
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise PatchError(f"unknown patch type: {directive!r}")
    for key in patch:
        if key.startswith(("$setElementOrder/", "$deleteFromPrimitiveList/", "$retainKeys")):
            raise PatchError(f"{key}: directive not supported by this fake API server")
    for key, value in patch.items():
        if value is None:
            original.pop(key, None)
            continue
        if key not in original:
            original[key] = _strip_directives(value)
            continue
        old = original[key]
        if isinstance(old, dict) and isinstance(value, dict):
            original[key] = strategic_merge(old, value)
        elif isinstance(old, list) and isinstance(value, list) and key in MERGE_KEYS:
            original[key] = _merge_list(old, value, MERGE_KEYS[key])
        else:
            original[key] = _strip_directives(value)
    return original


def _merge_list(original: list[Any], patch: list[Any], key: str) -> list[Any]:
    """apimachinery mergeSlice for a list of maps with a merge key, element order included."""
    plain: list[dict[str, Any]] = []
    replace = False
    for item in patch:
        if not isinstance(item, dict):
            raise PatchError(f"list items merged by {key!r} must be objects")
        directive = item.get("$patch")
        if directive is None:
            if key not in item:
                raise PatchError(f"map: {item} does not contain declared merge key: {key}")
            plain.append(item)
        elif directive == "delete":
            if key not in item:
                raise PatchError(f"map: {item} does not contain declared merge key: {key}")
            original = [o for o in original if o.get(key) != item[key]]
        elif directive == "replace":
            replace = True
        else:
            raise PatchError(f"unknown patch type: {directive!r} in {item}")
    if replace:
        return [_strip_directives(i) for i in plain]
    server_order = list(original)
    merged = list(original)
    for item in plain:
        for i, existing in enumerate(merged):
            if existing.get(key) == item[key]:
                merged[i] = strategic_merge(copy.deepcopy(existing), copy.deepcopy(item))
                break
        else:
            merged.append(_strip_directives(item))
    patch_keys = [i[key] for i in plain]
    patch_items = sorted((m for m in merged if m.get(key) in patch_keys), key=lambda m: patch_keys.index(m[key]))
    server_only = [m for m in merged if m.get(key) not in patch_keys]
    server_keys = [s.get(key) for s in server_order]
    return _merge_sorted(server_only, patch_items, server_keys, key)


def _merge_sorted(left: list[Any], right: list[Any], server_keys: list[Any], key: str) -> list[Any]:
    """mergeSortedSlice: a server-only item goes first only when both are on the server and it came first."""
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            lk, rk = left[i].get(key), right[j].get(key)
            if lk in server_keys and rk in server_keys and server_keys.index(lk) < server_keys.index(rk):
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _strip_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_directives(v) for k, v in value.items() if k != "$patch"}
    if isinstance(value, list):
        return [_strip_directives(v) for v in value if not (isinstance(v, dict) and v.get("$patch") == "delete")]
    return value


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = json_merge_patch(target.get(key), value)
    return target


def json_patch(doc: Any, operations: list[Any]) -> Any:
    """RFC 6902 (JSON pointers per RFC 6901)."""
    for op in operations:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise PatchError(f"invalid json patch operation: {op}")
        kind, path = op["op"], op["path"]
        if kind == "test":
            if _pointer_get(doc, path) != op.get("value"):
                raise PatchError(f"testing value {path} failed", code=422)
        elif kind == "remove":
            doc = _pointer_remove(doc, path)
        elif kind == "add":
            doc = _pointer_add(doc, path, copy.deepcopy(op.get("value")))
        elif kind == "replace":
            _pointer_get(doc, path)
            doc = _pointer_remove(doc, path)
            doc = _pointer_add(doc, path, copy.deepcopy(op.get("value")))
        elif kind in ("copy", "move"):
            value = copy.deepcopy(_pointer_get(doc, op.get("from", "")))
            if kind == "move":
                doc = _pointer_remove(doc, op["from"])
            doc = _pointer_add(doc, path, value)
        else:
            raise PatchError(f"unexpected json patch op {kind!r}")
    return doc


def _tokens(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"invalid JSON pointer {path!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _walk(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for token in tokens:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            raise PatchError(f"jsonpatch: path {path!r} does not exist")
    return node


def _pointer_get(doc: Any, path: str) -> Any:
    return _walk(doc, _tokens(path), path)


def _pointer_remove(doc: Any, path: str) -> Any:
    tokens = _tokens(path)
    if not tokens:
        return None
    parent = _walk(doc, tokens[:-1], path)
    last = tokens[-1]
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        del parent[int(last)]
    else:
        raise PatchError(f"jsonpatch remove: path {path!r} does not exist")
    return doc


def _pointer_add(doc: Any, path: str, value: Any) -> Any:
    tokens = _tokens(path)
    if not tokens:
        return value
    parent = _walk(doc, tokens[:-1], path)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise PatchError(f"jsonpatch add: index {last!r} out of range in {path!r}")
    else:
        raise PatchError(f"jsonpatch add: {path!r} has no parent object or array")
    return doc


# -- helpers -----------------------------------------------------------------------------------------


def _omit_empty(value: Any) -> Any:
    """What re-encoding a typed Go object does to optional fields: nulls, [] and {} disappear."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            v = _omit_empty(v)
            if v is None or v == [] or v == {}:
                continue
            out[k] = v
        return out
    if isinstance(value, list):
        return [_omit_empty(v) for v in value]
    return value


def _without(obj: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in keys}


def _plural_of(kind: str) -> str:
    for (_g, _v, plural), k in RESOURCES.items():
        if k == kind:
            return plural
    raise KeyError(f"the fake API server does not serve kind {kind!r}")


def _group_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def _json(code: int, body: Any) -> Response:
    return Response(orjson.dumps(body), code, media_type="application/json")


def _status(code: int, reason: str, message: str, **details: Any) -> Response:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    details = {k: v for k, v in details.items() if v}
    if details:
        body["details"] = details
    return _json(code, body)


_REQUIREMENT = re.compile(
    r"^\s*(?P<neg>!)?\s*(?P<key>[A-Za-z0-9._/-]+)\s*"
    r"(?:(?P<op>==|!=|=|\s+in\s+|\s+notin\s+)\s*(?P<value>\([^)]*\)|[A-Za-z0-9._-]*))?\s*$"
)


def _selector(text: str):
    """A label selector (`a=b,c!=d,e in (x,y),f notin (z),g,!h`) as a predicate over a labels map."""
    parts = [p for p in re.split(r",(?![^(]*\))", text) if p.strip()]
    checks = []
    for part in parts:
        m = _REQUIREMENT.match(part)
        if not m or (m["neg"] and m["op"]):
            raise ValueError(part)
        key, op, value = m["key"], (m["op"] or "").strip(), m["value"]
        if not op:
            checks.append((lambda labels, k=key, neg=bool(m["neg"]): (k in labels) != neg))
        elif op in ("=", "=="):
            checks.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif op == "!=":
            checks.append(lambda labels, k=key, v=value: labels.get(k) != v)
        else:
            values = {v.strip() for v in value.strip("()").split(",") if v.strip()}
            if op == "in":
                checks.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                checks.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
    return lambda labels: all(check(labels) for check in checks)
