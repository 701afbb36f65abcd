"""How big is the per-user and per-session roll-up (spend_people), and what does keeping it cost a write?

    flock /tmp/anyray-bench.lock .venv/bin/python -m benchmarks.people_rollup [--rows 300000]

Two distributions of `--rows` records over 30 days, each into a fresh SQLite store through
`SpendStore.insert` (which keeps the roll-ups):
- `console_scale`: `benchmarks/console_scale.py`'s (300 users and 5,000 sessions drawn at random for
  every call, so every user calls every app and model and every session spans the month: the worst case);
- `claude_code`: a team's Claude Code traffic (300 people in 8 teams; each works ~5 sessions a working
  day, a session 20 minutes to 3 hours long, 40-300 calls of one app on two models).
Prints the rows of each roll-up against the records. Then the write cost, per distribution: batches of
500 of 60,000 records inserted with both per-person roll-ups (`spend_people` and the drill-down's
`spend_people_drill`), with `spend_people` alone and with neither, in turn, µs per record.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from anyray.store import SpendRecord, drill, open_store, people
from benchmarks.console_scale import DAY_MS, TEAMS, records

HOUR_MS = 3_600_000


def claude_code(n: int, now_ms: int, seed: int = 11) -> Iterator[SpendRecord]:
    rng = random.Random(seed)
    team_of = {f"dev{i:03d}@example.com": TEAMS[i % len(TEAMS)] for i in range(300)}
    out: list[SpendRecord] = []
    start = now_ms - 30 * DAY_MS
    while len(out) < n:
        user = rng.choice(list(team_of))
        day = rng.randrange(30)
        begin = start + day * DAY_MS + rng.randrange(7 * HOUR_MS, 19 * HOUR_MS)
        length = rng.randrange(20 * 60_000, 3 * HOUR_MS)
        session = uuid.UUID(int=rng.getrandbits(128)).hex
        app = "claude-code" if rng.random() < 0.9 else "claude-code-ci"
        for _ in range(rng.randrange(40, 300)):
            model = "claude-opus-4-8" if rng.random() < 0.7 else "claude-haiku-4-5"
            inp = int(rng.lognormvariate(9, 1))
            out.append(SpendRecord(
                ts_ms=min(begin + rng.randrange(length), now_ms - 1),
                request_id=f"cc_{uuid.UUID(int=rng.getrandbits(128)).hex}",
                dialect="anthropic", endpoint="/v1/messages", model_asked=model, model_used=model,
                provider="anthropic", status=200, team=team_of[user], app=app, user_name=user,
                tags={"session": session}, input_tokens=inp, output_tokens=int(rng.lognormvariate(6, 1)),
                cost_micros=inp * 5, latency_ms=rng.lognormvariate(8, 0.7),
            ))
    out.sort(key=lambda r: r.ts_ms)
    yield from out[:n]


def fill(url: str, source: Iterator[SpendRecord]) -> None:
    store = open_store(url)
    store.migrate()
    batch: list[SpendRecord] = []
    for r in source:
        batch.append(r)
        if len(batch) == 20_000:
            store.insert(batch)
            batch.clear()
    store.insert(batch)
    store.close()


def sizes(url: str) -> str:
    store = open_store(url)
    try:
        with store._transaction() as cur:
            cur.execute("SELECT COUNT(*) FROM spend_records")
            n = cur.fetchone()[0]
            cur.execute("SELECT COUNT(*) FROM spend_hourly")
            hourly = cur.fetchone()[0]
            cur.execute("SELECT dim, span_ms, COUNT(*) FROM spend_people GROUP BY dim, span_ms ORDER BY dim, span_ms")
            found = cur.fetchall()
            cur.execute("SELECT COUNT(*) FROM spend_people_drill")
            drilled = cur.fetchone()[0]
    finally:
        store.close()
    parts = [f"records {n:,}", f"spend_hourly {hourly:,} ({100 * hourly / n:.1f}%)"]
    for dim, span, rows in found:
        parts.append(f"{dim}/{'day' if span == DAY_MS else 'week'} {rows:,} ({100 * rows / n:.1f}%)")
    parts.append(f"drill/week {drilled:,} ({100 * drilled / n:.1f}%)")
    return "  ".join(parts)


def write_cost(folder: Path, name: str, source: list[SpendRecord], size: int = 500) -> dict[str, float]:
    """µs per record inserted with both per-person roll-ups, with `spend_people` alone, and with neither,
    in turn batch by batch (each variant into its own store)."""
    variants = {"both": (people.add, drill.add), "people": (people.add, _skip), "neither": (_skip, _skip)}
    keep = people.add, drill.add
    times: dict[str, list[float]] = {v: [] for v in variants}
    stores = {}
    for v in variants:
        store = stores[v] = open_store(f"sqlite:///{folder / f'write-{name}-{v}.db'}")
        store.migrate()
    try:
        for i in range(len(source) // size):
            v = list(variants)[i % len(variants)]
            batch = source[i * size:(i + 1) * size]
            people.add, drill.add = variants[v]  # type: ignore[assignment]
            t = time.perf_counter()
            stores[v].insert(batch)
            times[v].append((time.perf_counter() - t) * 1e6 / size)
    finally:
        people.add, drill.add = keep  # type: ignore[assignment]
        for store in stores.values():
            store.close()
    return {v: statistics.median(t) for v, t in times.items()}


def _skip(*args: object) -> None:
    """A roll-up not kept (the variant without it)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--no-sizes", action="store_true", help="only the write cost")
    args = ap.parse_args()
    now_ms = int(time.time() * 1000)
    folder = Path(tempfile.mkdtemp(prefix="anyray-people-"))
    shapes = {"console_scale": records, "claude_code": claude_code}
    for name, make in shapes.items() if not args.no_sizes else ():
        url = f"sqlite:///{folder / f'{name}.db'}"
        fill(url, make(args.rows, now_ms))
        print(f"{name:<14} {sizes(url)}", flush=True)
    for name, make in shapes.items():
        cost = write_cost(folder, name, list(make(60_000, now_ms)))
        print(f"{name:<14} insert, batches of 500, µs a record: {cost['both']:.1f} with both per-person roll-ups, "
              f"{cost['people']:.1f} with spend_people alone, {cost['neither']:.1f} with neither", flush=True)


if __name__ == "__main__":
    main()
