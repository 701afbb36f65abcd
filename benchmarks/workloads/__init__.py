"""Synthetic agent workloads for the savings benchmark: complete requests, a question, the facts that answer it.

Each workload is a request an agent would send (Anthropic Messages or OpenAI Chat Completions shape) at the
moment it is about to answer: the user's question, the tool calls it made, what they returned. `facts` are
verbatim substrings of the request that carry the answer; a content strategy that loses one is wrong, however
much it saves. Everything is generated from fixed seeds: the same workload is the same bytes on every run.

Five groups: logs and structured data (`logs`), code context (`code`), tools and retrieval (`retrieval`),
agent operations (`ops`), cross-session recall (`recall`).
"""

from __future__ import annotations

import importlib

from benchmarks.workloads._build import Workload

GROUPS = {"logs": "logs", "code": "code", "retrieval": "retrieval", "ops": "agent_ops", "recall": "recall"}


def load_all(groups: list[str] | None = None) -> list[Workload]:
    out: list[Workload] = []
    for group, module in GROUPS.items():
        if groups and group not in groups:
            continue
        for build in importlib.import_module(f"benchmarks.workloads.{module}").WORKLOADS:
            workload = build()
            workload.group = group
            workload.check()
            out.append(workload)
    return out
