"""A fresh, held-out workload set, written without reading the optimizer or the other workload sets.

Each workload is one complete request (Anthropic Messages or OpenAI Chat Completions) with the user's question
in it and the verbatim facts that answer it. See README.md in this directory. Do not edit this set to suit the
optimizer: it exists to measure it.
"""

from __future__ import annotations

import importlib

from benchmarks.workloads._build import Workload

GROUPS = {
    "logs": "logs_data",
    "code": "code_context",
    "retrieval": "docs_retrieval",
    "ops": "operations",
    "recall": "session_recall",
}


def load_all(groups: list[str] | None = None) -> list[Workload]:
    out: list[Workload] = []
    for group, module in GROUPS.items():
        if groups and group not in groups:
            continue
        for build in importlib.import_module(f"benchmarks.fresh.{module}").WORKLOADS:
            workload = build()
            workload.group = group
            workload.check()
            out.append(workload)
    return out
