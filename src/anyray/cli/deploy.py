"""`anyray deploy gke`: render the manifests, set up the Google identity, apply, wait, say what's next."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import typer

from anyray.cli.common import console, err_console
from anyray.cli.render import load_or_exit, print_routes, write_or_exit
from anyray.deploy import gke, naming
from anyray.deploy.render import render

app = typer.Typer(help="Deploy anyray to a cloud.", no_args_is_help=True, add_completion=False)


def work_dir(kind: str, *parts: str) -> Path:
    """anyray's own folder for files it renders to run them (`$ANYRAY_HOME`, default ~/.anyray)."""
    home = Path(os.environ.get("ANYRAY_HOME") or Path.home() / ".anyray")
    return home / kind / "-".join(parts)


@app.command("gke")
def deploy_gke(
    project: str | None = typer.Option(None, help="Google Cloud project (default: deploy.project)."),
    region: str | None = typer.Option(None, help="Cluster region or zone (default: deploy.region, us-central1)."),
    cluster: str | None = typer.Option(None, help="GKE cluster name (default: deploy.cluster, anyray)."),
    namespace: str | None = typer.Option(None, "--namespace", "-n", help="Namespace (default: anyray)."),
    image: str | None = typer.Option(None, help="anyray image the cluster can pull (default: deploy.image)."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Where to write the manifests."),
    sets: list[str] = typer.Option([], "--set", help="Override a config key: --set deploy.replicas=3 (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Run nothing; print the commands and the manifests."),
    config_path: Path | None = typer.Option(
        None, "--config", "-c", envvar="ANYRAY_CONFIG", help="anyray.yaml to load (default: built-in defaults)."
    ),
) -> None:
    """Deploy the gateway and the optimizer to GKE with Workload Identity for Vertex AI."""
    flags = {"project": project, "region": region, "cluster": cluster, "namespace": namespace, "image": image}
    config = load_or_exit(config_path, [*sets, *(f"deploy.{k}={v}" for k, v in flags.items() if v is not None)])
    d = config.deploy
    if not d.project:
        err_console.print("[bold red]error:[/] no project: pass --project PROJECT (or set deploy.project)")
        raise typer.Exit(2)
    out_dir = output or work_dir("deploy", "gke", d.project, d.cluster, d.namespace)
    rendered = render("gke", config)
    steps = gke.plan(gke.target_from(config, out_dir))
    gateway_url = naming.gateway_cluster_url(d.namespace)

    if dry_run:
        for warning in rendered.warnings:
            console.print(f"# note: {warning}", markup=False, soft_wrap=True)
        print_routes(rendered, "# ")
        console.print(f"[bold]dry run[/]: nothing is run. The manifests ({out_dir}):\n", soft_wrap=True)
        for name, text in rendered.files.items():
            console.print(f"--- # {name}", markup=False)
            console.print(text.rstrip(), markup=False, soft_wrap=True)
        console.print("\n[bold]The commands, in order:[/]")
        for line in gke.dry_run_lines(steps):
            console.print(line, markup=False, soft_wrap=True)
        return

    missing = [tool for tool in ("gcloud", "kubectl") if shutil.which(tool) is None]
    if missing:
        err_console.print(f"[bold red]error:[/] {' and '.join(missing)} not found on PATH.")
        err_console.print(
            "Install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), then "
            "gcloud components install kubectl gke-gcloud-auth-plugin"
        )
        raise typer.Exit(1)

    result = write_or_exit(rendered, out_dir, force=True)  # anyray's own folder: always the current render
    console.print(f"manifests: {out_dir} ({len(result.written)} written, {len(result.unchanged)} unchanged)")
    for warning in rendered.warnings:
        console.print(f"[yellow]note:[/] {warning}")
    print_routes(rendered)
    try:
        gke.execute(steps, lambda line: console.print(line, markup=False, soft_wrap=True))
    except gke.StepFailed as exc:
        err_console.print(f"[bold red]error:[/] step failed: {exc.step.title}", soft_wrap=True)
        err_console.print(f"  $ {' '.join(exc.argv)}", markup=False, soft_wrap=True)
        err_console.print(f"  exit status {exc.result.returncode}")
        for line in (exc.result.stderr or "").strip().splitlines() or ["(no stderr)"]:
            err_console.print(f"  {line}", markup=False, soft_wrap=True)
        err_console.print(f"[bold]hint:[/] {exc.step.hint}", soft_wrap=True)
        raise typer.Exit(1) from None

    console.print(f"\n[bold green]anyray is running[/] in {d.project}/{d.cluster}, namespace {d.namespace}.")
    console.print(f"  gateway (in-cluster): {gateway_url}")
    console.print("Point a workload at it:")
    console.print(f"  anyray redirect deployment/NAME -n NAMESPACE --gateway-url {gateway_url}", soft_wrap=True)
    console.print(
        f"Anthropic/OpenAI keys, if you use them, go in the Secret {naming.SECRET}: "
        f"kubectl -n {d.namespace} create secret generic {naming.SECRET} --from-env-file=anyray.env",
        soft_wrap=True,
    )
