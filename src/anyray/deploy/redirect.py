"""What `anyray redirect` changes in a workload, and how it is undone, independent of where it lives.

A workload is pointed at the gateway by one config change: the SDK base-URL env vars on its pod
template. This module computes that change for one object (a dict from the API server or a YAML
document), records what it replaces in annotations on the object itself (so the record travels with
the object, survives the laptop that made it, and shows in `kubectl get -o yaml` and in git), and
computes the exact inverse from that record. The cluster (kube.py) and file (manifest_file.py)
back ends only carry these plans out.

The record keeps each replaced env entry whole (`value` or `valueFrom`), or null for a var that was
absent, so undo restores exactly what was there, deletes what was not, and a second redirect keeps the
first record instead of recording the gateway URL as "previous".
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any, Literal

ANNOTATION_PREFIX = "anyray.dev/"
ANNOTATION_PREVIOUS = ANNOTATION_PREFIX + "redirect-previous"
ANNOTATION_AT = ANNOTATION_PREFIX + "redirected-at"
ANNOTATION_BY = ANNOTATION_PREFIX + "redirected-by"
ANNOTATION_GATEWAY = ANNOTATION_PREFIX + "redirect-gateway"
ANNOTATIONS = (ANNOTATION_PREVIOUS, ANNOTATION_AT, ANNOTATION_BY, ANNOTATION_GATEWAY)

ANTHROPIC_VAR = "ANTHROPIC_BASE_URL"
OPENAI_VAR = "OPENAI_BASE_URL"

Sdk = Literal["anthropic", "openai", "both"]

# Where each kind keeps its pod template.
TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}

Entry = dict[str, Any]  # one env entry: {"name": ..., "value": ...} or {"name": ..., "valueFrom": {...}}
Record = dict[str, dict[str, Entry | None]]  # container -> var -> the entry it replaced (None: absent)


class RedirectError(Exception):
    """A reason not to change a workload, as a sentence a person can act on."""


def target_env(gateway_url: str, sdk: Sdk = "both") -> dict[str, str]:
    """The env a redirected container gets: the Anthropic SDK takes the root, the OpenAI SDK `/v1`."""
    url = gateway_url.rstrip("/")
    env: dict[str, str] = {}
    if sdk in ("anthropic", "both"):
        env[ANTHROPIC_VAR] = url
    if sdk in ("openai", "both"):
        env[OPENAI_VAR] = url + "/v1"
    return env


@dataclass
class EnvChange:
    container: str
    name: str
    old: Entry | None
    new: Entry | None

    @property
    def note(self) -> str | None:
        """A warning to print with the change, when it replaces something not a plain value."""
        if self.old is not None and "valueFrom" in self.old and self.new is not None:
            return f"was set from {describe(self.old)}; undo puts that reference back"
        return None


@dataclass
class Plan:
    """The env changes and annotation changes for one object."""

    kind: str
    name: str
    namespace: str | None
    changes: list[EnvChange] = field(default_factory=list)
    annotations: dict[str, str | None] = field(default_factory=dict)  # None removes the annotation
    warnings: list[str] = field(default_factory=list)
    resource_version: str | None = None  # sent with the patch: the API server refuses it if the object moved

    @property
    def ref(self) -> str:
        return f"{self.kind.lower()}/{self.name}"

    @property
    def empty(self) -> bool:
        return not self.changes and not self.annotations


def describe(entry: Entry | None) -> str:
    """An env entry as the diff shows it."""
    if entry is None:
        return "(unset)"
    if "valueFrom" in entry:
        source = entry["valueFrom"] or {}
        for key, label in (("secretKeyRef", "secret"), ("configMapKeyRef", "configmap")):
            if key in source:
                ref = source[key] or {}
                return f"({label} {ref.get('name')} key {ref.get('key')})"
        if "fieldRef" in source:
            return f"(field {source['fieldRef'].get('fieldPath')})"
        return f"(valueFrom {json.dumps(source, sort_keys=True)})"
    return str(entry.get("value", ""))


# -- reading an object --------------------------------------------------------------------------------


def pod_spec(obj: Mapping[str, Any], kind: str) -> Mapping[str, Any]:
    node: Any = obj
    for key in (*TEMPLATE_PATHS[kind], "spec"):
        node = node.get(key) if isinstance(node, Mapping) else None
        if node is None:
            where = ".".join(TEMPLATE_PATHS[kind])
            raise RedirectError(f"{kind.lower()}/{name_of(obj)} has no pod template at {where}")
    return node


def containers(obj: Mapping[str, Any], kind: str) -> list[Mapping[str, Any]]:
    return list(pod_spec(obj, kind).get("containers") or [])


def name_of(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name", "?"))


def annotations_of(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return (obj.get("metadata") or {}).get("annotations") or {}


def read_record(obj: Mapping[str, Any], kind: str) -> Record | None:
    raw = annotations_of(obj).get(ANNOTATION_PREVIOUS)
    if raw is None:
        return None
    try:
        record = json.loads(str(raw))
    except json.JSONDecodeError:
        record = None
    if not isinstance(record, dict) or not all(isinstance(v, dict) for v in record.values()):
        raise RedirectError(
            f"{kind.lower()}/{name_of(obj)}: annotation {ANNOTATION_PREVIOUS} is not a record anyray wrote; "
            "fix or remove it by hand"
        )
    return record


def choose_containers(obj: Mapping[str, Any], kind: str, container: str | None, all_containers: bool) -> list[str]:
    """Which containers to change: the one named, all of them, or the only one there is."""
    names = [str(c.get("name")) for c in containers(obj, kind)]
    ref = f"{kind.lower()}/{name_of(obj)}"
    if not names:
        raise RedirectError(f"{ref} has no containers")
    if container is not None:
        if container not in names:
            raise RedirectError(f"{ref} has no container {container!r} (it has: {', '.join(names)})")
        return [container]
    if all_containers or len(names) == 1:
        return names
    raise RedirectError(
        f"{ref} has {len(names)} containers ({', '.join(names)}); choose one with --container NAME "
        "or change them all with --all-containers"
    )


def _env_entry(container: Mapping[str, Any], var: str) -> Entry | None:
    for entry in container.get("env") or []:
        if entry.get("name") == var:
            return _plain(entry)
    return None


def _plain(value: Any) -> Any:
    """A YAML (ruamel) or JSON node as plain dicts/lists/scalars, for comparison and JSON."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return str(value)
    return value


# -- planning -----------------------------------------------------------------------------------------


def plan_redirect(
    obj: Mapping[str, Any],
    kind: str,
    gateway_url: str,
    sdk: Sdk = "both",
    container: str | None = None,
    all_containers: bool = False,
    now: str = "",
    who: str = "",
) -> Plan:
    """The env changes that point the chosen containers at the gateway, and the record that undoes them."""
    plan = _new_plan(obj, kind)
    chosen = choose_containers(obj, kind, container, all_containers)
    record: Record = copy.deepcopy(read_record(obj, kind) or {})
    wanted = target_env(gateway_url, sdk)
    by_name = {str(c.get("name")): c for c in containers(obj, kind)}
    for cname in chosen:
        kept = record.setdefault(cname, {})
        for var, value in wanted.items():
            current = _env_entry(by_name[cname], var)
            if var not in kept:  # first time anyray touches this var here: remember what it replaces
                kept[var] = current
            new: Entry = {"name": var, "value": value}
            if current != new:
                plan.changes.append(EnvChange(cname, var, current, new))
    if plan.changes:
        plan.warnings += [f"{c.container}: {c.name} {c.note}" for c in plan.changes if c.note]
        plan.annotations = {
            ANNOTATION_PREVIOUS: json.dumps(record, separators=(",", ":")),  # entries keep their key order
            ANNOTATION_AT: now,
            ANNOTATION_BY: who,
            ANNOTATION_GATEWAY: gateway_url.rstrip("/"),
        }
    return plan


def plan_undo(obj: Mapping[str, Any], kind: str) -> Plan:
    """Put back every recorded entry (deleting vars that were absent) and drop the annotations."""
    plan = _new_plan(obj, kind)
    record = read_record(obj, kind)
    if record is None:
        raise RedirectError(
            f"{plan.ref} was not redirected by anyray (no {ANNOTATION_PREVIOUS} annotation); nothing to undo"
        )
    by_name = {str(c.get("name")): c for c in containers(obj, kind)}
    for cname, vars_ in record.items():
        if cname not in by_name:
            plan.warnings.append(f"container {cname} is gone from {plan.ref}; its recorded env is not restored")
            continue
        for var, previous in vars_.items():
            current = _env_entry(by_name[cname], var)
            if current != previous:
                plan.changes.append(EnvChange(cname, var, current, previous))
    plan.annotations = {key: None for key in ANNOTATIONS if key in annotations_of(obj)}
    return plan


def _new_plan(obj: Mapping[str, Any], kind: str) -> Plan:
    meta = obj.get("metadata") or {}
    version = meta.get("resourceVersion")
    return Plan(kind, name_of(obj), meta.get("namespace"), resource_version=str(version) if version else None)


# -- carrying a plan out ------------------------------------------------------------------------------


def strategic_patch(plan: Plan) -> dict[str, Any]:
    """The plan as one strategic-merge patch: containers and env merge by `name`, like kubectl's."""
    per_container: dict[str, list[dict[str, Any]]] = {}
    for change in plan.changes:
        items = per_container.setdefault(change.container, [])
        if change.new is None:
            items.append({"name": change.name, "$patch": "delete"})
        else:
            item = copy.deepcopy(change.new)
            for key in ("value", "valueFrom"):  # a key the old entry had and the new one lacks is cleared
                if change.old is not None and key in change.old and key not in item:
                    item[key] = None
            items.append(item)
    patch: dict[str, Any] = {}
    if plan.annotations:
        patch["metadata"] = {"annotations": dict(plan.annotations)}
    if plan.resource_version:  # optimistic concurrency: the previous values recorded are the ones replaced
        patch.setdefault("metadata", {})["resourceVersion"] = plan.resource_version
    if per_container:
        template: dict[str, Any] = {
            "spec": {"containers": [{"name": name, "env": env} for name, env in per_container.items()]}
        }
        for key in reversed(TEMPLATE_PATHS[plan.kind]):
            template = {key: template}
        patch.update(template)
    return patch


def apply_plan(obj: MutableMapping[str, Any], plan: Plan, new_map: type = dict) -> None:
    """Carry the plan out on the object in place (a YAML document): values edited where they stand,
    new vars appended, removed vars deleted, an `env:` or `annotations:` left empty removed."""
    spec = pod_spec(obj, plan.kind)
    by_name = {str(c.get("name")): c for c in spec.get("containers") or []}
    for change in plan.changes:
        container = by_name[change.container]
        env = container.get("env")
        index = next((i for i, e in enumerate(env or []) if e.get("name") == change.name), None)
        if change.new is None:
            if index is not None:
                del env[index]
            if env is not None and len(env) == 0:
                del container["env"]
            continue
        if env is None:
            container["env"] = env = []
        if index is None:
            env.append(_to_map(change.new, new_map))
            continue
        entry = env[index]
        for key in [k for k in entry if k not in ("name", *change.new)]:
            del entry[key]
        for key, value in change.new.items():
            if key != "name" and entry.get(key) != value:
                entry[key] = _to_map(value, new_map) if isinstance(value, Mapping) else value
    if plan.annotations:
        meta = obj.setdefault("metadata", new_map())
        notes = meta.get("annotations")
        for key, value in plan.annotations.items():
            if value is None:
                if notes is not None and key in notes:
                    del notes[key]
            else:
                if notes is None:
                    meta["annotations"] = notes = new_map()
                notes[key] = value
        if notes is not None and len(notes) == 0:
            del meta["annotations"]


def _to_map(value: Mapping[str, Any], new_map: type) -> Any:
    out = new_map()
    for k, v in value.items():
        out[k] = _to_map(v, new_map) if isinstance(v, Mapping) else v
    return out
