"""`anyray up --compose`: the same stack as Docker Compose containers, from anyray's own work folder."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import typer

from anyray.cli.common import console, err_console
from anyray.cli.deploy import work_dir
from anyray.cli.render import load_or_exit, print_result, write_or_exit
from anyray.deploy.compose import (
    DockerUnavailable,
    check_docker,
    compose_up,
    ensure_env_files,
    source_checkout,
    up_argv,
)
from anyray.deploy.render import render


def up_compose(config_path: Path | None) -> None:
    try:
        check_docker()
    except DockerUnavailable as exc:
        err_console.print(f"[bold red]error:[/] {exc.problem}", soft_wrap=True)
        err_console.print(f"[bold]next:[/] {exc.next_step}", soft_wrap=True)
        raise typer.Exit(1) from None

    config = load_or_exit(config_path, [])
    source = source_checkout()
    if config.deploy.build_context is None and source is not None:
        config.deploy.build_context = str(source)
    out_dir = work_dir("compose", "anyray")
    rendered = render("compose", config)
    print_result(rendered, write_or_exit(rendered, out_dir, force=False), out_dir)
    for created in ensure_env_files(out_dir, rendered, os.environ, config.deploy.postgres):
        console.print(f"secrets: wrote {created} (mode 0600) from this shell's environment")

    profiles = [p for p in ("litellm", "postgres", "redis") if getattr(config.deploy, p)]
    argv = up_argv(profiles, build=config.deploy.build_context is not None)
    console.print(f"$ cd {shlex.quote(str(out_dir))} && {shlex.join(argv)}", markup=False, soft_wrap=True)
    result = compose_up(out_dir, argv)
    if result.returncode != 0:
        err_console.print(f"[bold red]error:[/] docker compose failed (exit {result.returncode}):")
        err_console.print((result.stderr or result.stdout).strip(), markup=False, soft_wrap=True)
        err_console.print(f"[bold]next:[/] cd {out_dir} && docker compose logs", soft_wrap=True)
        raise typer.Exit(1)
    console.print(f"\ngateway healthy on http://127.0.0.1:8787 (published on {config.deploy.publish_host})")
    console.print("  export ANTHROPIC_BASE_URL=http://127.0.0.1:8787")
    console.print("  export OPENAI_BASE_URL=http://127.0.0.1:8787/v1")
    console.print(f"Stop: cd {out_dir} && docker compose down")
