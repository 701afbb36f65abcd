"""The console on a big store: overview and table pages over real HTTP on 1,000,000 spend records.

    flock /tmp/anyray-bench.lock .venv/bin/python -m benchmarks.console_scale \
        [--rows 1000000] [--pg postgresql://postgres@127.0.0.1:5432/test] [--reloads 5] [--keep DIR] \
        [--shape records|claude_code]

Fills a SQLite file and (when --pg is given) a fresh PostgreSQL schema with records spread over 30
days like a busy team's gateway (a daily cycle, 8 teams, 24 apps each of one team calling 2-4 of 12
models, dated and undated ids, 300 users, 3 providers, optimizer decisions on a third of the calls,
errors, refusals, cache hits), serves each with `anyray console` in its own process, and times GETs
of the overview and the tables for the 24h, 7d and 30d ranges (and the user and session tables filtered
by a team).
`--shape claude_code`: Claude Code-shaped traffic instead (`benchmarks/people_rollup.py`). Prints one
line per page: median and worst of `--reloads` loads after one warm-up load (which also pays for
opening the store).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

from anyray.store import SpendRecord, open_store
from anyray.store.base import record_row
from anyray.store.records import COLUMNS

DAY_MS = 86_400_000
TEAMS = ["search", "infra", "research", "support", "growth", "data", "mobile", "platform"]
APPS = [f"{kind}-{i}" for kind in ("claude-code", "bot", "indexer", "notebook", "ranker", "agent") for i in range(4)]
MODELS = [  # (id, provider, weight, input $/MTok, output $/MTok)
    ("claude-sonnet-4-5", "anthropic", 20, 3.0, 15.0),
    ("claude-sonnet-4-5-20250929", "anthropic", 10, 3.0, 15.0),
    ("claude-haiku-4-5", "anthropic", 15, 1.0, 5.0),
    ("claude-haiku-4-5-20251001", "vertex", 6, 1.0, 5.0),
    ("claude-opus-4-8", "anthropic", 8, 5.0, 25.0),
    ("claude-opus-4-1", "vertex", 3, 15.0, 75.0),
    ("gpt-4o", "openai", 12, 2.5, 10.0),
    ("gpt-4o-mini", "openai", 12, 0.15, 0.6),
    ("gpt-4.1", "openai", 5, 2.0, 8.0),
    ("o3-mini", "openai", 3, 1.1, 4.4),
    ("text-embedding-3-small", "openai", 5, 0.02, 0.0),
    ("mystery-model-x", "openai", 1, None, None),
]
POLICIES = ["prompt_cache", "context_dedupe", "observation_mask", "param_tuning", "tool_pruning", "response_cache"]


def records(n: int, now_ms: int, seed: int = 7) -> Iterator[SpendRecord]:
    """`n` records over the 30 days before `now_ms`, busier in working hours."""
    rng = random.Random(seed)
    users = [f"user{i:03d}@example.com" for i in range(300)]
    weights = [m[2] for m in MODELS]
    # an app belongs to one team and calls two to four models (a busy store's realistic spread)
    app_team = {app: TEAMS[i % len(TEAMS)] for i, app in enumerate(APPS)}
    app_models = {app: rng.choices(MODELS, weights, k=rng.randint(2, 4)) for app in APPS}
    start = now_ms - 30 * DAY_MS
    stamps = []
    while len(stamps) < n:
        # a daily cycle: reject-sample the hour so 12:00 UTC is ~4x as busy as 00:00
        ts = start + rng.randrange(30 * DAY_MS)
        if rng.random() < 0.25 + 0.75 * math.sin(math.pi * ((ts // 3_600_000) % 24) / 24) ** 2:
            stamps.append(ts)
    stamps.sort()  # a gateway writes in time order
    for ts in stamps:
        app = rng.choice(APPS)
        team = app_team[app]
        model, provider, _, pin, pout = rng.choice(app_models[app])
        status = 200
        roll = rng.random()
        if roll < 0.01:
            status = rng.choice((429, 500, 529))
        elif roll < 0.013:
            status = 400  # refused: unknown model, bad metadata
        inp = 0 if status >= 400 else int(rng.lognormvariate(7, 1.2))
        out = 0 if status >= 400 or model.startswith("text-embedding") else int(rng.lognormvariate(5.5, 1))
        cache_read = int(inp * rng.random() * 3) if model.startswith("claude") and rng.random() < 0.5 else 0
        cache_hit = status == 200 and rng.random() < 0.03
        cost = None if pin is None else int(inp * pin + out * pout + cache_read * pin / 10)
        decisions, savings = ([{"kind": "refused", "reason": "unknown_model"}] if status == 400 else []), 0
        if status == 200 and rng.random() < 0.33:
            for kind in rng.sample(POLICIES, rng.choice((1, 1, 1, 2, 3))):
                before = int(inp * 1.3) + 10
                after = int(before * rng.uniform(0.4, 0.95))
                decisions.append({"kind": kind, "changed": "applied", "tokensBefore": before,
                                  "tokensAfter": after, "estimatedSavingTokens": before - after})
                savings += int((before - after) * (pin or 0))
        yield SpendRecord(
            ts_ms=ts, request_id=f"req_{uuid.UUID(int=rng.getrandbits(128)).hex}", dialect="anthropic",
            endpoint="/v1/messages", model_asked=model, status=status, team=team,
            app=app, user_name=rng.choice(users),
            tags={"session": f"s{rng.randrange(5000)}"} if rng.random() < 0.4 else {},
            provider=None if status == 400 else provider, model_used=None if status == 400 else model,
            input_tokens=inp, output_tokens=out, cache_read_tokens=cache_read,
            cost_micros=0 if status >= 400 else cost, savings_micros=savings, decisions=decisions,
            latency_ms=None if status == 400 else rng.lognormvariate(6.5, 0.8),
            ttfb_ms=None if status >= 400 else rng.lognormvariate(5.5, 0.6),
            streamed=rng.random() < 0.5, cache_hit=cache_hit, fail_open=rng.random() < 0.002,
        )


def shaped(shape: str) -> Callable[[int, int], Iterator[SpendRecord]]:
    """`records` (the default), or `claude_code`: Claude Code-shaped sessions (benchmarks/people_rollup.py)."""
    if shape == "claude_code":
        from benchmarks.people_rollup import claude_code

        return claude_code
    return records


def fill_sqlite(url: str, n: int, now_ms: int, shape: str = "records") -> None:
    store = open_store(url)
    store.migrate()
    batch: list[SpendRecord] = []
    for r in shaped(shape)(n, now_ms):
        batch.append(r)
        if len(batch) == 20_000:
            store.insert(batch)
            batch.clear()
    store.insert(batch)
    with store._transaction() as cur:
        cur.execute("ANALYZE")
    store.close()


def fill_postgres(url: str, n: int, now_ms: int, shape: str = "records") -> None:
    """COPY, not INSERT: a million rows in seconds; the console reads the same table either way."""
    import psycopg

    store = open_store(url)
    store.migrate()
    store.close()
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY spend_records ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for r in shaped(shape)(n, now_ms):
                copy.write_row(record_row(r))
        conn.commit()
    store = open_store(url)
    try:
        from anyray.store import rollup
    except ImportError:  # a version without roll-ups (timing the console before them)
        pass
    else:
        with store._transaction() as cur:  # COPY went around insert(), which keeps them
            rollup.rebuild(store, cur)
            with contextlib.suppress(ImportError):  # a version without the per-person roll-up
                from anyray.store import people

                people.rebuild(store, cur)
            with contextlib.suppress(ImportError):  # a version without the drill-down roll-up
                from anyray.store import drill

                drill.rebuild(store, cur)
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def console(url: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "ANYRAY_HOME": tempfile.mkdtemp(prefix="anyray-bench-")}
    proc = subprocess.Popen([sys.executable, "-m", "anyray", "console", "--store", url, "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}/console"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health", timeout=5)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"console did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


PAGES = [("overview", "/"), ("team", "/tables/team"), ("app", "/tables/app"), ("model", "/tables/model"),
         ("user", "/tables/user"), ("session", "/tables/session"),
         ("user, filtered", "/tables/user?team=search"),  # a drill-down filter: store/drill.py and the records
         ("session, filtered", "/tables/session?team=search")]


def time_pages(base: str, reloads: int) -> list[tuple[str, str, float, float]]:
    out = []
    with httpx.Client(timeout=120) as client:
        for rng in ("24h", "7d", "30d"):
            for name, path in PAGES:
                url = f"{base}{path}{'&' if '?' in path else '?'}range={rng}"
                first = client.get(url)
                if first.status_code == 404 and name.startswith(("user", "session")):
                    continue  # an older console without the user table
                first.raise_for_status()
                times = []
                for _ in range(reloads):
                    t = time.perf_counter()
                    client.get(url).raise_for_status()
                    times.append((time.perf_counter() - t) * 1000)
                out.append((rng, name, statistics.median(times), max(times)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--pg", help="a PostgreSQL URL; a schema is made in it for the run and dropped after")
    ap.add_argument("--reloads", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="keep (and reuse) the SQLite file in this directory")
    ap.add_argument("--shape", choices=("records", "claude_code"), default="records",
                    help="claude_code: Claude Code-shaped sessions (people in one team, sessions of hours)")
    args = ap.parse_args()
    now_ms = int(time.time() * 1000)
    targets: list[tuple[str, str, contextlib.AbstractContextManager[None] | None]] = []
    folder = args.keep or Path(tempfile.mkdtemp(prefix="anyray-console-scale-"))
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / (f"spend-{args.rows}.db" if args.shape == "records" else f"spend-{args.shape}-{args.rows}.db")
    url = f"sqlite:///{db}"
    if not db.exists():
        t = time.perf_counter()
        fill_sqlite(url, args.rows, now_ms, args.shape)
        print(f"sqlite: filled {args.rows:,} rows in {time.perf_counter() - t:.0f} s ({db})", flush=True)
    else:  # reused: migrate to the current schema before timing
        t = time.perf_counter()
        store = open_store(url)
        applied = store.migrate()
        store.close()
        print(f"sqlite: migrations {applied} took {time.perf_counter() - t:.1f} s", flush=True)
    targets.append(("sqlite", url, None))
    if args.pg:
        import psycopg

        schema = f"anyray_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.pg, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        pg = f"{args.pg}?options=-csearch_path%3D{schema}"
        t = time.perf_counter()
        fill_postgres(pg, args.rows, now_ms, args.shape)
        print(f"postgresql: filled {args.rows:,} rows in {time.perf_counter() - t:.0f} s", flush=True)
        targets.append(("postgresql", pg, None))
    try:
        for backend, target, _ in targets:
            with console(target) as base:
                for rng, name, median, worst in time_pages(base, args.reloads):
                    print(f"{backend:<10} {rng:>3} {name:<14} median {median:7.0f} ms  worst {worst:7.0f} ms",
                          flush=True)
    finally:
        if args.pg:
            with psycopg.connect(args.pg, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        if not args.keep:
            with contextlib.suppress(OSError):
                db.unlink()


if __name__ == "__main__":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, line_buffering=True)
    main()
