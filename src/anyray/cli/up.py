"""`anyray up`: the whole stack in one process, for a laptop and for tests."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from anyray.cli.common import console, err_console, load_or_exit
from anyray.config import Config
from anyray.pricing import PricingError
from anyray.providers import PROVIDERS
from anyray.server.gateway.app import create_gateway_app
from anyray.server.gateway.gateway import Gateway, default_optimizer_client
from anyray.server.optimizer.app import SERVICE_TOKEN_ENV, create_optimizer_app
from anyray.server.optimizer.engine import Optimizer
from anyray.server.runner import PortInUse, run, serve_stack
from anyray.store import StoreError, default_store_url
from anyray.store.postgres import redact

__all__ = ["console", "err_console", "load_or_exit", "print_banner", "up"]


def service_token() -> tuple[str, str]:
    """The optimizer's service token for this run, and where it came from: ANYRAY_OPTIMIZER_TOKEN when the shell
    sets one (to share it with a LiteLLM adapter), else a random one made now. Either way it is put in this
    process's environment, where the optimizer's embedder reads it to present to a keyed gateway. It is
    never printed and never logged; nothing outside this process learns a generated one."""
    given = os.environ.get(SERVICE_TOKEN_ENV, "").strip()
    if given:
        return given, f"from {SERVICE_TOKEN_ENV}"
    token = secrets.token_urlsafe(32)
    os.environ[SERVICE_TOKEN_ENV] = token
    return token, f"generated for this run; set {SERVICE_TOKEN_ENV} to share one"


def print_banner(config: Config, gateway: Gateway, console: Console = console, token_source: str | None = None) -> None:
    providers = Table(title="providers", title_justify="left", show_edge=False)
    providers.add_column("provider")
    providers.add_column("status")
    providers.add_column("detail")
    for name, provider in gateway.providers.items():
        ready = provider.readiness()
        providers.add_row(name, "[green]ready[/]" if ready.ready else "[yellow]not ready[/]", ready.detail)
    for name, cls in PROVIDERS.items():
        settings = cls.settings_of(config)
        if name not in gateway.providers and settings.enabled:
            providers.add_row(name, "[dim]off[/]", escape(cls.setup_hint(settings)))
    console.print(providers)

    models = Table(title="model map", title_justify="left", show_edge=False)
    models.add_column("client asks for")
    models.add_column("goes to")
    models.add_column("fallbacks")
    for asked, route in config.model_map().items():
        fallbacks = ", ".join(f"{t.key}:{t.model}" for t in route.fallbacks) or "-"
        models.add_row(asked, f"{route.key}:{route.model}", fallbacks)
    console.print(models)

    url = f"http://{_display_host(config.gateway.host)}:{config.gateway.port}"
    optimizer = config.optimizer.url or (
        f"in-process (also on http://{config.optimizer.host}:{config.optimizer.port})"
        if config.optimizer.enabled
        else "off"
    )
    console.print(f"\n[bold]gateway[/] {url}   [bold]optimizer[/] {optimizer}   config: {config.source}")
    if token_source:
        console.print(f"[bold]optimizer service token[/] {token_source}")
    if gateway.spend.writer is not None:
        console.print(f"[bold]spend store[/] {redact(gateway.spend.writer.store.url)}   (see it with `anyray spend`)")
    console.print("\nPoint Claude Code and the SDKs at it:")
    console.print(f"  export ANTHROPIC_BASE_URL={url}")
    console.print(f"  export OPENAI_BASE_URL={url}/v1")
    console.print("\nCtrl-C stops it.")


def _display_host(host: str) -> str:
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host


def up(
    config_path: Path | None = typer.Option(
        None, "--config", "-c", envvar="ANYRAY_CONFIG", help="anyray.yaml to load (default: built-in defaults)."
    ),
    host: str | None = typer.Option(None, help="Gateway listen address (default 127.0.0.1)."),
    port: int | None = typer.Option(None, help="Gateway port (default 8787)."),
    optimizer_port: int | None = typer.Option(None, help="Optimizer port (default 8088)."),
    compose: bool = typer.Option(
        False, "--compose", help="Run the stack as Docker Compose containers instead (renders into ~/.anyray)."
    ),
) -> None:
    """Run the gateway (:8787) and the optimizer (:8088) in one process, on 127.0.0.1 by default."""
    if compose:
        from anyray.cli.compose_up import up_compose

        up_compose(config_path)
        return
    config = load_or_exit(config_path)
    if host is not None:
        config.gateway.host = host
    if port is not None:
        config.gateway.port = port
    if optimizer_port is not None:
        config.optimizer.port = optimizer_port
    if config.store.enabled and config.store.url is None:
        config.store.url = default_store_url()  # a laptop keeps its spend: `anyray spend` reads it

    optimizer = Optimizer(config)
    try:
        gateway = Gateway(config, optimizer_client=default_optimizer_client(config, optimizer))
    except (PricingError, StoreError) as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    token, token_source = None, None
    if config.optimizer.enabled and not config.optimizer.url:
        # :8088 is served here too: never without a service token (anyone reaching it could write the cache)
        token, token_source = service_token()
    servers = [(create_gateway_app(config, gateway, optimizer_token=token), config.gateway.host, config.gateway.port)]
    if token is not None:
        servers.append((create_optimizer_app(optimizer, service_token=token), config.optimizer.host,
                        config.optimizer.port))

    async def started() -> None:
        print_banner(config, gateway, token_source=token_source)
        await gateway.warm()

    try:
        run(serve_stack(servers, on_started=started))
    except PortInUse as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}. Is another anyray running? "
                          "Try --port / --optimizer-port.")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass
    console.print("anyray stopped.")
