"""What several commands share and a serving process may import: the config loaded or a clear exit."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

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
        err_console.print(f"[bold red]error:[/] {exc}")
        raise typer.Exit(2) from None
    check_config(config)
    return config
