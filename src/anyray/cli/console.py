"""`anyray console`: the web console on its own, for a spend store written by a cluster's gateways.

The gateway already serves the console at /console. This command is for reading a shared store (e.g.
Cloud SQL through a proxy) from a laptop: it needs only the store's URL, and optionally a gateway URL
whose health to show. Keys, when the store has them, require an admin login exactly as in the gateway.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from anyray.cli.common import load_or_exit
from anyray.console.auth import is_loopback
from anyray.store import StoreError, default_store_url, open_store
from anyray.store.postgres import redact
from anyray.store.sqlite import sqlite_path

err_console = Console(stderr=True, highlight=False)


def console(
    store_url: str | None = typer.Option(None, "--store", help="sqlite:///path or postgresql://... (default: config)."),
    config_path: Path | None = typer.Option(
        None, "--config", "-c", envvar="ANYRAY_CONFIG", help="anyray.yaml whose store.url to read."
    ),
    host: str = typer.Option("127.0.0.1", "--host", help="Listen address (loopback unless keys require a login)."),
    port: int = typer.Option(8789, "--port", help="Listen port (0: any free port)."),
    gateway_url: str | None = typer.Option(None, "--gateway", help="A gateway URL whose health to show."),
) -> None:
    """Serve the spend console (overview, tables, optimizer effect, health) for a spend store."""
    from anyray.console.app import standalone_app
    from anyray.server.runner import PortInUse, run, serve_stack

    url = store_url or load_or_exit(config_path).store.url or default_store_url()
    try:
        if url.startswith("sqlite:") and not sqlite_path(url).exists():
            err_console.print(f"[bold red]error:[/] no spend store at {sqlite_path(url)} (see --store)")
            raise typer.Exit(1)
        open_store(url).close()  # fail now, with the reason, rather than on the first page view
    except StoreError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    app = standalone_app(url, host, gateway_url)
    keyring = app.state.console.source.keyring()
    if not (keyring and keyring.required) and not is_loopback(host):
        err_console.print(f"[yellow]no gateway keys in this store: the console answers only clients on loopback "
                          f"or {host} itself[/]")
    err_console.print(f"anyray console for {redact(url)} on http://{host}:{port}/console/")
    try:  # on the gateway's own server (server/http11/), as `anyray up` runs the console inside the gateway
        run(serve_stack([(app, host, port)]))
    except PortInUse as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass
