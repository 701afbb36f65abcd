"""A diff of many files: the hunks the question points into stay whole with their file's headers; of a file
none of whose hunks stay only its `diff --git` line (its name) and mode lines stay, and its index, ---,
+++ lines and hunks go behind one marker. Everything comes back byte for byte."""

from __future__ import annotations

from tests.content.conftest import HANDLE, optimize, results, retrieve, session


def file_diff(path: str, hunks: list[list[str]], new: bool = False) -> list[str]:
    out = [f"diff --git a/{path} b/{path}"]
    out += ["new file mode 100644", "index 0000000..1d1d433", "--- /dev/null"] if new else \
        [f"index {len(path):07x}..{len(path) * 7:07x} 100644", f"--- a/{path}"]
    out.append(f"+++ b/{path}")
    for n, body in enumerate(hunks):
        out.append(f"@@ -{10 + n * 30},6 +{10 + n * 30},7 @@")
        out += body
    return out


def branch_diff() -> str:
    lines = ["$ git diff main...feature/ledger-v2"]
    for i in range(12):
        lines += file_diff(f"app/services/service_{i}.py", [[
            f"     row = (await db.execute(stmt_{i}_{n})).scalar_one()",
            f"-    await publish('service_{i}.updated', {{'id': str(row.id)}})",
            f"+    await publish('service_{i}.updated', {{'id': str(row.id), 'by': principal.user_id}})",
            "     return row", "", f"     async def soft_delete_{i}_{n}(db, principal, item_id):"] for n in range(3)])
        if i == 7:
            lines += file_diff("db/migrations/20250304_1130_ledger_amount_precision.sql", [[
                "+BEGIN;", "+ALTER TABLE ledger_entries", "+    ALTER COLUMN amount TYPE numeric(20,6);", "+COMMIT;"]],
                new=True)
    return "\n".join(lines) + "\n"


def test_files_the_question_does_not_point_into_keep_only_their_names(optimizer):
    text = branch_diff()
    request = session("Does this branch change the column type of ledger_entries.amount? In which migration?",
                      [("Bash", {"command": "git diff main...feature/ledger-v2"}, text)])
    (out,) = results(optimize(optimizer, request, ["context_compression"])["request"])
    kept = out.split("\n")
    assert "+    ALTER COLUMN amount TYPE numeric(20,6);" in kept
    assert "+++ b/db/migrations/20250304_1130_ledger_amount_precision.sql" in kept  # its headers stay
    for i in range(12):  # every file is still named, none of the others' headers or hunks stay
        assert f"diff --git a/app/services/service_{i}.py b/app/services/service_{i}.py" in kept
        assert f"--- a/app/services/service_{i}.py" not in kept
    markers = [x for x in kept if x.startswith("[anyray: ")]
    assert len(markers) == 12 and all(" 3 hunks (lines " in m for m in markers)
    assert retrieve(optimizer, HANDLE.findall(out)[0]) == text
