"""`anyray keys create|list|rotate|revoke`: per-team gateway keys, kept hashed in the spend store.

The store is the one the gateways read (`--store URL`, else the config's `store.url`, else the
`anyray up` default), so a key created here works on every replica within `auth.refresh_s`.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from anyray.cli.common import fitting, load_or_exit
from anyray.keys import GatewayKey, KeyStore
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


def _day(ms: int | None) -> str:
    """The UTC day: narrow enough to keep the models column at 80 columns (--json has the moment)."""
    return "-" if ms is None else datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def duration_s(text: str) -> int:
    """`90m`, `12h`, `30d`, `2w` -> seconds."""
    match = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text)
    if not match:
        raise ValueError(f"expected a duration like 90m, 12h, 30d or 2w, got {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


def expiry_ms(text: str, now: datetime | None = None) -> int:
    """`--expires`: a duration from now (`30d`) or a UTC date or moment (`2027-01-01`, `2027-01-01T12:00`)."""
    now = now or datetime.now(UTC)
    try:
        return int((now.timestamp() + duration_s(text)) * 1000)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"expected a duration (30d, 12h) or a UTC date (2027-01-01), got {text!r}") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment <= now:
        raise ValueError(f"{text!r} is in the past")
    return int(moment.timestamp() * 1000)


def _status(key: GatewayKey, now_ms: int) -> str:
    if key.revoked_ms is not None:
        return "revoked"
    if key.expired:
        return "expired"
    if key.previous_until_ms is not None and key.previous_until_ms > now_ms:
        return "rotating"
    return "active"


@app.command("create")
def create(
    team: str = typer.Option(..., "--team", "-t", help="The team this key's spend is billed to."),
    name: str | None = typer.Option(None, "--name", help="A label, e.g. the workload that will use it."),
    admin: bool = typer.Option(False, "--admin", help="May also open the console."),
    expires: str | None = typer.Option(None, "--expires", help="30d, 12h, or a UTC date (2027-01-01): refused after."),
    models: str | None = typer.Option(None, "--models", help="Comma-separated models or globs it may ask for "
                                      "(claude-haiku-*,claude-sonnet-4-5); default: any."),
    store_url: str | None = StoreOption,
    config_path: Path | None = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the secret included, once)."),
) -> None:
    """Create a key and print its secret once: it is stored only as a hash."""
    try:
        until = expiry_ms(expires) if expires is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--expires") from None
    allowed = models.split(",") if models is not None else None
    keys, url = _open(store_url, config_path)
    try:
        first = not keys.list()  # revoked keys count: once a store has had a key, keys are asked for
        secret, key = keys.create(team, admin=admin, name=name, expires_ms=until, models=allowed)
    except ValueError as exc:
        hint = "--models" if "allow-list" in str(exc) else "--expires" if "expiry" in str(exc) else "--team"
        raise typer.BadParameter(str(exc), param_hint=hint) from None
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
    """The keys: id, team, last four characters, status, expiry, models, when created and revoked. Never a secret."""
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
    now = int(time.time() * 1000)
    # by importance; what does not fit the terminal is left out whole (and named below the table)
    headers = ["id", "team", "status", "models", "expires", "ends with", "name", "admin", "old secret until",
               "created", "revoked"]
    cells = [[k.id, k.team, _status(k, now), ",".join(k.models) if k.models else "any", _day(k.expires_ms),
              f"...{k.last4}", k.name or "-", "yes" if k.admin else "",
              _when(k.previous_until_ms) if k.previous_until_ms and k.previous_until_ms > now else "-",
              _when(k.created_ms), _when(k.revoked_ms)] for k in rows]
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


@app.command("rotate")
def rotate(
    key_id: str = typer.Argument(..., help="The key's id (key_...) or its last four characters."),
    grace: str = typer.Option("24h", "--grace", help="How long the old secret keeps working (90m, 24h, 7d)."),
    store_url: str | None = StoreOption,
    config_path: Path | None = ConfigOption,
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the new secret included, once)."),
) -> None:
    """A new secret for a key (same id, team, budgets and limits); the old one keeps working for --grace, so
    workloads move over without downtime. Rotating again ends the previous grace at once."""
    try:
        grace_s = duration_s(grace)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--grace") from None
    keys, _ = _open(store_url, config_path)
    try:
        rotated = keys.rotate(key_id, grace_s * 1000)
    finally:
        keys.store.close()
    if rotated is None:
        err_console.print(f"[bold red]error:[/] no single active key matches {key_id!r} (see anyray keys list)")
        raise typer.Exit(1)
    secret, key = rotated
    if as_json:
        typer.echo(orjson.dumps({**key.as_dict(), "secret": secret}).decode())
        return
    console.print(f"rotated [bold]{key.id}[/] (team {key.team}); the old secret works until "
                  f"{_when(key.previous_until_ms)}")
    console.print("the new secret, shown only now:")
    typer.echo(secret)


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
