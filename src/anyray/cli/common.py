"""What several commands share and a serving process may import: the config loaded or a clear exit."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from anyray.config import Config, ConfigError, load_config
from anyray.extras import check_config

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def load_or_exit(path: Path | None) -> Config:
    """The config, valid, with the extras its store and cache need (else `MissingExtra`: one line, the pip
    command); or exit 2 saying which keys are wrong."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from None
    check_config(config)
    return config


def fitting(headers: list[str], rows: list[list[str]], width: int) -> list[int]:
    """Which columns to show in `width` characters, in the given order of importance: each as wide as its
    widest cell plus a separator, never cut (a cost or a key id with `...` in it is no answer). What does not
    fit is left out whole; `--json` has everything."""
    shown, used = [], 0
    for i, header in enumerate(headers):
        need = max([len(header), *(len(row[i]) for row in rows)]) + 3  # padding and the rule between
        if not shown or used + need <= width:
            shown.append(i)
            used += need
    return shown
