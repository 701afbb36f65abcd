"""`anyray doctor`: what is wrong and how to fix it, as a table or as JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from anyray.deploy.render import parse_sets
from anyray.doctor import Check, Situation, access, egress, limits, local, run_checks, store
from anyray.doctor import credentials as creds

_STYLE = {"ok": "green", "warn": "yellow", "fail": "bold red"}


def checks_for(situation: Situation) -> list[tuple[str, Check]]:
    checks: list[tuple[str, Check]] = [
        ("install", local.install),
        ("config", local.config),
        ("local stack", local.stack),
        ("gateway keys", access.keys),
        ("limits", limits.limits),
        ("spend store", store.spend_store),
        *creds.checks(),
        ("egress", egress.egress),
        ("clients", local.clients),
    ]
    if situation.compose:
        checks.append(("docker", local.compose))
    if situation.gke:
        from anyray.doctor import gke

        checks.append(("gke", gke.gke))
    if situation.gce:
        from anyray.doctor import gce

        checks.append(("gce", gce.gce))
    return checks


def doctor(
    config: Path | None = typer.Option(None, "--config", "-c", help="anyray.yaml (default: $ANYRAY_CONFIG)."),
    gateway: str | None = typer.Option(None, "--gateway", help="A running gateway's URL (default: from config)."),
    gke: bool = typer.Option(False, "--gke", help="Also check the GKE deployment (gcloud, kubectl, cluster)."),
    gce: bool = typer.Option(
        False, "--gce", help="Also check the GCE VM (deploy.vm, deploy.zone), its role, and the gateway on it."
    ),
    sets: list[str] = typer.Option([], "--set", help="Override a config key: --set deploy.zone=Z (repeatable)."),
    compose: bool = typer.Option(False, "--compose", help="Also check Docker for `anyray up --compose`."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as JSON."),
    timeout: float = typer.Option(5.0, "--timeout", help="Seconds each check may take.", min=0.5),
) -> None:
    """Check the install, config, local stack, credentials and clients; say how to fix what fails."""
    try:
        env = {**os.environ, **parse_sets(sets)}
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    situation = Situation(str(config) if config else None, env, gateway, compose, gke, timeout, gce=gce).load()
    results = run_checks(situation, checks_for(situation))
    failed = any(r.status == "fail" for r in results)
    if as_json:
        typer.echo(json.dumps({"ok": not failed, "checks": [r.as_json() for r in results]}, indent=2))
    else:
        table = Table(title="anyray doctor", show_lines=False)
        for column in ("check", "status", "found", "fix"):
            table.add_column(column, overflow="fold")
        for r in results:
            table.add_row(escape(r.check), f"[{_STYLE[r.status]}]{r.status}[/]", escape(r.found), escape(r.fix))
        Console(width=max(Console().width, 120)).print(table)
    raise typer.Exit(1 if failed else 0)
