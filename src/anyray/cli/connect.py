"""`anyray connect`: point this machine's Claude Code and shell at a gateway; `--revert` undoes it."""

from __future__ import annotations

import difflib
import os
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from anyray.connect import DEFAULT_GATEWAY, TARGETS, ConnectError, FileChange, plan_connect, plan_revert

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)


class ConnectTarget(StrEnum):
    claude_code = "claude-code"
    shell = "shell"
    all = "all"


def connect(
    target: ConnectTarget = typer.Argument(ConnectTarget.all, help="claude-code, shell, or all."),
    gateway: str = typer.Option(DEFAULT_GATEWAY, "--gateway", help="The gateway URL (default: `anyray up`'s)."),
    shell_profile: Path | None = typer.Option(
        None, "--shell-profile", help="Profile to edit (default by $SHELL: ~/.zshrc, ~/.bashrc, else ~/.profile)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the changes; write nothing."),
    revert: bool = typer.Option(False, "--revert", help="Put back what connect replaced."),
) -> None:
    """Write the gateway's base URLs into Claude Code's settings and your shell profile (idempotent)."""
    home = Path.home()  # read now, from $HOME, not when the module was imported
    targets = list(TARGETS) if target == ConnectTarget.all else [target.value]
    try:
        if revert:
            changes = plan_revert(home, targets, shell_profile)
        else:
            changes = plan_connect(home, targets, gateway.rstrip("/"), shell_profile, os.environ)
    except ConnectError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}")
        raise typer.Exit(1) from None
    visible = [c for c in changes if c.path.name != "connect.json"]
    if not visible:
        console.print("nothing to change." if not revert else "nothing to revert.")
    for change in visible:
        _show(change)
    if dry_run:
        console.print("dry run: nothing was written.")
        return
    for change in changes:
        change.apply()
    for change in visible:
        console.print(f"{'removed' if change.new is None else 'wrote'} {change.path}")
    if visible and not revert and "shell" in targets:
        console.print("open a new shell (or `source` the profile) for the shell variables to apply.")


def _show(change: FileChange) -> None:
    old = (change.old or "").splitlines(keepends=True)
    new = (change.new or "").splitlines(keepends=True)
    label = str(change.path)
    for line in difflib.unified_diff(old, new, label if change.old is not None else "/dev/null", label):
        style = "green" if line.startswith("+") else "red" if line.startswith("-") else "dim"
        console.print(f"[{style}]{escape(line.rstrip(chr(10)))}[/]")
