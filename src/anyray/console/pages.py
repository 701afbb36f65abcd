"""The console's heavy pages built whole (query, chart, HTML) in one call, so it can run away from the
event loop: in a thread, or in the console's worker process (`worker.py`).

Everything passed in and out is plain data (ranges, filters, the template's context of numbers and
labels, the finished HTML), so it crosses a process boundary as a pickle.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from anyray.console import data, svg
from anyray.pricing import format_usd
from anyray.store import SpendStore

_env = Environment(loader=PackageLoader("anyray.console", "templates"), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)
_env.filters["usd"] = format_usd


def render(template: str, **ctx: Any) -> str:
    return _env.get_template(template).render(**ctx)


def overview(store: SpendStore, rng: data.TimeRange, filters: Mapping[str, str], ctx: dict[str, Any]) -> str:
    ov = data.overview(store, rng, filters)
    chart = svg.stacked_bars(ov.buckets, ov.series, rng.bucket_ms, "spend over time by model")
    return render("overview.html", ov=ov, chart=chart, legend=svg.legend(ov.series, ov.unpriced), **ctx)


def table(store: SpendStore, rng: data.TimeRange, by: str, sort: str, desc: bool, filters: Mapping[str, str],
          ctx: dict[str, Any]) -> str:
    rows = data.group_table(store, rng, by, sort, desc, filters, data.PAGE_ROWS)
    return render("table.html", by=by, rows=rows[:data.PAGE_ROWS], total_rows=len(rows), columns=data.COLUMNS,
                  cell=data.cell, sort=sort, desc=desc, drill=data.drill_link, **ctx)


def table_csv(store: SpendStore, rng: data.TimeRange, by: str, sort: str, desc: bool,
              filters: Mapping[str, str]) -> str:
    return data.table_csv(data.group_table(store, rng, by, sort, desc, filters), by)


def optimizer(store: SpendStore, rng: data.TimeRange, ctx: dict[str, Any]) -> str:
    return render("optimizer.html", days=data.optimizer_days(store, rng), **ctx)
