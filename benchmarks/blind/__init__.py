"""The blind set: held-out requests written without reading the optimizer, to be measured once.

See README.md for provenance. Never edit these workloads to fit the optimizer.
"""

from __future__ import annotations

from collections.abc import Iterable

from benchmarks.workloads._build import Workload

GROUPS = ("logs", "code", "retrieval", "ops", "recall")


def _builders(group: str) -> list:
    from benchmarks.blind import code, logs, ops, recall, retrieval

    return {"logs": logs.ALL, "code": code.ALL, "retrieval": retrieval.ALL, "ops": ops.ALL, "recall": recall.ALL}[group]


def load_all(groups: Iterable[str] | None = None) -> list[Workload]:
    """Build every workload of the given groups (all by default), tag its group and check its facts."""
    out = []
    for group in groups or GROUPS:
        if group not in GROUPS:
            raise ValueError(f"unknown group {group!r}; expected one of {GROUPS}")
        for build in _builders(group):
            w = build()
            w.group = group
            w.check()
            out.append(w)
    return out
