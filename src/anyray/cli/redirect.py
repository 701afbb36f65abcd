"""`anyray redirect`: point workloads' SDK base URLs at the gateway, show the diff, record it, undo it.

One command for a live cluster (through the user's kubeconfig) and for manifest files (`--file`).
Everything is planned before anything is changed: an object that cannot be changed stops the whole
run with its reason, so a selector never leaves half the workloads redirected because of one.
"""

from __future__ import annotations

import getpass
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from anyray.deploy.kinds import KINDS, Kind, KubeError, kind_named, parse_kind
from anyray.deploy.naming import gateway_cluster_url
from anyray.deploy.redirect import Plan, RedirectError, describe, plan_redirect, plan_undo, strategic_patch

if TYPE_CHECKING:  # the [k8s] extra's modules are imported where a cluster or a file is changed
    from anyray.deploy.kube import Cluster
    from anyray.deploy.manifest_file import Document, ManifestFile

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class SdkChoice(StrEnum):
    anthropic = "anthropic"
    openai = "openai"
    both = "both"


@dataclass
class Target:
    """One object to change, wherever it lives."""

    kind: Kind
    obj: Any  # a dict from the API server, or a ruamel document
    namespace: str | None
    doc: Document | None = None
    manifest: ManifestFile | None = None
    plan: Plan | None = None


def _fail(message: str, code: int = 1) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code)


def redirect(
    target: str | None = typer.Argument(
        None,
        metavar="KIND/NAME",
        help="deployment/NAME, statefulset/NAME, daemonset/NAME or cronjob/NAME; or just KIND with -l.",
    ),
    selector: str | None = typer.Option(None, "--selector", "-l", help="Label selector: change every match."),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help="Namespace (default: the context's)."),
    context: str | None = typer.Option(None, "--context", help="kubeconfig context (default: the current one)."),
    kubeconfig: Path | None = typer.Option(None, "--kubeconfig", help="kubeconfig file (default: $KUBECONFIG)."),
    container: str | None = typer.Option(None, "--container", "-c", help="Change only this container."),
    all_containers: bool = typer.Option(False, "--all-containers", help="Change every container."),
    gateway_url: str | None = typer.Option(
        None, "--gateway-url", help=f"Gateway URL (default: the in-cluster Service, {gateway_cluster_url()})."
    ),
    sdk: SdkChoice = typer.Option(
        SdkChoice.both,
        "--sdk",
        case_sensitive=False,
        help="Which base URLs: ANTHROPIC_BASE_URL=<url>, OPENAI_BASE_URL=<url>/v1, or both.",
    ),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="Patch this manifest file (or Kustomize base directory) instead of the cluster."
    ),
    undo: bool = typer.Option(False, "--undo", help="Restore exactly what the last redirect replaced."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the diff; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Point workloads at the gateway by setting their SDK base-URL env vars; reversible with --undo."""
    if container and all_containers:
        raise _fail("--container and --all-containers are exclusive", 2)
    kind: Kind | None = None
    name: str | None = None
    try:
        if target:
            kind_text, _, name = target.partition("/")
            kind = parse_kind(kind_text)
            name = name or None
        if name and selector:
            raise _fail("give KIND/NAME or a selector (-l), not both", 2)
        if not name and not selector and file is None:
            raise _fail("say what to change: KIND/NAME, or [KIND] -l SELECTOR, or --file PATH", 2)
        url = (gateway_url or gateway_cluster_url()).rstrip("/")
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        who = f"{getpass.getuser()}@{socket.gethostname()}"

        cluster: Cluster | None = None
        if file is not None:
            targets = _file_targets(file, kind, name, selector, namespace)
            where = str(file)
        else:
            from anyray.deploy.kube import Cluster

            cluster = Cluster(context, str(kubeconfig) if kubeconfig else None)
            namespace = namespace or cluster.default_namespace
            targets = _cluster_targets(cluster, kind, name, selector, namespace)
            where = f"namespace {namespace}, context {cluster.context}"
            who += f" (kube user {cluster.user or '?'}, context {cluster.context})"

        problems: list[str] = []
        for t in targets:
            try:
                if undo:
                    t.plan = plan_undo(t.obj, t.kind.name)
                else:
                    t.plan = plan_redirect(
                        t.obj, t.kind.name, url, sdk.value, container, all_containers, now=now, who=who
                    )
            except RedirectError as exc:
                if undo and not name:  # a selector matches objects never redirected: not an error
                    console.print(f"[dim]skip: {escape(str(exc))}[/]")
                else:
                    problems.append(str(exc))
        if problems:
            for problem in problems:
                err_console.print(f"[bold red]error:[/] {escape(problem)}")
            err_console.print("nothing was changed.")
            raise typer.Exit(1)

        planned = [t for t in targets if t.plan is not None and not t.plan.empty]
        _print_diff(targets, where, undo)
        if not planned:
            console.print("nothing to change." if undo else f"already pointing at {url}; nothing to change.")
            return
        if dry_run:
            console.print("dry run: nothing was changed.")
            return
        verb = "Restore" if undo else "Redirect"
        if not yes and not typer.confirm(f"{verb} {len(planned)} object(s) in {where}?", default=False):
            err_console.print("cancelled; nothing was changed.")
            raise typer.Exit(1)

        if cluster is not None:
            for t in planned:
                assert t.plan is not None and t.namespace is not None
                cluster.patch(t.kind, t.plan.name, t.namespace, strategic_patch(t.plan))
                console.print(f"patched {t.plan.ref}; its pods roll out with the new env")
        else:
            manifests: dict[Path, ManifestFile] = {}
            for t in planned:
                assert t.manifest is not None and t.doc is not None and t.plan is not None
                t.manifest.apply(t.doc, t.plan)
                manifests[t.manifest.path] = t.manifest
            for path, manifest in manifests.items():
                manifest.write()
                for warning in manifest.reformatted:
                    err_console.print(f"[yellow]warning:[/] {escape(warning)}")
                console.print(f"wrote {path}")
    except (KubeError, RedirectError) as exc:
        raise _fail(str(exc)) from None


def _cluster_targets(
    cluster: Cluster, kind: Kind | None, name: str | None, selector: str | None, namespace: str
) -> list[Target]:
    if kind is not None and name:
        return [Target(kind, cluster.get(kind, name, namespace), namespace)]
    kinds = [kind] if kind else list(KINDS)
    found = [Target(k, obj, namespace) for k in kinds for obj in cluster.list(k, namespace, selector or "")]
    if not found:
        what = kind.plural if kind else "deployments, statefulsets, daemonsets or cronjobs"
        raise KubeError(f"no {what} match -l {selector} in namespace {namespace} (context {cluster.context})")
    return found


def _file_targets(
    path: Path, kind: Kind | None, name: str | None, selector: str | None, namespace: str | None
) -> list[Target]:
    from anyray.deploy.manifest_file import ManifestFile, manifest_paths

    match = _selector(selector) if selector else None
    found: list[Target] = []
    for file in manifest_paths(path):
        manifest = ManifestFile.read(file)
        for doc in manifest.workloads():
            assert doc.kind is not None
            doc_kind = kind_named(doc.kind)
            meta = doc.data.get("metadata") or {}
            if kind is not None and doc_kind != kind:
                continue
            if name and meta.get("name") != name:
                continue
            if namespace and meta.get("namespace") not in (None, namespace):
                continue
            if match and not match(doc.labels()):
                continue
            found.append(Target(doc_kind, doc.data, meta.get("namespace"), doc, manifest))
    if not found:
        what = f"{kind.name.lower()}/{name}" if kind and name else "workload"
        raise RedirectError(f"no {what} in {path} matches" + (f" -l {selector}" if selector else ""))
    return found


def _selector(text: str):
    """Equality selectors (a=b, a!=b, a) for manifest files; set-based ones need the API server."""
    checks = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "!=" in part:
            key, value = (s.strip() for s in part.split("!=", 1))
            checks.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif "=" in part:
            key, value = (s.strip() for s in part.replace("==", "=").split("=", 1))
            checks.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif " " in part or "(" in part:
            raise RedirectError(f"--file supports equality selectors (a=b, a!=b, a), not {part!r}")
        else:
            checks.append(lambda labels, k=part: k in labels)
    return lambda labels: all(check(labels) for check in checks)


def _print_diff(targets: list[Target], where: str, undo: bool) -> None:
    for t in targets:
        plan = t.plan
        if plan is None:
            continue
        ns = f"namespace {t.namespace}" if t.namespace else where
        header = f"[bold]{escape(plan.ref)}[/] ({escape(ns)})"
        if plan.empty:
            console.print(f"{header}: no change")
            continue
        console.print(header)
        current = None
        for change in plan.changes:
            if change.container != current:
                current = change.container
                console.print(f"  container {escape(current)}")
            old, new = describe(change.old), describe(change.new)
            console.print(f"    {escape(change.name)}: [red]{escape(old)}[/] → [green]{escape(new)}[/]")
        if not plan.changes:
            console.print("  env already as recorded; only the anyray annotations change")
        for warning in plan.warnings:
            console.print(f"  [yellow]warning:[/] {escape(warning)}")
        if undo:
            console.print("  annotations anyray.dev/redirect-* removed")
        else:
            console.print("  previous values recorded in annotation anyray.dev/redirect-previous")
