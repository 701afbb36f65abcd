"""Budgets: a USD spend limit per team and per gateway key, over a calendar period (docs/budgets.md).

Spend is the store's own ledger (spend_records), so every replica sharing a PostgreSQL store counts the
same money. Reading it per call would put a query on the hot path; instead a gateway keeps, per period:

- `base`: the store's sums by team and by key, re-read every `budgets.refresh_s` from a thread;
- `local`: its own calls the store does not hold yet (queued, or written after the last read began).

A check is then two dict lookups per budget. The writer tells the ledger which records it committed
(`SpendWriter.on_written`); at the next read those that committed before the read began are in `base`
and leave `local`. A record written while a read runs is counted twice until the read after: that errs
towards refusing a little early, never late.

The bound on overshoot (how far past its limit a budget can end): calls already admitted when the limit
is crossed finish and are charged (one call's cost per call in flight, on every replica), plus what the
other replicas spend before this one next reads the store (`refresh_s` plus the writer's lag, ~50 ms).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.responses import Response

from anyray.config import Budget, BudgetSettings
from anyray.errors import anthropic_error
from anyray.errors_openai import openai_error
from anyray.store import SpendRecord, open_store
from anyray.store.base import SpendStore
from anyray.store.ledger import SpendSince, spend_since

log = logging.getLogger("anyray.budgets")

WARNING_HEADER = "anyray-budget-warning"
_LABEL = {"day": "daily", "week": "weekly", "month": "monthly"}


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime]:
    """The UTC calendar period holding `now`: [start, end)."""
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return day, day + timedelta(days=1)
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7)
    start = day.replace(day=1)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start, end


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _usd(micros: int | float) -> str:
    return f"${micros / 1e6:,.2f}"


def ascii_text(text: str) -> str:
    """A header value is ASCII: a team named in another script is escaped, not an encoding error."""
    return text.encode("ascii", "backslashreplace").decode()


@dataclass(frozen=True, slots=True)
class Over:
    """A budget past its hard limit: who, how much, and when it resets."""

    scope: str  # "team" or "key"
    name: str
    budget: Budget
    spent_micros: int
    resets: datetime

    @property
    def retry_after_s(self) -> int:
        return max(1, int((self.resets - datetime.now(UTC)).total_seconds()) + 1)

    def message(self) -> str:
        who = f"team {self.name!r}" if self.scope == "team" else f"gateway key {self.name}"
        return (f"{who} has reached its {_LABEL[self.budget.period]} budget of {_usd(self.budget.limit_usd * 1e6)} "
                f"(spent {_usd(self.spent_micros)}); calls are refused until {self.resets:%Y-%m-%d %H:%M} UTC "
                f"(budgets.{self.scope}s in the gateway's config; ask your platform team to raise it)")


@dataclass(slots=True)
class Verdict:
    over: Over | None = None
    warnings: list[str] = field(default_factory=list)  # header text, one per budget past its soft limit
    warned: list[tuple[str, str]] = field(default_factory=list)  # (scope, name) of those budgets


@dataclass(slots=True)
class _Mine:
    """One of this gateway's own calls, counted locally until the store's sums are known to include it."""

    ts_ms: int
    team: str | None
    key_id: str | None
    micros: int
    written_at: float | None = None


@dataclass(slots=True)
class _Period:
    base: SpendSince
    local_teams: dict[str, int] = field(default_factory=dict)
    local_keys: dict[str, int] = field(default_factory=dict)

    def spent(self, scope: str, name: str) -> int:
        if scope == "team":
            return self.base.teams.get(name, 0) + self.local_teams.get(name, 0)
        return self.base.keys.get(name, 0) + self.local_keys.get(name, 0)

    def add(self, entry: _Mine) -> None:
        if entry.ts_ms < self.base.since_ms:
            return
        if entry.team is not None:
            self.local_teams[entry.team] = self.local_teams.get(entry.team, 0) + entry.micros
        if entry.key_id is not None:
            self.local_keys[entry.key_id] = self.local_keys.get(entry.key_id, 0) + entry.micros


class BudgetLedger:
    """What each budgeted team and key has spent in its current period, as this gateway knows it."""

    def __init__(
        self, settings: BudgetSettings, store_url: str | None, registry: CollectorRegistry,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store_url = store_url if settings.any else None
        self.clock = clock
        self.periods = {b.period for b in (*settings.teams.values(), *settings.keys.values())}
        now = datetime.fromtimestamp(clock(), UTC)
        self._periods = {p: _Period(SpendSince(_ms(period_bounds(p, now)[0]))) for p in self.periods}
        self._mine: dict[str, _Mine] = {}
        self._current: dict[str, tuple[int, datetime, float]] = {}  # period -> (start ms, end, end as epoch s)
        self._lock = threading.Lock()  # the writer thread marks records written while the loop counts
        self._store: SpendStore | None = None
        self._task: asyncio.Task[None] | None = None
        self.read_at: float | None = None  # monotonic time of the last good read of the store
        self.warned = Counter("anyray_budget_warnings", "Answers past a soft budget limit (each carried "
                              "anyray-budget-warning).", ["scope", "name"], registry=registry)
        self.refused = Counter("anyray_budget_refused", "Calls refused at a hard budget limit.",
                               ["scope", "name"], registry=registry)
        if settings.any:
            registry.register(_UsedRatio(self))

    # ------------------------------------------------------------------ the request side
    def admit(self, team: str | None, key_id: str | None) -> Verdict | None:
        """`check`, counted in the metrics: what the pipeline asks for each call."""
        verdict = self.check(team, key_id)
        if verdict is not None:
            if verdict.over is not None:
                self.refused.labels(verdict.over.scope, verdict.over.name).inc()
            for scope, name in verdict.warned:
                self.warned.labels(scope, name).inc()
        return verdict

    def check(self, team: str | None, key_id: str | None) -> Verdict | None:
        """None when nothing is budgeted for this caller; else the verdict: refused, warned, or neither."""
        budgets = self._budgets_of(team, key_id)
        if not budgets:
            return None
        verdict = Verdict()
        for scope, name, budget in budgets:
            period, end = self._period(budget.period)
            spent = period.spent(scope, name)
            if spent >= budget.limit_usd * 1e6:
                verdict.over = Over(scope, name, budget, spent, end)
                return verdict
            if budget.soft_usd is not None and spent >= budget.soft_usd * 1e6:
                verdict.warned.append((scope, name))
                who = f"team {name}" if scope == "team" else f"key {name}"
                verdict.warnings.append(ascii_text(
                    f"{who}: {_usd(spent)} of its {_LABEL[budget.period]} {_usd(budget.limit_usd * 1e6)} spent "
                    f"(soft limit {_usd(budget.soft_usd * 1e6)}; resets {end:%Y-%m-%d} UTC)"))
        return verdict

    def _period(self, name: str) -> tuple[_Period, datetime]:
        """The current period's counts and its end. Its bounds are worked out once per period, not per call; when
        it has just begun, the counts start again from this gateway's own calls in it (the store's sums for it
        follow at the next read, within refresh_s), not from last period's money."""
        cached = self._current.get(name)
        now = self.clock()
        if cached is None or now >= cached[2]:
            start, end = period_bounds(name, datetime.fromtimestamp(now, UTC))
            cached = self._current[name] = (_ms(start), end, end.timestamp())
        period = self._periods[name]
        if period.base.since_ms < cached[0]:
            with self._lock:
                period = self._periods[name] = _Period(SpendSince(cached[0]))
                for entry in self._mine.values():
                    period.add(entry)
        return period, cached[1]

    def _budgets_of(self, team: str | None, key_id: str | None) -> list[tuple[str, str, Budget]]:
        found = []
        if key_id is not None and (budget := self.settings.keys.get(key_id)) is not None:
            found.append(("key", key_id, budget))
        if team is not None and (budget := self.settings.teams.get(team)) is not None:
            found.append(("team", team, budget))
        return found

    def note(self, record: SpendRecord) -> None:
        """A finished call of this gateway (the spend recorder's hook): counted at once."""
        micros = record.cost_micros or 0
        if micros <= 0 or not self._budgets_of(record.team, record.key_id):
            return
        entry = _Mine(record.ts_ms, record.team, record.key_id, micros)
        with self._lock:
            if self.store_url is not None:
                self._mine[record.request_id] = entry
            for period in self._periods.values():
                period.add(entry)

    def written(self, batch: list[SpendRecord]) -> None:
        """The store committed these (from the writer thread)."""
        if not self._mine:
            return
        now = time.monotonic()
        with self._lock:
            for record in batch:
                entry = self._mine.get(record.request_id)
                if entry is not None and entry.written_at is None:
                    entry.written_at = now

    # ------------------------------------------------------------------ reading the store
    def refresh(self) -> None:
        """Re-read every period's sums (blocking: from a thread)."""
        if self.store_url is None:
            return
        if self._store is None:
            self._store = open_store(self.store_url, lazy=True)
        began = time.monotonic()
        now = datetime.fromtimestamp(self.clock(), UTC)
        bases = {p: spend_since(self._store, _ms(period_bounds(p, now)[0]),
                                [t for t, b in self.settings.teams.items() if b.period == p],
                                [k for k, b in self.settings.keys.items() if b.period == p]) for p in self.periods}
        with self._lock:
            # committed before this read began: the sums above include them
            self._mine = {rid: e for rid, e in self._mine.items() if e.written_at is None or e.written_at >= began}
            fresh = {p: _Period(base) for p, base in bases.items()}
            oldest = min((b.since_ms for b in bases.values()), default=0)
            self._mine = {rid: e for rid, e in self._mine.items() if e.ts_ms >= oldest}
            for entry in self._mine.values():
                for period in fresh.values():
                    period.add(entry)
            self._periods = fresh
        self.read_at = time.monotonic()

    async def start(self, first_read_s: float = 3.0) -> None:
        if self.store_url is None:
            return
        first = asyncio.Event()
        self._task = asyncio.create_task(self._refresh_forever(first), name="anyray-budgets-refresh")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(first.wait(), first_read_s)
        if self.read_at is None:
            log.error("spend store cannot be read yet: budgets count only this gateway's calls until it can")

    async def _refresh_forever(self, first: asyncio.Event) -> None:
        failures = 0
        while True:
            try:
                await asyncio.to_thread(self.refresh)
                failures = 0
            except Exception as exc:  # an outage: keep the last sums (and keep counting our own calls)
                failures += 1
                if failures == 1 or failures % 60 == 0:
                    log.warning("budget sums not read (%s); keeping the last ones", type(exc).__name__)
            first.set()
            await asyncio.sleep(self.settings.refresh_s)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._store is not None:
            await asyncio.to_thread(self._store.close)
            self._store = None

    def uses(self) -> list[BudgetUse]:
        """Every configured budget and what it has used this period, as this gateway knows it (the console's
        bars, the used-ratio gauge)."""
        out = []
        for scope, budgets in (("team", self.settings.teams), ("key", self.settings.keys)):
            for name, budget in budgets.items():
                spent = self._period(budget.period)[0].spent(scope, name)
                soft = None if budget.soft_usd is None else round(budget.soft_usd * 1e6)
                out.append(BudgetUse(scope, name, budget.period, spent, round(budget.limit_usd * 1e6), soft))
        return out

    def used(self) -> Iterator[tuple[str, str, str, float]]:
        """(scope, name, period, spent / limit) for every configured budget."""
        for use in self.uses():
            yield use.scope, use.name, use.period, use.ratio


@dataclass(frozen=True, slots=True)
class BudgetUse:
    scope: str  # "team" or "key"
    name: str
    period: str
    spent_micros: int
    limit_micros: int
    soft_micros: int | None

    @property
    def ratio(self) -> float:
        return self.spent_micros / self.limit_micros if self.limit_micros else 0.0


class _UsedRatio(Collector):
    """`anyray_budget_used_ratio{scope,name,period}`, read from the ledger at scrape time."""

    def __init__(self, ledger: BudgetLedger) -> None:
        self.ledger = ledger

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("anyray_budget_used_ratio", "Spend in the current period over the hard limit "
                                   "(1 = refused from now on), as this gateway knows it.",
                                   labels=["scope", "name", "period"])
        for scope, name, period, ratio in self.ledger.used():
            family.add_metric([scope, name, period], ratio)
        yield family


def over_budget(dialect: str, over: Over) -> Response:
    """The refusal, in the caller's dialect. Neither is worth retrying before the period resets, so both say
    `x-should-retry: false` (both SDKs obey it) and carry `retry-after` with the seconds until then.

    Anthropic: 400 invalid_request_error, as Anthropic answers a workspace past its spend limit; a 400 is
    never retried by the SDKs or Claude Code (a 429 is, up to ten times). OpenAI: 429 `insufficient_quota`,
    as OpenAI answers an account out of credit; applications already branch on that code."""
    headers = {"retry-after": str(over.retry_after_s), "x-should-retry": "false",
               "anyray-budget-resets": over.resets.strftime("%Y-%m-%dT%H:%M:%SZ")}
    if dialect == "anthropic":
        response = anthropic_error(400, over.message(), "invalid_request_error")
        response.headers.update(headers)
        return response
    return openai_error(429, over.message(), "insufficient_quota", code="insufficient_quota", headers=headers)
