"""The spend store's schema, as numbered migrations applied once each at start.

A migration is SQL with three dialect tokens ({id}, {bool}, {float}) filled in per database, so
SQLite and PostgreSQL share one history. Applied versions are kept in `anyray_migrations`; adding a
column is appending a migration, never editing an old one. A step may also be a function of (store,
cursor), for data SQL alone cannot compute (the roll-ups' policy split).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anyray.store import drill, people, rollup

MIGRATIONS: list[tuple[int, str, list[str | Callable[[Any, Any], None]]]] = [
    (
        1,
        "spend_records",
        [
            """
            CREATE TABLE spend_records (
                id {id},
                ts_ms BIGINT NOT NULL,
                request_id TEXT NOT NULL,
                team TEXT,
                app TEXT,
                user_name TEXT,
                tags TEXT NOT NULL DEFAULT '{{}}',
                dialect TEXT NOT NULL,
                endpoint TEXT NOT NULL,
                provider TEXT,
                model_asked TEXT NOT NULL,
                model_used TEXT,
                input_tokens BIGINT NOT NULL DEFAULT 0,
                output_tokens BIGINT NOT NULL DEFAULT 0,
                cache_write_tokens BIGINT NOT NULL DEFAULT 0,
                cache_write_1h_tokens BIGINT NOT NULL DEFAULT 0,
                cache_read_tokens BIGINT NOT NULL DEFAULT 0,
                cost_micros BIGINT,
                savings_micros BIGINT NOT NULL DEFAULT 0,
                decisions TEXT NOT NULL DEFAULT '[]',
                latency_ms {float},
                ttfb_ms {float},
                status INTEGER NOT NULL,
                streamed {bool} NOT NULL DEFAULT 0,
                cache_hit {bool} NOT NULL DEFAULT 0,
                fail_open {bool} NOT NULL DEFAULT 0,
                partial {bool} NOT NULL DEFAULT 0
            )
            """,
            "CREATE INDEX spend_records_ts ON spend_records (ts_ms)",
            "CREATE INDEX spend_records_team_ts ON spend_records (team, ts_ms)",
        ],
    ),
    (
        2,
        "gateway_keys",
        [
            # only a SHA-256 of each secret is kept; the secret itself is printed once, at creation
            """
            CREATE TABLE gateway_keys (
                id TEXT PRIMARY KEY,
                secret_sha256 TEXT NOT NULL UNIQUE,
                team TEXT NOT NULL,
                name TEXT,
                admin {bool} NOT NULL DEFAULT 0,
                last4 TEXT NOT NULL,
                created_ms BIGINT NOT NULL,
                revoked_ms BIGINT
            )
            """,
        ],
    ),
    (
        3,
        "spend_records_request_id_unique",
        [
            # replays after a store outage (the spill file, a batch whose commit was not acknowledged) may
            # send a record twice; one row per request id makes that harmless (INSERT ... ON CONFLICT)
            "DELETE FROM spend_records WHERE id NOT IN (SELECT MIN(id) FROM spend_records GROUP BY request_id)",
            "CREATE UNIQUE INDEX spend_records_request_id ON spend_records (request_id)",
        ],
    ),
    (
        4,
        "spend_records_priced_as",
        [
            # an estimate's source: a model with no price of its own priced as its family's nearest version
            "ALTER TABLE spend_records ADD COLUMN priced_as TEXT",
        ],
    ),
    (
        5,
        "spend_records_key_id",
        [
            # which gateway key made the call (its id, never its secret): per-key budgets sum over it
            "ALTER TABLE spend_records ADD COLUMN key_id TEXT",
            "CREATE INDEX spend_records_key_ts ON spend_records (key_id, ts_ms)",
        ],
    ),
    (
        6,
        "gateway_keys_controls",
        [
            # expiry, a model allow-list (JSON list of globs; NULL: any model), and rotation: the secret a
            # rotation replaced keeps working until previous_until_ms, so workloads move over without downtime
            "ALTER TABLE gateway_keys ADD COLUMN expires_ms BIGINT",
            "ALTER TABLE gateway_keys ADD COLUMN models TEXT",
            "ALTER TABLE gateway_keys ADD COLUMN previous_sha256 TEXT",
            "ALTER TABLE gateway_keys ADD COLUMN previous_until_ms BIGINT",
        ],
    ),
    (
        7,
        "spend_hourly_rollups",
        # the console's month in thousands of rows (store/rollup.py), filled from the records already stored
        [*rollup.SCHEMA, rollup.rebuild],
    ),
    (
        8,
        "spend_people",
        # the console's user and session tables: a month per user or session in weeks' and days' rows (store/people.py)
        [*people.SCHEMA, people.rebuild],
    ),
    (
        9,
        "spend_people_drill",
        # the user and session tables under a drill-down filter: a week per person, team, app and model (store/drill.py)
        [*drill.SCHEMA, drill.rebuild],
    ),
]

MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS anyray_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_ms BIGINT NOT NULL
)
"""

LATEST = MIGRATIONS[-1][0]
