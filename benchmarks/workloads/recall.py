"""Cross-session recall: transcripts, memory stores, changelogs and postmortems an agent reads back."""

from __future__ import annotations

import json

from benchmarks.workloads._build import Workload, anthropic, hexid, openai, rng, sentence


def _transcript(r, session: str, turns: int) -> list[str]:
    out = [f"## Session {session} ({r.choice(['mon', 'tue', 'wed', 'thu', 'fri'])})"]
    for _ in range(turns):
        out.append(f"user: {sentence(r, 10)}")
        out.append(f"assistant: {sentence(r, 16)}")
    return out


def session_decision() -> Workload:
    r = rng("session_decision")
    lines: list[str] = []
    for _s in range(12):
        lines += _transcript(r, hexid(r, 6), 60)
    lines[903:903] = [
        "user: so what do we set the postgres pool to?",
        "assistant: Decision: we agreed to set pool_size=40 and max_overflow=10 for the orders "
        "service, revisit after Black Friday.",
    ]
    return anthropic(
        "session_decision",
        "What did we decide about the postgres pool size for the orders service last week?",
        ["pool_size=40 and max_overflow=10"],
        [[("recall", {"query": "postgres pool size orders"}, "\n".join(lines))]],
    )


def memory_store() -> Workload:
    r = rng("memory_store")
    memories = [
        {
            "id": f"mem_{hexid(r, 8)}",
            "created": f"2026-{r.randint(1, 11):02d}-{r.randint(1, 28):02d}",
            "kind": r.choice(["fact", "preference", "todo"]),
            "text": sentence(r, 12),
        }
        for _ in range(350)
    ]
    memories[201] = {
        "id": "mem_7d1e0c2a",
        "created": "2026-10-02",
        "kind": "preference",
        "text": "User prefers deploys on Tuesdays between 10:00 and 12:00 CET, never on Fridays.",
    }
    return anthropic(
        "memory_store",
        "When does the user like deploys to happen?",
        ["prefers deploys on Tuesdays between 10:00 and 12:00 CET"],
        [[("recall", {"query": "deploy preference"}, json.dumps({"memories": memories}, indent=1))]],
    )


def changelog() -> Workload:
    r = rng("changelog")
    lines = ["# Changelog", ""]
    for v in range(120, 0, -1):
        lines += [f"## 4.{v // 10}.{v % 10} ({2026 - v // 40}-{v % 12 + 1:02d}-14)", ""]
        lines += [
            f"- {r.choice(['Fixed', 'Added', 'Changed', 'Improved'])} {sentence(r, 8)}" for _ in range(r.randint(3, 9))
        ]
        lines.append("")
    lines[1200:1200] = ["- Dropped support for Python 3.8; the minimum is now Python 3.9."]
    return anthropic(
        "changelog",
        "In which version did we drop Python 3.8?",
        ["Dropped support for Python 3.8; the minimum is now Python 3.9."],
        [[("Read", {"file_path": "/repo/CHANGELOG.md"}, "\n".join(lines))]],
    )


def postmortems() -> Workload:
    r = rng("postmortems")
    docs = []
    for i in range(14):
        key = f"INC-{2280 + i}"
        body = [f"# {key}: {sentence(r, 4)}", "", "## Timeline"] + [
            f"- {10 + j}:0{j % 6} {sentence(r, 7)}" for j in range(25)
        ]
        body += ["", "## Root cause", sentence(r, 14), "", "## Actions"] + [f"- {sentence(r, 6)}" for _ in range(8)]
        if key == "INC-2291":
            body[body.index("## Root cause") + 1] = (
                "Root cause: the certificate rotation job renewed the "
                "intermediate CA but the sidecars cached the old bundle for 24h."
            )
        docs.append("\n".join(body))
    return anthropic(
        "postmortems",
        "What was the root cause of INC-2291?",
        ["the certificate rotation job renewed the intermediate CA but the sidecars cached the old bundle"],
        [[("recall", {"query": "INC-2291 postmortem"}, "\n\n".join(docs))]],
    )


def recall_twice() -> Workload:
    r = rng("recall_twice")
    lines: list[str] = []
    for _ in range(8):
        lines += _transcript(r, hexid(r, 6), 50)
    lines[444:444] = ["assistant: Noted: the staging database is pg-staging-2.internal, port 6432 via pgbouncer."]
    dump = "\n".join(lines)
    return anthropic(
        "recall_twice",
        "Which host and port is the staging database on?",
        ["pg-staging-2.internal, port 6432"],
        [
            [("recall", {"query": "staging database host"}, dump)],
            [("recall", {"query": "staging database host"}, dump)],
        ],
    )


def handoff_notes() -> Workload:
    r = rng("handoff_notes")
    lines = []
    for d in range(30):
        lines += [f"### Handoff 2026-11-{d % 28 + 1:02d} ({r.choice(['ana', 'ben', 'chen'])})"]
        lines += [f"- {sentence(r, 10)}" for _ in range(25)]
    lines[522:522] = [
        "- The Kafka consumer group billing-v2 is paused on purpose until the schema migration "
        "SCHEMA-88 lands; do not resume it."
    ]
    return openai(
        "handoff_notes",
        "Is it safe to resume the billing-v2 Kafka consumer group?",
        ["paused on purpose until the schema migration SCHEMA-88 lands; do not resume it"],
        [[("recall", {"query": "billing-v2 consumer group"}, "\n".join(lines))]],
    )


WORKLOADS = [session_decision, memory_store, changelog, postmortems, recall_twice, handoff_notes]
