"""`anyray deploy gke`: render the manifests, set up the Google identity, apply, wait, say what's next."""

from __future__ import annotations

import ipaddress
import os
import shutil
from pathlib import Path

import typer

from anyray.cli.common import console, err_console
from anyray.cli.render import load_or_exit, print_routes, write_or_exit
from anyray.config import Config
from anyray.deploy import gce, gke, naming, steps
from anyray.deploy.render import Rendered, render

app = typer.Typer(help="Deploy anyray to a cloud.", no_args_is_help=True, add_completion=False)


def work_dir(kind: str, *parts: str) -> Path:
    """anyray's own folder for files it renders to run them (`$ANYRAY_HOME`, default ~/.anyray)."""
    home = Path(os.environ.get("ANYRAY_HOME") or Path.home() / ".anyray")
    return home / kind / "-".join(parts)


def execute_or_exit(plan: list[steps.Step]) -> dict[str, str]:
    """Run the plan; at the first failure, show the command, the tool's own message and the fix, and exit 1."""
    try:
        return steps.execute(plan, lambda line: console.print(line, markup=False, soft_wrap=True))
    except steps.StepFailed as exc:
        err_console.print(f"[bold red]error:[/] step failed: {exc.step.title}", soft_wrap=True)
        err_console.print(f"  $ {' '.join(exc.argv)}", markup=False, soft_wrap=True)
        err_console.print(f"  exit status {exc.result.returncode}")
        for line in (exc.result.stderr or "").strip().splitlines() or ["(no stderr)"]:
            err_console.print(f"  {line}", markup=False, soft_wrap=True)
        if exc.fix != exc.step.hint:
            err_console.print(f"[bold]hint:[/] {exc.step.hint}", soft_wrap=True)
        err_console.print(f"[bold]fix:[/] {exc.fix}", soft_wrap=True)
        raise typer.Exit(1) from None


def _print_dry_run(
    rendered: Rendered, out_dir: Path, plan: list[steps.Step], label: str, only: list[str] | None = None
) -> None:
    for warning in rendered.warnings:
        console.print(f"# note: {warning}", markup=False, soft_wrap=True)
    print_routes(rendered, "# ")
    console.print(f"[bold]dry run[/]: nothing is run. The {label} ({out_dir}):\n", soft_wrap=True)
    for name, text in rendered.files.items():
        if only is None or name in only:
            console.print(f"--- # {name}", markup=False)
            console.print(text.rstrip(), markup=False, soft_wrap=True)
    console.print("\n[bold]The commands, in order:[/]")
    for line in steps.dry_run_lines(plan):
        console.print(line, markup=False, soft_wrap=True)


def deploy_config(config_path: Path | None, sets: list[str], flags: dict[str, str | None]) -> Config:
    """The config with the command's flags over `--set`s over the file; a deploy names its project or stops."""
    config = load_or_exit(config_path, [*sets, *(f"deploy.{k}={v}" for k, v in flags.items() if v is not None)])
    if not config.deploy.project:
        err_console.print("[bold red]error:[/] no project: pass --project PROJECT (or set deploy.project)")
        raise typer.Exit(2)
    return config


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
    config = deploy_config(config_path, sets, {"project": project, "region": region, "cluster": cluster,
                                               "namespace": namespace, "image": image})
    d = config.deploy
    out_dir = output or work_dir("deploy", "gke", d.project, d.cluster, d.namespace)
    rendered = render("gke", config)
    plan = gke.plan(gke.target_from(config, out_dir))
    gateway_url = naming.gateway_cluster_url(d.namespace)

    if dry_run:
        _print_dry_run(rendered, out_dir, plan, "manifests")
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
    execute_or_exit(plan)

    console.print(f"\n[bold green]anyray is running[/] in {d.project}/{d.cluster}, namespace {d.namespace}.")
    console.print(f"  gateway (in-cluster): {gateway_url}")
    console.print("Point a workload at it:")
    console.print(f"  anyray redirect deployment/NAME -n NAMESPACE --gateway-url {gateway_url}", soft_wrap=True)
    console.print(
        f"Anthropic/OpenAI keys, if you use them, go in the Secret {naming.SECRET}: "
        f"kubectl -n {d.namespace} create secret generic {naming.SECRET} --from-env-file=anyray.env",
        soft_wrap=True,
    )


@app.command("gce")
def deploy_gce(
    project: str | None = typer.Option(None, help="Google Cloud project (default: deploy.project)."),
    zone: str | None = typer.Option(None, help="The VM's zone (default: deploy.zone, us-central1-a)."),
    machine_type: str | None = typer.Option(None, help="Machine type (default: deploy.machine_type, e2-medium)."),
    name: str | None = typer.Option(None, "--name", help="The VM's name (default: deploy.vm, anyray)."),
    image: str | None = typer.Option(None, help="anyray image the VM can pull (default: deploy.image)."),
    source_ranges: list[str] = typer.Option(
        [], "--source-range", help="A CIDR the firewall admits to :8787 besides IAP's tunnel range (repeatable)."
    ),
    external_ip: bool = typer.Option(False, "--external-ip", help="Give the VM an external address (default: none)."),
    network: str = typer.Option("default", help="VPC network of the VM and the firewall rule."),
    subnet: str = typer.Option("default", help="Subnet of the VM, in the zone's region."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Where to write the rendered files."),
    sets: list[str] = typer.Option([], "--set", help="Override a config key: --set deploy.postgres=true (repeatable)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Run nothing; print the commands and the user-data."),
    config_path: Path | None = typer.Option(
        None, "--config", "-c", envvar="ANYRAY_CONFIG", help="anyray.yaml to load (default: built-in defaults)."
    ),
) -> None:
    """Deploy the gateway, the optimizer and the stores on one VM whose service account calls Vertex AI."""
    config = deploy_config(config_path, sets, {"project": project, "zone": zone, "machine_type": machine_type,
                                               "vm": name, "image": image})
    d = config.deploy
    for cidr in source_ranges:
        try:
            ipaddress.ip_network(cidr, strict=True)
        except ValueError as exc:
            err_console.print(f"[bold red]error:[/] --source-range {cidr}: {exc} (expected a CIDR like 10.0.0.0/8)")
            raise typer.Exit(2) from None
    out_dir = output or work_dir("deploy", "gce", d.project, d.zone, d.vm)
    rendered = render("gce", config)
    target = gce.target_from(config, out_dir / "cloud-config.yaml", source_ranges, external_ip, network, subnet)
    plan = gce.plan(target)

    if dry_run:
        _print_dry_run(rendered, out_dir, plan, "VM's user-data", only=["cloud-config.yaml"])
        console.print("\n[bold]Then:[/]")
        for line in gce.next_steps(target, ""):
            console.print(line, markup=False, soft_wrap=True)
        return

    if shutil.which("gcloud") is None:
        err_console.print("[bold red]error:[/] gcloud not found on PATH.")
        err_console.print(
            "Install the Google Cloud CLI (https://cloud.google.com/sdk/docs/install), then gcloud auth login"
        )
        raise typer.Exit(1)

    result = write_or_exit(rendered, out_dir, force=True)  # anyray's own folder: always the current render
    console.print(f"files: {out_dir} ({len(result.written)} written, {len(result.unchanged)} unchanged)")
    for warning in rendered.warnings:
        console.print(f"[yellow]note:[/] {warning}", soft_wrap=True)
    print_routes(rendered)
    captured = execute_or_exit(plan)
    console.print(f"\n[bold green]anyray is deployed[/] on VM {d.vm} in {d.project}/{d.zone}.")
    for line in gce.next_steps(target, captured.get("addresses", "")):
        console.print(line, markup=False, soft_wrap=True)
