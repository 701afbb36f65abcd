"""The expected numbers, computed in the test from the store's raw records (not from the console's queries)."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from typing import Any

from anyray.store import open_store


def records(url: str) -> list[dict[str, Any]]:
    store = open_store(url)
    try:
        return store.fetch(limit=100_000)
    finally:
        store.close()


def nearest_rank(values: list[float], q: float) -> float | None:
    values = sorted(values)
    return values[max(1, math.ceil(q / 100 * len(values))) - 1] if values else None


_DATED = re.compile(r"(@\d{8}|-\d{8}|-\d{4}-\d{2}-\d{2})$")


def model_of(r: dict[str, Any]) -> str:
    """The model as the console shows it: a dated id (`-20251001`, Vertex's `@20250929`, OpenAI's
    `-2024-08-06`) folded into its undated family."""
    return _DATED.sub("", r["model_used"] or r["model_asked"])


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    lat = [r["latency_ms"] for r in rows if r["latency_ms"] is not None]
    return {
        "requests": len(rows),
        "cost_micros": sum(r["cost_micros"] or 0 for r in rows),
        "savings_micros": sum(r["savings_micros"] for r in rows),
        "tokens": sum(r["input_tokens"] + r["output_tokens"] + r["cache_read_tokens"] + r["cache_write_tokens"]
                      for r in rows),
        "cache_hits": sum(r["cache_hit"] for r in rows),
        "fail_open": sum(r["fail_open"] for r in rows),
        "p50_ms": nearest_rank(lat, 50),
        "p95_ms": nearest_rank(lat, 95),
    }


def by(rows: list[dict[str, Any]], key: str) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[model_of(r) if key == "model" else (r[key] or "")].append(r)
    return {g: totals(rs) for g, rs in groups.items()}
