"""What one budget refresh costs PostgreSQL with a month of spend records (docs/budgets.md).

    flock /tmp/anyray-bench.lock .venv/bin/python -m benchmarks.budget_refresh [--records 500000]

Fills a throwaway schema in the test database (127.0.0.1:5432/test) with records spread over 30 days and 50
teams (one key each), then times the refresh's reads for 2 budgeted teams and 2 budgeted keys, beside a scan
that sums every team's month (what a refresh not limited to budgeted callers would read).
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import psycopg

from anyray.store import SpendRecord, open_store
from anyray.store.ledger import spend_since

BASE = "postgresql://postgres@127.0.0.1:5432/test"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=500_000)
    args = parser.parse_args()
    schema = f"anyray_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(BASE, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        store = open_store(f"{BASE}?options=-csearch_path%3D{schema}")
        store.migrate()
        now = int(time.time() * 1000)
        month = 30 * 86400 * 1000
        batch = []
        for i in range(args.records):
            batch.append(SpendRecord(ts_ms=now - (i * 7919) % month, request_id=f"r{i}", dialect="anthropic",
                                     endpoint="messages", model_asked="m", status=200, team=f"team{i % 50}",
                                     key_id=f"key_{i % 50:012x}", cost_micros=100 + i % 900))
            if len(batch) == 5000:
                store.insert(batch)
                batch = []
        store.insert(batch)
        with store._transaction() as cur:
            cur.execute("ANALYZE spend_records")
        since = now - month
        budgeted = (["team3", "team7"], [f"key_{3:012x}", f"key_{7:012x}"])

        def timed(run) -> float:
            samples = []
            for _ in range(7):
                started = time.perf_counter()
                run()
                samples.append((time.perf_counter() - started) * 1000)
            return statistics.median(samples)

        def everyone() -> None:
            with store._transaction() as cur:
                cur.execute("SELECT team, key_id, SUM(COALESCE(cost_micros, 0)) FROM spend_records WHERE ts_ms >= %s"
                            " GROUP BY team, key_id", (since,))
                cur.fetchall()

        print(f"{args.records} records over 30 days, 50 teams and keys")
        print(f"refresh for 2 budgeted teams and 2 keys: {timed(lambda: spend_since(store, since, *budgeted)):.1f} ms")
        print(f"summing every team's and key's month:    {timed(everyone):.1f} ms")
        store.close()
    finally:
        with psycopg.connect(BASE, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


if __name__ == "__main__":
    main()
