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


MODULES = ["invoices", "refunds", "payouts", "ledger", "customers", "coupons", "webhooks", "exports", "taxes",
           "reports", "alerts", "sessions"]


def module(name: str) -> str:
    return "\n".join([f'"""The {name} service."""', "", "from app.db import session", "", "",
                      f"def list_{name}(account_id: str, limit: int = 50) -> list[dict]:",
                      f"    rows = session.query('{name}').filter(account=account_id).limit(limit)",
                      "    return [row.as_dict() for row in rows]", "", "",
                      f"def close_{name}(item_id: str) -> None:",
                      f"    item = session.get('{name}', item_id)",
                      "    item.closed = True",
                      "    session.commit()", ""])


# one banner per file, as gitingest, repomix (plain and markdown), files-to-prompt, code2prompt and a hand-made
# comment rule write them
DUMPS = {
    "gitingest": lambda path, body: f"{'=' * 48}\nFILE: {path}\n{'=' * 48}\n{body}\n",
    "repomix": lambda path, body: f"{'=' * 16}\nFile: {path}\n{'=' * 16}\n{body}\n",
    "repomix-markdown": lambda path, body: f"## File: {path}\n```python\n{body}\n```\n",
    "files-to-prompt": lambda path, body: f"{path}\n---\n{body}\n\n---",
    "code2prompt": lambda path, body: f"`{path}`:\n\n```python\n{body}\n```\n",
    "comment-rule": lambda path, body: f"# ---- {path}\n{body}\n",
}


def test_a_dump_of_many_files_keeps_the_file_the_question_names_in_every_usual_dump_format(optimizer):
    for tool, banner in DUMPS.items():
        text = "\n".join(banner(f"app/services/{name}.py", module(name)) for name in MODULES)
        request = session("Why does close_refunds not write an audit row?",
                          [("Bash", {"command": f"{tool} ."}, text)])
        (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
        assert module("refunds") in out, tool  # the file asked about, whole
        assert "def list_ledger(" not in out and "app/services/ledger.py" in out, tool  # gone, and named
        assert "def list_invoices(" not in out, tool  # the first file is a file like the others, not a preamble
        assert "(=====" not in out and "(---" not in out, tool  # the markers name files, not the rules around them
        assert len(out) < len(text) * 0.35, tool
        assert retrieve(optimizer, HANDLE.findall(out)[0]) == text, tool


COUNTRIES = ["Poland", "Sweden", "Netherlands", "Austria", "France", "Italy", "Portugal", "Germany", "Czechia",
             "Ireland", "Spain", "Denmark", "Belgium", "Finland"]


def policies() -> str:
    """Returns policies per country, alike but for their numbers and a sentence or two of other notes (so they
    score near each other but not alike), among help-centre chunks about other things."""
    parts = []
    for i, country in enumerate(COUNTRIES):
        notes = " ".join(["The warehouse in Poznan ships replacements within two working days."] * (i % 5))
        parts.append(f"[doc {2 * i + 1}] source=returns-policy-eu.md#{country[:2].lower()}\n{country}. Unopened "
                     f"items can be returned within 60 days of delivery. Opened items may be returned within "
                     f"{14 + i} days; a restocking fee of {5 + i % 3 * 5}% applies to opened items. {notes}")
        parts.append(f"[doc {2 * i + 2}] source=help-center/gift-cards.md#{i}\nGift cards never expire and "
                     f"cannot be exchanged for cash; a lost card number {1000 + i} can be blocked in the app.")
    return "\n\n".join(parts)


def test_a_name_no_section_holds_keeps_every_section_that_matches_well(optimizer):
    """`Munich` is in no section (they name countries): the ranking cannot single out Germany's, so every
    policy that matches the question's other words stays, not only the best four."""
    text = policies()
    asked = "She's in Munich and opened the box. How long does she have to send it back, and is there a fee?"
    (out,) = results(optimize(optimizer, session(asked, [("Read", {"file_path": "/kb/help-centre.md"}, text)]),
                              ["context_compression"])["request"])
    assert all(f"\n{c}. Unopened" in out for c in COUNTRIES)
    assert "Gift cards never expire" not in out
    # without a name the question cannot place, the best few policies are enough
    plain = asked.replace("She's in Munich and opened", "She opened")
    (fewer,) = results(optimize(optimizer, session(plain, [("Read", {"file_path": "/kb/help-centre.md"}, text)]),
                                ["context_compression"])["request"])
    assert sum(f"\n{c}. Unopened" in fewer for c in COUNTRIES) < len(COUNTRIES)
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == text
