"""`anyray spend`: what the gateway's traffic cost, by team, app, model, provider, day, user or a tag.

Reads the same store the gateway writes (`--store URL`, else the config's `store.url`, else the
`anyray up` default ~/.anyray/spend.db). Totals are integer micro-dollars summed by the database and
printed with all six decimals, so the table and `--json` agree to the micro-dollar.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from anyray.cli.common import fitting, load_or_exit
from anyray.pricing import format_usd
from anyray.store import GROUPS, StoreError, Summary, default_store_url, open_store, valid_group
from anyray.store.postgres import redact
from anyray.store.sqlite import sqlite_path

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)

_RELATIVE = re.compile(r"(\d+)\s*([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(value: str, now: datetime | None = None) -> datetime | None:
    """`24h`, `7d`, `30m`, `2w`, a date (`2026-11-01`, UTC midnight), an ISO time, or `all` (None)."""
    now = now or datetime.now(UTC)
    text = value.strip().lower()
    if text in ("all", ""):
        return None
    if m := _RELATIVE.fullmatch(text):
        return now - timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter("expected 24h, 7d, 30m, 2w, a date like 2026-11-01, or all") from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _ms(x: float | None) -> str:
    return "-" if x is None else f"{x:,.0f}"


def summary_json(s: Summary) -> dict[str, Any]:
    return {
        "group": s.group,
        "requests": s.requests,
        "errors": s.errors,
        "input_tokens": s.input_tokens,
        "output_tokens": s.output_tokens,
        "cache_write_tokens": s.cache_write_tokens,
        "cache_read_tokens": s.cache_read_tokens,
        "cost_micros": s.cost_micros,
        "cost_usd": format_usd(s.cost_micros).replace("$", "").replace(",", ""),
        "unpriced_requests": s.unpriced,
        "estimated_requests": s.estimated,
        "cache_savings_micros": s.cache_savings_micros,
        "savings_micros": s.savings_micros,
        "savings_usd": format_usd(s.savings_micros).replace("$", "").replace(",", ""),
        "cache_hits": s.cache_hits,
        "cache_hit_rate": round(s.cache_hit_rate, 4),
        "cached_input_ratio": round(s.cached_input_ratio, 4),
        "fail_open": s.fail_open,
        "p50_ms": s.p50_ms,
        "p95_ms": s.p95_ms,
    }


# in order of importance: at 80 columns the first ones are shown, the others left out whole
COLUMNS = ("requests", "cost", "savings", "input", "output", "cache read", "cache write", "cache hits",
           "cache saved", "cached input", "p50 ms", "p95 ms", "fail-open")


def _cells(s: Summary) -> list[str]:
    # a group whose every request used a model with no price cost something unknown, never $0
    cost = "unpriced" if s.unpriced and s.unpriced == s.requests and not s.cost_micros else format_usd(s.cost_micros)
    return [
        f"{s.requests:,}", cost, format_usd(s.savings_micros), f"{s.input_tokens:,}",
        f"{s.output_tokens:,}", f"{s.cache_read_tokens:,}", f"{s.cache_write_tokens:,}", _pct(s.cache_hit_rate),
        format_usd(s.cache_savings_micros), _pct(s.cached_input_ratio), _ms(s.p50_ms), _ms(s.p95_ms),
        f"{s.fail_open:,}",
    ]


def render_table(rows: list[Summary], total: Summary, by: str | None, title: str,
                 width: int = 250) -> tuple[Table, list[str]]:
    """The table that fits `width`, and the columns it left out."""
    headers = [by, *COLUMNS] if by else list(COLUMNS)
    body = [[s.group or "-", *_cells(s)] for s in rows] if by else []
    last = ["total", *_cells(total)] if by else _cells(total)
    shown = fitting(headers, [*body, last], width)
    table = Table(title=title, title_justify="left", show_edge=False)
    for i in shown:
        table.add_column(headers[i], justify="left" if by and i == 0 else "right", no_wrap=True)
    for row in body:
        table.add_row(*(escape(row[i]) for i in shown))
    if by:
        table.add_section()
    table.add_row(*(("[bold]total[/]" if by and i == 0 else last[i]) for i in shown))
    return table, [headers[i] for i in range(len(headers)) if i not in shown]


def spend(
    since: str = typer.Option("7d", "--since", help="24h, 7d, 30m, 2w, a date (2026-11-01, UTC), or all."),
    by: str | None = typer.Option(None, "--by", help=f"Group by {'|'.join(GROUPS)}, or tag:NAME (e.g. "
                                  "tag:session, a Claude Code session)."),
    store_url: str | None = typer.Option(None, "--store", help="sqlite:///path or postgresql://... (default: config)."),
    config_path: Path | None = typer.Option(
        None, "--config", "-c", envvar="ANYRAY_CONFIG", help="anyray.yaml whose store.url to read."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Requests, tokens, cost, savings, cache hits, fail-opens and latency from the spend store."""
    if not valid_group(by):
        raise typer.BadParameter(f"expected one of {', '.join(GROUPS)}, or tag:NAME", param_hint="--by")
    start = parse_since(since)
    url = store_url or load_or_exit(config_path).store.url or default_store_url()
    if url.startswith("sqlite:"):
        try:
            path = sqlite_path(url)
        except StoreError as exc:
            err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
            raise typer.Exit(2) from None
        if not path.exists():
            err_console.print(f"[bold red]error:[/] no spend store at {path} (nothing recorded yet, or see --store)")
            raise typer.Exit(1)
    try:
        store = open_store(url)
    except StoreError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(1) from None
    try:
        store.migrate()
        since_ms = None if start is None else int(start.timestamp() * 1000)
        rows = store.summarize(since_ms, by)
        totals = store.summarize(since_ms, None)
    finally:
        store.close()
    total = totals[0] if totals else Summary(None)
    if as_json:
        doc = {
            "store": redact(url),
            "since": None if start is None else start.isoformat(),
            "by": by,
            "groups": [summary_json(s) for s in rows] if by else [],
            "total": summary_json(total),
        }
        typer.echo(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
        return
    when = "all time" if start is None else f"since {start:%Y-%m-%d %H:%M} UTC"
    table, left_out = render_table(rows, total, by, f"spend {when}" + (f" by {by}" if by else ""), console.width)
    console.print(table)
    if left_out:
        console.print(f"[dim]left out at {console.width} columns: {', '.join(left_out)} (wider, or --json)[/]")
    if total.unpriced:
        console.print(f"[yellow]{total.unpriced} request(s) used a model with no price (see pricing.file).[/]")
    if total.estimated:
        console.print(f"[yellow]{total.estimated} request(s) used a model newer than the price table, priced as "
                      "its family's nearest version (estimated; exact prices: pricing.file).[/]")
    if not total.requests:
        console.print("no requests in this period.")
