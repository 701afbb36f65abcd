"""`anyray serve gateway|optimizer`: one server per process, what a container runs.

`anyray up` puts both servers in one process for a laptop; a container runs one of them so that each
scales and fails on its own. The gateway then reaches the optimizer over HTTP (`optimizer.url`); without
it the gateway falls back to an in-process optimizer, exactly as `anyray up` does.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import typer
from rich.markup import escape

from anyray.cli.common import err_console, load_or_exit
from anyray.config import Config
from anyray.server.runner import PortInUse, run, serve_stack


class Role(StrEnum):
    gateway = "gateway"
    optimizer = "optimizer"


def serve(
    role: Role = typer.Argument(..., help="Which server this process runs."),
    config_path: Path | None = typer.Option(
        None, "--config", "-c", envvar="ANYRAY_CONFIG", help="anyray.yaml to load (default: built-in defaults)."
    ),
    host: str | None = typer.Option(None, help="Listen address (default from config; containers use 0.0.0.0)."),
    port: int | None = typer.Option(None, help="Listen port (default from config: 8787 gateway, 8088 optimizer)."),
    workers: int | None = typer.Option(
        None, "--workers", "-w", min=1,
        help="Gateway processes serving the port, one core each (default: ANYRAY_WORKERS, else 1; the optimizer "
        "ignores that variable). docs/performance.md, Workers.",
    ),
) -> None:
    """Run only the gateway or only the optimizer (the container entry point)."""
    config = load_or_exit(config_path)
    settings = config.gateway if role is Role.gateway else config.optimizer
    if host is not None:
        settings.host = host
    if port is not None:
        settings.port = port
    if workers is None and role is Role.gateway:
        workers = _workers_from_env()
    if workers is not None and workers > 1:
        if role is not Role.gateway:
            err_console.print("[bold red]error:[/] --workers runs several gateway processes; the optimizer runs one "
                              "(scale it with replicas that share a cache.url)")
            raise typer.Exit(2)
        _serve_workers(config, workers)
        return

    if role is Role.gateway:
        from anyray.server.gateway.app import create_gateway_app
        from anyray.server.gateway.gateway import Gateway, default_optimizer_client

        gateway = Gateway(config, optimizer_client=default_optimizer_client(config, None))
        app = create_gateway_app(config, gateway)
        detail = f"optimizer {config.optimizer.url or 'in-process'}" if config.optimizer.enabled else "optimizer off"
        warm = gateway.warm
    else:
        from anyray.server.optimizer.app import create_optimizer_app
        from anyray.server.optimizer.engine import Optimizer

        optimizer = Optimizer()
        app = create_optimizer_app(optimizer)
        detail = "credential-free"
        warm = optimizer.warm

    async def started() -> None:
        print(f"anyray {role.value} listening on {settings.host}:{settings.port} ({detail})", flush=True)
        await warm()

    try:
        run(serve_stack([(app, settings.host, settings.port)], on_started=started))
    except PortInUse as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def _serve_workers(config: Config, workers: int) -> None:
    """N gateway processes on one port (server/supervisor.py); exits with the supervisor's status."""
    from anyray.server.gateway.workers import serve_workers

    settings = config.gateway
    detail = f"optimizer {config.optimizer.url or 'in-process'}" if config.optimizer.enabled else "optimizer off"

    def ready(pids: list[int]) -> None:
        print(f"anyray gateway listening on {settings.host}:{settings.port} ({detail}; {workers} workers: "
              f"{', '.join(map(str, pids))})", flush=True)

    try:
        status = serve_workers(config, workers, ready)
    except PortInUse as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    if status:
        raise typer.Exit(status)


def _workers_from_env() -> int:
    """ANYRAY_WORKERS, for the gateway only: a compose file may give every container the same environment."""
    value = os.environ.get("ANYRAY_WORKERS", "").strip() or "1"
    if not value.isdigit() or int(value) < 1:
        err_console.print(f"[bold red]error:[/] ANYRAY_WORKERS must be a whole number of processes, 1 or more, not "
                          f"{escape(value)!r}")
        raise typer.Exit(2)
    return int(value)
