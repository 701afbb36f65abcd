"""`anyray render compose|gke`: write the deployment files for the config `anyray up` would run."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from anyray.cli.common import console, err_console
from anyray.config import Config, ConfigError
from anyray.deploy.render import Conflict, Rendered, WriteResult, load_for_render, render, write


class TargetName(StrEnum):
    compose = "compose"
    gke = "gke"
    litellm = "litellm"
    gce = "gce"


def load_or_exit(config_path: Path | None, sets: list[str]) -> Config:
    try:
        return load_for_render(config_path, sets)
    except ValueError as exc:  # a malformed --set
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    except ConfigError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None


def write_or_exit(rendered: Rendered, out_dir: Path, force: bool) -> WriteResult:
    try:
        return write(rendered, out_dir, force=force)
    except Conflict as exc:
        err_console.print("[bold red]error:[/] these files were changed since anyray wrote them:")
        for path in exc.paths:
            err_console.print(f"  {path}")
        err_console.print("Keep your edits elsewhere and re-run, or pass --force to overwrite them.")
        raise typer.Exit(1) from None


def print_result(rendered: Rendered, result: WriteResult, out_dir: Path) -> None:
    status = {p: "written" for p in result.written} | {p: "unchanged" for p in result.unchanged}
    console.print(f"[bold]{rendered.target}[/] files in {out_dir}:")
    for path in sorted(status):
        console.print(f"  {status[path]:<9}  {path}")
    for path in result.removed:
        console.print(f"  {'removed':<9}  {path}")
    for warning in rendered.warnings:
        console.print(f"[yellow]note:[/] {warning}")
    print_routes(rendered)


def print_routes(rendered: Rendered, prefix: str = "") -> None:
    """The model map the rendered config routes by: what a deployment will do with a Claude call, before it runs."""
    console.print(f"{prefix}routes (client asks for -> provider:upstream model):", markup=False)
    for line in rendered.routes:
        console.print(f"{prefix}  {line}", markup=False, soft_wrap=True)


def render_cmd(
    target: TargetName = typer.Argument(
        ..., help="compose (Docker Compose), gke (Kubernetes manifests), litellm, or gce (one VM's cloud-init)."
    ),
    output: Path | None = typer.Option(None, "--output", "-o", help="Folder to write (default ./anyray-TARGET)."),
    sets: list[str] = typer.Option([], "--set", help="Override a config key: --set deploy.replicas=3 (repeatable)."),
    force: bool = typer.Option(False, "--force", help="Overwrite files that were changed since they were rendered."),
    config_path: Path | None = typer.Option(
        None, "--config", "-c", envvar="ANYRAY_CONFIG", help="anyray.yaml to load (default: built-in defaults)."
    ),
) -> None:
    """Render the Docker Compose, GKE or GCE files from the config; secrets never go into them."""
    config = load_or_exit(config_path, sets)
    out_dir = output or Path(f"anyray-{target.value}")
    rendered = render(target.value, config)
    result = write_or_exit(rendered, out_dir, force)
    print_result(rendered, result, out_dir)
    if target is TargetName.litellm:
        console.print(f"\nNext: litellm --config {out_dir}/config.yaml  (with ANYRAY_OPTIMIZER_URL and "
                      "LITELLM_MASTER_KEY set; see examples/litellm/)")
    elif target is TargetName.compose:
        console.print(f"\nNext: copy {out_dir}/anyray.env.example to anyray.env, fill it in, then")
        console.print(f"  cd {out_dir} && docker compose up -d")
    elif target is TargetName.gce:
        console.print(f"\n{out_dir}/cloud-config.yaml is the VM's user-data; stack/, anyray.service and prepare.sh are "
                      "what it writes, for review.")
        console.print("Next: anyray deploy gce --project PROJECT (or gcloud compute instances create ... "
                      f"--metadata-from-file user-data={out_dir}/cloud-config.yaml)")
    else:
        console.print(f"\nNext: kubectl apply -f {out_dir}   (or: anyray deploy gke --project PROJECT)")
