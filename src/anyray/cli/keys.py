"""`anyray keys create|list|revoke`: per-team gateway keys, kept hashed in the spend store.

The store is the one the gateways read (`--store URL`, else the config's `store.url`, else the
`anyray up` default), so a key created here works on every replica within `auth.refresh_s`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from anyray.cli.common import fitting, load_or_exit
from anyray.keys import KeyStore
from anyray.store import StoreError, default_store_url, open_store
from anyray.store.postgres import redact

app = typer.Typer(help="Gateway keys: who may call the gateway, and which team pays.", no_args_is_help=True)
console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

StoreOption = typer.Option(None, "--store", help="sqlite:///path or postgresql://... (default: config).")
ConfigOption = typer.Option(None, "--config", "-c", envvar="ANYRAY_CONFIG", help="anyray.yaml whose store.url to use.")


FIRST_KEY_NOTE = (
    "this is the store's first key: from now on every gateway that reads this store refuses calls without a "
    "gateway key (auth.required unset means: as soon as a key exists). Give every workload a key, or set "
    "auth.required: false to keep serving keyless calls")


def _open(store_url: str | None, config_path: Path | None) -> tuple[KeyStore, str]:
    url = store_url or load_or_exit(config_path).store.url or default_store_url()
    try:
        return KeyStore(open_store(url)), url
    except StoreError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None


def _when(ms: int | None) -> str:
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")


@app.command("create")
def create(
    team: str = typer.Option(..., "--team", "-t", help="The team this key's spend is billed to."),
    name: str | None = typer.Option(None, "--name", help="A label, e.g. the workload that will use it."),
    admin: bool = typer.Option(False, "--admin", help="May also open the console."),
    store_url: str | None = StoreOption,
    config_path: Path | None = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the secret included, once)."),
) -> None:
    """Create a key and print its secret once: it is stored only as a hash."""
    keys, url = _open(store_url, config_path)
    try:
        first = not keys.list()  # revoked keys count: once a store has had a key, keys are asked for
        secret, key = keys.create(team, admin=admin, name=name)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--team") from None
    finally:
        keys.store.close()
    note = FIRST_KEY_NOTE if first and load_or_exit(config_path).auth.required is None else None
    if as_json:
        typer.echo(orjson.dumps({**key.as_dict(), "secret": secret, **({"note": note} if note else {})}).decode())
        return
    if note:
        err_console.print(f"[yellow]note:[/] {note}", soft_wrap=True)
    role = " (admin)" if admin else ""
    console.print(f"created [bold]{key.id}[/] for team [bold]{key.team}[/]{role} in {redact(url)}")
    console.print("the secret, shown only now: give it to the workload as its API key")
    typer.echo(secret)
    console.print("[dim]ANTHROPIC_API_KEY=<secret> (sent as x-api-key) or OPENAI_API_KEY=<secret> (sent as Bearer)[/]")


@app.command("list")
def list_keys(
    store_url: str | None = StoreOption,
    config_path: Path | None = ConfigOption,
    show_revoked: bool = typer.Option(False, "--all", help="Include revoked keys."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """The keys: id, team, last four characters, when created and revoked. Never a secret."""
    keys, _ = _open(store_url, config_path)
    try:
        rows = keys.list(include_revoked=show_revoked)
    finally:
        keys.store.close()
    if as_json:
        typer.echo(orjson.dumps([k.as_dict() for k in rows], option=orjson.OPT_INDENT_2).decode())
        return
    if not rows:
        console.print("no gateway keys: the gateway asks for none (unless auth.required is set).")
        return
    headers = ["id", "team", "ends with", "name", "admin", "created", "revoked"]  # by importance
    cells = [[k.id, k.team, f"...{k.last4}", k.name or "-", "yes" if k.admin else "", _when(k.created_ms),
              _when(k.revoked_ms)] for k in rows]
    shown = fitting(headers, cells, console.width)
    table = Table(show_edge=False)
    for i in shown:
        table.add_column(headers[i], no_wrap=True)
    for row in cells:
        table.add_row(*(escape(row[i]) for i in shown))
    console.print(table)
    if len(shown) < len(headers):
        left_out = ", ".join(h for i, h in enumerate(headers) if i not in shown)
        console.print(f"[dim]left out at {console.width} columns: {left_out} (wider, or --json)[/]")


@app.command("revoke")
def revoke(
    key_id: str = typer.Argument(..., help="The key's id (key_...) or its last four characters."),
    store_url: str | None = StoreOption,
    config_path: Path | None = ConfigOption,
) -> None:
    """Revoke a key; running gateways refuse it within auth.refresh_s."""
    keys, _ = _open(store_url, config_path)
    try:
        key = keys.revoke(key_id)
    finally:
        keys.store.close()
    if key is None:
        err_console.print(f"[bold red]error:[/] no single key matches {key_id!r} (see anyray keys list --all)")
        raise typer.Exit(1)
    console.print(f"revoked {key.id} (team {key.team}, …{key.last4}) at {_when(key.revoked_ms)}")
