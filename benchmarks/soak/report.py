"""What a soak run found, from the clients' outcomes, the samples and the spend store."""

from __future__ import annotations

import collections
import math
from typing import Any

import orjson

from benchmarks.soak.clients import Outcome


def pct(values: list[float], q: float) -> float | None:
    """The q-th percentile (nearest rank) in ms, of values in seconds."""
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1)] * 1000, 1)


def traffic(outcomes: list[Outcome], applied: dict[str, str]) -> dict[str, Any]:
    """Errors split into what an injected fault explains (a stream cut: bytes already relayed) and the rest."""
    errors = collections.Counter(o.result for o in outcomes if o.result != "ok")
    expected = [o for o in outcomes if o.fault == "cut-stream" and o.result != "ok"]
    beyond = [o for o in outcomes if o.result != "ok" and o.fault != "cut-stream"]
    cut_but_fine = [o.n for o in outcomes if o.fault == "cut-stream" and o.result == "ok"]
    planned = collections.Counter(o.fault for o in outcomes if o.fault)
    ok = [o.latency for o in outcomes if o.result == "ok" and not o.fault]
    return {
        "sent": len(outcomes),
        "answered": sum(o.answered for o in outcomes),
        "ok": sum(o.result == "ok" for o in outcomes),
        "streamed": sum(o.stream for o in outcomes),
        "faults_planned": dict(planned),
        "faults_applied_by_upstream": dict(collections.Counter(applied.values())),
        "errors_reaching_clients": dict(errors),
        "errors_explained_by_stream_cuts": len(expected),
        "errors_beyond_injected": len(beyond),
        "errors_beyond_injected_first": [(o.n, round(o.at, 1), o.result) for o in beyond[:20]],
        "stream_cuts_that_still_completed": cut_but_fine[:20],
        "latency_ms_unfaulted_ok": {"p50": pct(ok, 50), "p99": pct(ok, 99), "p99.9": pct(ok, 99.9),
                                    "max": pct(ok, 100)},
        "slowest_unfaulted_ok": [(round(o.at, 1), round(o.latency * 1000), o.model, o.stream) for o in
                                 sorted((o for o in outcomes if o.result == "ok" and not o.fault),
                                        key=lambda o: -o.latency)[:10]],
        "latency_ms_faulted_ok_p50": pct([o.latency for o in outcomes if o.result == "ok" and o.fault], 50),
    }


def per_minute(outcomes: list[Outcome], samples: list[dict[str, Any]], minutes: int) -> list[dict[str, Any]]:
    rows = []
    for m in range(minutes):
        these = [o for o in outcomes if m * 60 <= o.at < (m + 1) * 60]
        ok = [o.latency for o in these if o.result == "ok" and not o.fault]
        at_end = [s for s in samples if s["t"] <= (m + 1) * 60 + 1]
        last = at_end[-1] if at_end else {}
        inside = [s for s in samples if m * 60 < s["t"] <= (m + 1) * 60 + 1 and "machine_busy_pct" in s]
        rows.append({
            "minute": m + 1,
            "sent": len(these),
            "errors": sum(o.result != "ok" for o in these),
            "p50_ms": pct(ok, 50),
            "p99_ms": pct(ok, 99),
            "gw_rss_mb": last.get("rss_mb"),
            "gw_fds": last.get("fds"),
            "backlog": last.get("backlog"),
            "fail_open_total": last.get("fail_open"),
            # of both cores: everything, and the soak's own processes (the rest is other people's work)
            "machine_busy_pct": round(sum(s["machine_busy_pct"] for s in inside) / len(inside)) if inside else None,
            "soak_procs_pct": round(sum(s["soak_procs_pct"] for s in inside) / len(inside)) if inside else None,
        })
    return rows


def records(
    rows: list[tuple[Any, ...]], answered: dict[str, str], wall0_ms: int, events: list[dict[str, Any]],
    refused: int | None,
) -> dict[str, Any]:
    """Match the store against the calls clients saw answered (n -> the client's result), by the `n` tag
    each request carried. A request the gateway itself refused (a limit, the key check) is answered but is
    no call and has no record: missing records are split by what the client got, and the gateway's own
    count of refusals is given beside them."""
    starts = sorted(e["t"] for e in events if e["what"] == "optimizer restart")
    # a restart's fail-opens: while it is away, then the breaker's wait (10 s) and a probe; at most until the next
    restarts = [(t, min([t + 40, *starts[i + 1:i + 2]])) for i, t in enumerate(starts)]
    fail_open_by_restart = [0] * len(restarts)
    stalls = []
    by_n: collections.Counter[str] = collections.Counter()
    ids: set[str] = set()
    statuses: collections.Counter[int] = collections.Counter()
    fail_open_by_minute: collections.Counter[int] = collections.Counter()
    untagged = 0
    for request_id, app, tags, status, fail_open, partial, ts_ms, latency in rows:
        ids.add(request_id)
        statuses[int(status)] += 1
        n = (orjson.loads(tags) if isinstance(tags, str | bytes) else tags or {}).get("n")
        if n is None:
            untagged += 1
        else:
            by_n[str(n)] += 1
        if app == "soak-stall":
            stalls.append({"status": status, "partial": bool(partial), "latency_s": round(latency / 1000, 1)})
        if fail_open:
            t = (ts_ms - wall0_ms) / 1000
            fail_open_by_minute[int(t // 60) + 1] += 1
            for i, (start, end) in enumerate(restarts):
                if start <= t < end:
                    fail_open_by_restart[i] += 1
    lost = sorted(set(answered) - set(by_n))
    lost_after_error = [n for n in lost if answered[n].startswith("http_")]
    lost = [n for n in lost if not answered[n].startswith("http_")]
    extra = sorted(set(by_n) - set(answered))
    return {
        "in_store": len(rows),
        "expected_answered_calls": len(answered),
        "lost": len(lost),  # answered 200 (or cut mid-stream), no record: the target is 0
        "lost_first": lost[:20],
        "missing_for_error_answers": len(lost_after_error),
        "missing_for_error_answers_first": [(n, answered[n]) for n in lost_after_error[:20]],
        "gateway_refusals_counted": refused,
        "records_for_unanswered_requests": len(extra),
        "records_for_unanswered_first": extra[:20],
        "duplicate_request_ids": len(rows) - len(ids),
        "duplicate_calls": sum(c - 1 for c in by_n.values() if c > 1),
        "untagged": untagged,
        "by_status": dict(sorted(statuses.items())),
        "fail_open": sum(fail_open_by_minute.values()),
        "fail_open_by_minute": dict(sorted(fail_open_by_minute.items())),
        "fail_open_within_40_s_of_each_optimizer_restart": fail_open_by_restart,
        "stalled_reader_records": stalls,
    }


def resources(samples: list[dict[str, Any]], minutes: int) -> dict[str, Any]:
    """Gateway RSS and descriptors at the start, at each minute mark, and at the end."""
    def at(t: float) -> dict[str, Any]:
        return min(samples, key=lambda s: abs(s["t"] - t))

    marks = [at(m * 60) for m in range(1, minutes + 1)]
    return {
        "gw_rss_mb": {"start": samples[0]["rss_mb"], "per_minute": [s["rss_mb"] for s in marks],
                      "end": samples[-1]["rss_mb"], "max": max(s["rss_mb"] for s in samples)},
        "gw_fds": {"start": samples[0]["fds"], "per_minute": [s["fds"] for s in marks],
                   "end": samples[-1]["fds"], "max": max(s["fds"] for s in samples)},
        "backlog_max": max((s.get("backlog") or 0) for s in samples),
        "optimizer_rss_mb_per_minute": [s.get("opt_rss_mb") for s in marks],
    }
