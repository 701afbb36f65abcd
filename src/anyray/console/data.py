"""Store queries -> view models for the console's pages. Blocking DB calls; the app runs them in a thread.

Everything here is a number or a label the gateway made (team, app, model, provider, policy kind):
the store holds no prompt or answer content, and the console never asks for any.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from anyray.pricing import base_model_id, format_usd
from anyray.store import SpendStore, Summary, hourly, people
from anyray.store.reads import PolicyEffect, savings_by_policy

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
# preset ranges: (span, bucket of the chart)
PRESETS: dict[str, tuple[int, int]] = {"24h": (DAY_MS, HOUR_MS), "7d": (7 * DAY_MS, 6 * HOUR_MS),
                                       "30d": (30 * DAY_MS, DAY_MS)}
TABLE_GROUPS = ("team", "app", "model", "provider", "user", "session")
FILTERS = ("team", "app", "model")  # the drill-down: a team's apps, an app's models
DRILL = {"team": "app", "app": "model"}
MAX_BUCKETS = 400
PAGE_ROWS = 200  # a table page's rows; the CSV export has them all


class RangeError(ValueError):
    """A custom range the console cannot show (bad date, end before start)."""


@dataclass(slots=True, frozen=True)
class TimeRange:
    key: str  # 24h | 7d | 30d | custom
    since_ms: int
    until_ms: int
    bucket_ms: int
    start: str = ""  # custom: YYYY-MM-DD as typed
    end: str = ""

    @property
    def query(self) -> str:
        """The query string that reproduces this range in links."""
        return f"range=custom&from={self.start}&to={self.end}" if self.key == "custom" else f"range={self.key}"

    @property
    def label(self) -> str:
        fmt = "%Y-%m-%d %H:%M"
        a = datetime.fromtimestamp(self.since_ms / 1000, UTC).strftime(fmt)
        b = datetime.fromtimestamp(self.until_ms / 1000, UTC).strftime(fmt)
        return f"{a} to {b} UTC"


def _bucket_for(span_ms: int) -> int:
    for bucket in (HOUR_MS, 6 * HOUR_MS, DAY_MS, 7 * DAY_MS):
        if span_ms // bucket <= 60:
            return bucket
    return max(DAY_MS, -(-span_ms // MAX_BUCKETS) // DAY_MS * DAY_MS)


def parse_range(params: dict[str, str], now_ms: int) -> TimeRange:
    """`range=24h|7d|30d` ending now, or `range=custom&from=YYYY-MM-DD&to=YYYY-MM-DD` (whole UTC days)."""
    key = params.get("range") or "24h"
    if key in PRESETS:
        span, bucket = PRESETS[key]
        # the chart's buckets are aligned to the epoch; the range ends now and starts a span earlier
        return TimeRange(key, now_ms - span, now_ms + 1, bucket)
    if key != "custom":
        raise RangeError(f"unknown range {key!r}: expected 24h, 7d, 30d or custom")
    try:
        start = date.fromisoformat(params.get("from", ""))
        end = date.fromisoformat(params.get("to", "") or params.get("from", ""))
    except ValueError:
        raise RangeError("custom range: from and to must be dates like 2026-11-01") from None
    if end < start:
        raise RangeError("custom range: 'to' is before 'from'")
    since = int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp() * 1000)
    until = int(datetime(end.year, end.month, end.day, tzinfo=UTC).timestamp() * 1000) + DAY_MS
    return TimeRange("custom", since, until, _bucket_for(until - since), start.isoformat(), end.isoformat())


def pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def ms(x: float | None, estimated: bool = False) -> str:
    """A latency; `estimated`: read from the hourly histogram (a big range), so marked approximate."""
    return "-" if x is None else f"{'≈' if estimated else ''}{x:,.0f} ms"


# ---------------------------------------------------------------------------------------------- tables
@dataclass(slots=True, frozen=True)
class Column:
    key: str
    title: str
    numeric: bool = True


COLUMNS = (  # spend right after the name: on a phone the first columns are what shows without scrolling
    Column("group", "name", numeric=False),
    Column("cost_micros", "spend"),
    Column("requests", "requests"),
    Column("errors", "errors"),
    Column("savings_micros", "savings"),
    Column("cache_savings_micros", "cache saved"),
    Column("input_tokens", "input tokens"),
    Column("output_tokens", "output tokens"),
    Column("cache_read_tokens", "cache read"),
    Column("cache_write_tokens", "cache write"),
    Column("cache_hit_rate", "cache hits"),
    Column("fail_open", "fail-open"),
    Column("p50_ms", "p50"),
    Column("p95_ms", "p95"),
)
SORT_KEYS = {c.key for c in COLUMNS}


def family(model: str) -> str:
    """A model id without its date or version suffix (`claude-sonnet-4-5-20250929`, `...@20250929` and
    `claude-sonnet-4-5` are one model on the console), as the price table files it."""
    return base_model_id(model) or model


def spend_text(s: Summary) -> str:
    """A group's spend: "unpriced" when none of its calls had a price, never $0; a part unpriced is said."""
    if s.unpriced and not s.cost_micros:
        return "unpriced"
    text = format_usd(s.cost_micros)
    return f"{text} + {s.unpriced:,} unpriced" if s.unpriced else text


def cell(s: Summary, key: str) -> str:
    """The displayed text of one table cell."""
    value = s.group if key == "group" else getattr(s, key)
    if key == "group":
        return value or "(none)"
    if key == "cost_micros":
        return spend_text(s)
    if key.endswith("_micros"):
        return format_usd(value)
    if key == "cache_hit_rate":
        return pct(value)
    if key.endswith("_ms"):
        return ms(value, s.latency_estimated)
    return f"{value:,}"


def sort_rows(rows: list[Summary], key: str, descending: bool) -> list[Summary]:
    if key not in SORT_KEYS:
        key = "cost_micros"
    if key == "group":
        return sorted(rows, key=lambda s: (s.group is None, s.group or ""), reverse=descending)
    present = [s for s in rows if getattr(s, key) is not None]
    missing = [s for s in rows if getattr(s, key) is None]  # no latency: always last
    present.sort(key=lambda s: (getattr(s, key), s.group or ""), reverse=descending)
    return present + missing


def parse_filters(params: Mapping[str, str]) -> dict[str, str]:
    """`team=`, `app=`, `model=` from the query string (other keys ignored), each at most 128 characters."""
    return {key: params[key][:128] for key in FILTERS if params.get(key)}


def filter_query(filters: Mapping[str, str], **more: str | None) -> str:
    """The filters (with `more` set, or dropped when None) as a query string, for links."""
    merged = {**filters, **more}
    return urlencode({k: v for k, v in merged.items() if v is not None})


def drill_link(by: str, filters: Mapping[str, str], group: str | None) -> tuple[str, str] | None:
    """(next table, its query) for a row of a team or app table: the team's apps, the app's models."""
    if by not in DRILL or not group:
        return None
    return DRILL[by], filter_query(filters, **{by: group})


def group_table(store: SpendStore, rng: TimeRange, by: str, sort: str, descending: bool,
                filters: Mapping[str, str] | None = None, limit: int | None = None) -> list[Summary]:
    """Team/app/model/provider tables from the hourly roll-ups; user and session from the
    per-person one (store/people.py), or from the records when filtered (that roll-up has no team, app or model;
    `people.filtered`).

    `limit`: the rows a page shows (the first in the sort's order): every row is returned, but only those
    are sure to carry p50/p95. A month of 5,000 sessions is not read on a page anyway; it took 0.7 s to
    render and 0.5 s to read the latencies of."""
    if by in hourly.GROUPS:
        rows = hourly.totals(store, rng.since_ms, rng.until_ms, by, filters, fold=family if by == "model" else None)
        return sort_rows(rows, sort, descending)
    pick = None  # every row's latencies (the CSV, or a sort by them)
    if limit is not None and sort not in ("p50_ms", "p95_ms"):
        pick = lambda rows: sort_rows(rows, sort, descending)[:limit]  # noqa: E731
    if filters:
        rows = people.filtered(store, rng.since_ms, rng.until_ms, by, filters, hourly.EXACT_LATENCY_LIMIT, pick)
    else:
        rows = people.totals(store, rng.since_ms, rng.until_ms, by, hourly.EXACT_LATENCY_LIMIT, pick)
    return sort_rows(rows, sort, descending)


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def csv_cell(value: object) -> object:
    """A cell a spreadsheet shows as text, never runs: OWASP's advice against CSV (formula) injection.

    Group names come from callers (a team, app or user in `x-anyray-metadata`, a model id): one starting
    with `=`, `+`, `-`, `@`, a tab or a carriage return would be a formula in Excel, LibreOffice or
    Sheets (`=HYPERLINK(...)`, `@SUM(...)`, DDE). Such a text gets a leading `'`; numbers are left alone,
    and the csv module quotes what holds a separator or a quote, so no cell can start another.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def table_csv(rows: list[Summary], by: str) -> str:
    """Exact integers (micro-dollars, tokens), plus dollars with all six decimals, one row per group."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow([by, "requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens",
                "cache_write_tokens", "cost_micros", "cost_usd", "unpriced_requests", "savings_micros",
                "savings_usd", "cache_hits", "cache_hit_rate", "fail_open", "p50_ms", "p95_ms"])
    for s in rows:
        w.writerow([csv_cell(s.group or ""), s.requests, s.errors, s.input_tokens, s.output_tokens, s.cache_read_tokens,
                    s.cache_write_tokens, s.cost_micros, _usd(s.cost_micros), s.unpriced, s.savings_micros,
                    _usd(s.savings_micros), s.cache_hits, f"{s.cache_hit_rate:.4f}", s.fail_open,
                    "" if s.p50_ms is None else s.p50_ms, "" if s.p95_ms is None else s.p95_ms])
    return buf.getvalue()


def _usd(micros: int) -> str:
    return format_usd(micros).replace("$", "").replace(",", "")


# ---------------------------------------------------------------------------------------------- overview
@dataclass(slots=True)
class Overview:
    range: TimeRange
    total: Summary
    buckets: list[int]
    series: dict[str, list[int]]  # model -> cost per bucket (micro-dollars)
    policies: list[PolicyEffect]
    cards: list[tuple[str, str, str]] = field(default_factory=list)  # (id, label, text)
    unpriced: set[str] = field(default_factory=set)  # models none of whose calls had a price


def overview(store: SpendStore, rng: TimeRange, filters: Mapping[str, str] | None = None) -> Overview:
    totals = hourly.totals(store, rng.since_ms, rng.until_ms, None, filters)
    total = totals[0] if totals and totals[0].requests else Summary(None)
    first = rng.since_ms - rng.since_ms % rng.bucket_ms
    buckets = list(range(first, rng.until_ms, rng.bucket_ms))
    index = {b: i for i, b in enumerate(buckets)}
    series: dict[str, list[int]] = {}
    priced: dict[str, bool] = {}
    for p in hourly.series(store, rng.since_ms, rng.until_ms, rng.bucket_ms, filters):
        name = family(p.model)
        series.setdefault(name, [0] * len(buckets))[index[p.bucket_ms]] += p.cost_micros
        priced[name] = priced.get(name, False) or p.unpriced < p.requests
    ordered = dict(sorted(series.items(), key=lambda kv: (-sum(kv[1]), kv[0])))
    policies = savings_by_policy(hourly.effects(store, rng.since_ms, rng.until_ms, filters))
    tokens = total.input_tokens + total.output_tokens + total.cache_read_tokens + total.cache_write_tokens
    cards = [
        ("spend", "spend", spend_text(total)),
        ("requests", "requests", f"{total.requests:,}"),
        ("tokens", "tokens", f"{tokens:,}"),
        ("savings", "estimated savings", format_usd(total.savings_micros)),
        ("cache-hit-rate", "cache-hit rate", pct(total.cache_hit_rate)),
        ("fail-open", "fail-open", f"{total.fail_open:,}"),
        ("p50", "p50 latency", ms(total.p50_ms, total.latency_estimated)),
        ("p95", "p95 latency", ms(total.p95_ms, total.latency_estimated)),
    ]
    unpriced = {name for name, any_priced in priced.items() if not any_priced}
    return Overview(rng, total, buckets, ordered, policies, cards, unpriced)


def optimizer_days(store: SpendStore, rng: TimeRange) -> list[PolicyEffect]:
    """Newest day first, biggest saving first within a day."""
    effects = hourly.effects(store, rng.since_ms, rng.until_ms)
    return sorted(effects, key=lambda e: (e.day, e.savings_micros), reverse=True)


# ---------------------------------------------------------------------------------------------- health
_SECRETISH = re.compile(r"[A-Za-z0-9_\-]{24,}")


def scrub(text: Any) -> str:
    """Doctor-style details keep a key's last four characters at most; anything token-like is masked."""
    return _SECRETISH.sub("[redacted]", str(text))[:300]


def now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
