"""PostgreSQL plans each console query for its own range and filter, however often it runs.

psycopg prepares a statement the fifth time it runs on a connection; PostgreSQL then plans it for its
parameters five times and may switch to a generic plan that knows neither. On a 1M-record store the
console's 30-day session table went from ~200 ms to ~660 ms from its eleventh load on, for good
(docs/console.md). The store's connections plan every execution for its parameters.
"""

from __future__ import annotations

from anyray.store.postgres import PostgresStore
from anyray.store.records import SpendRecord


def test_a_query_run_many_times_is_planned_for_its_parameters_every_time(pg_url):
    store = PostgresStore(pg_url, min_size=1, max_size=1)  # one connection: the statements below share it
    try:
        store.migrate()
        store.insert([SpendRecord(ts_ms=1_000 * i, request_id=f"r{i}", dialect="anthropic", endpoint="/v1/messages",
                                  model_asked="m", status=200, team="search") for i in range(50)])
        sql = "SELECT team, COUNT(*) FROM spend_records WHERE ts_ms >= %s AND ts_ms < %s GROUP BY team"
        for i in range(12):  # prepared from the 5th run; a generic plan was chosen from the 11th
            with store._transaction() as cur:
                cur.execute(sql, (0, 1_000 * (i + 10)))
                assert cur.fetchall() == [("search", i + 10)]
        with store._transaction() as cur:
            cur.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                        "WHERE statement LIKE 'SELECT team, COUNT(*) FROM spend_records%%'")
            (generic, custom), = cur.fetchall()
        assert generic == 0 and custom >= 7
    finally:
        store.close()


def test_a_batch_of_records_keeps_postgresql_s_own_choice(pg_url):
    """The writer's statements are the same few shapes run all day: planning the roll-up upserts afresh
    cost 40 us a record (77 -> 116 in batches of 100), so a batch's transaction leaves the choice to
    PostgreSQL, and the next read on the same connection is planned for its parameters again."""
    store = PostgresStore(pg_url, min_size=1, max_size=1)
    try:
        with store._writing() as cur:
            cur.execute("SHOW plan_cache_mode")
            assert cur.fetchone() == ("auto",)
        with store._transaction() as cur:
            cur.execute("SHOW plan_cache_mode")
            assert cur.fetchone() == ("force_custom_plan",)
    finally:
        store.close()
