"""The `anyray` command line: one module per command group, imported only when its command runs.

Why lazily: the container runs `anyray serve gateway`, and `anyray --version` should answer at once.
Registering every group up front imported them all (the bench, deploy, redirect's Kubernetes client,
doctor): ~400 modules and most of a second before the server started (docs/performance.md). Now a
command's module is imported when it is invoked (or when `anyray --help` lists it).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

import typer
from typer.core import TyperGroup

from anyray import __version__
from anyray.extras import MissingExtra
from anyray.logs import install_redaction, setup_logging

# command -> (module, attribute): a function becomes a command, a typer.Typer a group of them; in this order
COMMANDS: dict[str, tuple[str, str]] = {
    "up": ("anyray.cli.up", "up"),
    "doctor": ("anyray.cli.doctor", "doctor"),
    "spend": ("anyray.cli.spend", "spend"),
    "console": ("anyray.cli.console", "console"),
    "serve": ("anyray.cli.serve", "serve"),
    "bench": ("anyray.cli.bench", "bench"),
    "render": ("anyray.cli.render", "render_cmd"),
    "redirect": ("anyray.cli.redirect", "redirect"),
    "connect": ("anyray.cli.connect", "connect"),
    "deploy": ("anyray.cli.deploy", "app"),
    "keys": ("anyray.cli.keys", "app"),
}


class LazyGroup(TyperGroup):
    """A typer group whose commands are imported on first use."""

    def get_params(self, ctx: typer.Context) -> list[Any]:
        return [_valueless(p) for p in super().get_params(ctx)]

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, attribute = COMMANDS[cmd_name]
        return as_command(cmd_name, getattr(import_module(module), attribute))


def as_command(name: str, target: Any) -> Any:  # a click command (typer may vendor its own click)
    if isinstance(target, typer.Typer):
        command = typer.main.get_group(target)
    else:
        holder = typer.Typer(rich_markup_mode="rich", add_completion=False)
        holder.command(name)(target)
        command = typer.main.get_command(holder)
    command.name = name
    return _plain_flags(command)


def _valueless(param: Any) -> Any:
    """typer's help prints each option's type beside it, `<bool>` too, though a flag takes no value: none."""
    if getattr(param, "is_flag", False) and not param.metavar:
        param.metavar = ""
    return param


def _plain_flags(command: Any) -> Any:
    """Every flag of `command` and of its subcommands, the help option included, shown without a type."""
    for param in command.params:
        _valueless(param)
    help_option = command.get_help_option
    command.get_help_option = lambda ctx: None if (o := help_option(ctx)) is None else _valueless(o)
    for sub in getattr(command, "commands", {}).values():
        _plain_flags(sub)
    return command


app = typer.Typer(
    name="anyray",
    cls=LazyGroup,
    help="A self-hosted LLM gateway and a credential-free request optimizer.",
    no_args_is_help=True,
    rich_markup_mode="rich",  # completion on: `anyray --install-completion` (bash, zsh, fish, PowerShell)
)


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
    try:
        app()
    except MissingExtra as exc:  # an optional feature whose extra is not installed: one line, the pip command
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None
