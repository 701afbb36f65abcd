"""A held-out benchmark set for the optimizer: realistic agent and chat requests, each with the user's question and
the verbatim facts that answer it, written without reading the optimizer and before any tuning (see README.md).

Same interface as benchmarks.workloads: `load_all(groups=None)` returns `Workload` objects with `.group` set and
`.check()` passed. Each workload's `extra` says where the bulk of the request is (`bulk`: tool_result, user, system,
assistant, document, history) and its dialect (`shape`: anthropic, openai).
"""

from __future__ import annotations

import importlib

from benchmarks.workloads._build import Workload

GROUPS = {"logs": "logs_data", "code": "code_context", "retrieval": "retrieval_docs", "ops": "ops_agent",
          "recall": "recall_memory"}


def load_all(groups: list[str] | None = None) -> list[Workload]:
    out: list[Workload] = []
    for group, module in GROUPS.items():
        if groups and group not in groups:
            continue
        for build in importlib.import_module(f"benchmarks.heldout.{module}").WORKLOADS:
            workload = build()
            workload.group = group
            workload.check()
            out.append(workload)
    return out
