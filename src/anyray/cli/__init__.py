"""The `anyray` command line: one module per command group, registered here."""

from __future__ import annotations

import typer

from anyray import __version__
from anyray.cli import bench, console, deploy, doctor, keys, render, serve, spend, up
from anyray.cli.connect import connect
from anyray.cli.redirect import redirect
from anyray.logs import install_redaction, setup_logging

app = typer.Typer(
    name="anyray",
    help="A self-hosted LLM gateway and a credential-free request optimizer.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
)
app.command("up")(up.up)
app.command("doctor")(doctor.doctor)
app.command("spend")(spend.spend)
app.command("console")(console.console)
app.command("serve")(serve.serve)
app.command("bench")(bench.bench)
app.command("render")(render.render_cmd)
app.add_typer(deploy.app, name="deploy")
app.add_typer(keys.app, name="keys")
app.command("redirect")(redirect)
app.command("connect")(connect)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"anyray {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version."),
) -> None:
    """anyray: point ANTHROPIC_BASE_URL / OPENAI_BASE_URL at the gateway; it does the rest."""
    install_redaction()


def main() -> None:
    setup_logging()  # warnings and errors to stderr, credentials masked (anyray.logs)
    app()
