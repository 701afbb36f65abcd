"""A document of sections (a runbook, a wiki export): the sections the question points at stay, the others
go as one marker naming them. An identifier of the question keeps every section that holds it when few do;
one that most sections hold (the system every runbook entry is about) does not tell them apart, and the
question's other words decide."""

from __future__ import annotations

from tests.content.conftest import HANDLE, optimize, results, retrieve, session

ALERTS = ["ConnectionsSaturated", "DiskUsageHigh", "ReplicationDelayHigh", "LongRunningTransaction", "VacuumStalled",
          "CheckpointSlow", "DeadlocksRising", "BackupFailed"]
STEPS = {"ReplicationDelayHigh": "1. On orders-db-replica-1 run `SELECT now() - pg_last_xact_replay_timestamp();`\n"
                                 "2. Take the lagging replica out of the read pool: `pgbouncer-ctl disable orders-ro`"}


def runbook(system: str = "orders-db") -> str:
    parts = ["# Database on-call runbook\n"]
    for alert in ALERTS:
        steps = STEPS.get(alert, "1. Check the dashboard of the service and page the owner if it keeps firing.\n"
                                 "2. Note what you saw in the incident channel before you change anything.")
        parts.append(f"## {alert}\n\n**System:** {system}\n**Severity:** P2\n\n"
                     f"When {alert} fires, the pager rotation owns it until it clears for fifteen minutes.\n\n"
                     f"### Steps\n\n{steps}\n")
    return "\n".join(parts)


def test_an_identifier_every_section_holds_does_not_keep_them_all(optimizer):
    text = runbook()
    request = session("The replication delay alert fired for orders-db. What do I do first?",
                      [("Read", {"file_path": "/runbooks/db.md"}, text)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    assert "## ReplicationDelayHigh" in out and "pg_last_xact_replay_timestamp" in out
    assert "## DeadlocksRising\n" not in out and "DeadlocksRising" in out  # elided, and named in a marker
    assert len(out) < len(text) * 0.5
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == text


def test_an_identifier_few_sections_hold_keeps_each_of_them(optimizer):
    text = runbook().replace("## BackupFailed\n\n**System:** orders-db", "## BackupFailed\n\n**System:** billing-db")
    text = text.replace("## VacuumStalled\n\n**System:** orders-db", "## VacuumStalled\n\n**System:** billing-db")
    request = session("What should I check on billing-db?", [("Read", {"file_path": "/runbooks/db.md"}, text)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    assert "## BackupFailed\n" in out and "## VacuumStalled\n" in out
    assert "## DeadlocksRising\n" not in out
