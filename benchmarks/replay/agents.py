"""The model's side of a recorded session: a fixed plan of tool calls, played by the fake upstream.

The step is the number of assistant messages in the request, so side requests (a client's title or
topic calls, which carry no tools) never advance the plan, and the same history always gets the same
next step. Tool calls are real: the client (the SDK loop here, or Claude Code itself) runs them in the
scratch project and sends back what they printed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anyray.testing.reply import short_id

# ("bash", cmd) | ("read", path) | ("write", path, text) | ("edit", path, old, new) | ("grep", pattern)
Step = tuple[str, ...]

PY = "python3"
ROWS = "csv.DictReader(open('orders.csv'))"
COUNT = f"import csv,collections;c=collections.Counter(r['region'] for r in {ROWS});"
SUM = f"import csv,collections;c=collections.Counter();[c.update({{r['region']:int(r['amount'])}}) for r in {ROWS}];"
REPORT = ("import csv,collections;n=collections.Counter();t=collections.Counter()\n"
          f"for r in {ROWS}:\n  n[r['region']]+=1;t[r['region']]+=int(r['amount'])\n"
          "open('report.txt','a').write(''.join(f'{k},{n[k]},{t[k]}\\\\n' for k in sorted(n)))")
TASKS: dict[str, tuple[str, list[Step]]] = {
    "log_triage": ("The nightly export failed. Find out why from nightly.log and fix the configuration.", [
        ("bash", "ls -la"), ("read", "nightly.log"), ("grep", "ERROR"), ("bash", "grep -c WARN nightly.log"),
        ("bash", "sed -n 1200,1215p nightly.log"), ("read", "config.json"), ("read", "app.py"),
        ("bash", "grep -n bucket -r . --include=*.py --include=*.json"), ("bash", "tail -n 20 nightly.log"),
        ("bash", "sed -n 2455,2465p nightly.log"), ("edit", "config.json", "exports-eu", "exports-eu-prod"),
        ("read", "config.json"), ("bash", f"{PY} -c \"import json;print(json.load(open('config.json')))\""),
        ("bash", "grep -c INFO nightly.log"), ("bash", "awk '{print $2}' nightly.log | sort | uniq -c"),
        ("read", "README.md"), ("bash", "wc -l nightly.log orders.csv"),
        ("bash", "grep -n 'retrying chunk 3' nightly.log | head"),
        ("bash", "date -u +%Y"), ("bash", "cat config.json"), ("bash", "ls"),
        ("text", "The upload failed with AccessDenied on bucket exports-eu (lines 1208 and 2462); the config now "
                 "points at exports-eu-prod."),
    ]),
    "fix_tests": ("The tests fail. Fix the bug in app.py without changing the tests.", [
        ("bash", f"{PY} -m pytest -q test_app.py"), ("read", "test_app.py"), ("read", "app.py"),
        ("grep", "def discount"), ("bash", f"{PY} -c \"from app import discount; print(discount(200, 10))\""),
        ("edit", "app.py", "amount * rate / 10  # BUG: should divide by 100", "amount * rate / 100"),
        ("bash", f"{PY} -m pytest -q test_app.py"), ("read", "app.py"), ("read", "util.py"),
        ("bash", f"{PY} -c \"import app; print(sorted(app.totals(app.read_orders('orders.csv')).items()))\""),
        ("bash", f"{PY} -c \"import app; print(app.report('orders.csv'))\""), ("bash", "head -n 30 orders.csv"),
        ("bash", f"{PY} -m pytest -q test_app.py"), ("grep", "import"), ("read", "config.json"),
        ("write", "NOTES.md", "discount() divided by 10 instead of 100; fixed.\n"), ("read", "NOTES.md"),
        ("bash", f"{PY} -m pytest -q test_app.py"), ("bash", "ls -la"), ("bash", "wc -l app.py util.py test_app.py"),
        ("bash", f"{PY} -m pytest -q test_app.py"),
        ("text", "discount() divided the rate by 10 instead of 100; fixed, and all three tests pass."),
    ]),
    "data_report": ("Write report.txt with the order count and total amount per region from orders.csv.", [
        ("bash", "ls"), ("read", "orders.csv"), ("bash", "head -n 5 orders.csv"), ("bash", "wc -l orders.csv"),
        ("bash", "cut -d, -f2 orders.csv | sort | uniq -c"),
        ("bash", f"{PY} -c \"{COUNT}print(c)\""),
        ("bash", f"{PY} -c \"{SUM}print(c)\""),
        ("read", "app.py"), ("bash", f"{PY} -c \"import app;print(app.totals(app.read_orders('orders.csv')))\""),
        ("write", "report.txt", "region,orders,total\n"), ("bash", "cat report.txt"),
        ("bash", f"{PY} -c \"{REPORT}\""),
        ("read", "report.txt"), ("bash", "sort -t, -k3 -n report.txt"), ("grep", "SKU-0042"),
        ("bash", "grep -c ',eu,' orders.csv"), ("bash", "tail -n 5 orders.csv"), ("read", "README.md"),
        ("bash", "cat report.txt"), ("bash", "ls -la"), ("bash", "wc -c report.txt"),
        ("text", "report.txt has the order count and total per region."),
    ]),
    "explore": ("Explain how this project works and what each file is for.", [
        ("bash", "ls -la"), ("read", "README.md"), ("read", "app.py"), ("read", "util.py"), ("read", "test_app.py"),
        ("read", "config.json"), ("grep", "def "), ("bash", "head -n 3 orders.csv"), ("bash", "head -n 3 nightly.log"),
        ("bash", "grep -c '' nightly.log"), ("read", "nightly.log"), ("bash", "grep ERROR nightly.log"),
        ("grep", "bucket"), ("bash", f"{PY} -c \"import app;print([n for n in dir(app) if not n.startswith('_')])\""),
        ("bash", f"{PY} -m pytest -q test_app.py"), ("read", "app.py"), ("bash", "wc -l *"), ("bash", "file *"),
        ("read", "util.py"), ("bash", "ls"), ("bash", "du -sh ."),
        ("text", "app.py exports order totals per region; util.py holds unused helpers; the log shows two upload "
                 "failures."),
    ]),
    # one large source read early (content strategies keep source reads whole), then many small steps
    "schema_check": ("Check that schema_generated.py has a field for every CSV column we use, then tidy up.", [
        ("bash", "ls -la"), ("read", "schema_generated.py"), ("bash", "head -n 1 orders.csv"),
        ("bash", "grep -c 'field_' schema_generated.py"), ("bash", "grep -n 'field_0001' schema_generated.py"),
        ("read", "app.py"), ("bash", "grep -n 'row\\[' app.py"), ("bash", "wc -l schema_generated.py"),
        ("read", "config.json"),
        ("bash", f"{PY} -c \"import schema_generated as s;print(len(s.OrderRow.__annotations__))\""),
        ("bash", "grep -n region app.py"), ("bash", "grep -n amount app.py"), ("read", "util.py"),
        ("bash", f"{PY} -m pytest -q test_app.py"), ("bash", "ls"), ("read", "README.md"),
        ("write", "SCHEMA.md", "OrderRow has 1100 generated fields; app.py uses region and amount.\n"),
        ("read", "SCHEMA.md"), ("bash", "wc -c SCHEMA.md"), ("bash", "cat config.json"), ("bash", "date -u +%Y"),
        ("bash", "ls -la"), ("bash", "wc -l *.py"),
        ("text", "The schema has 1100 generated fields; app.py only uses region and amount. Notes in SCHEMA.md."),
    ]),
    # a conversation of four prompts, with extended thinking: earlier turns' reasoning is replayed
    "triage_chat": ("Look at nightly.log and tell me what failed.", [
        ("bash", "ls -la"), ("read", "nightly.log"), ("grep", "ERROR"), ("bash", "sed -n 1200,1215p nightly.log"),
        ("text", "Two uploads to bucket exports-eu failed with AccessDenied (lines 1208 and 2462)."),
        ("read", "config.json"), ("bash", "grep -rn bucket --include=*.py ."),
        ("edit", "config.json", "exports-eu", "exports-eu-prod"), ("read", "config.json"),
        ("text", "config.json now points at exports-eu-prod."),
        ("bash", f"{PY} -m pytest -q test_app.py"), ("read", "app.py"),
        ("edit", "app.py", "amount * rate / 10  # BUG: should divide by 100", "amount * rate / 100"),
        ("bash", f"{PY} -m pytest -q test_app.py"), ("text", "Fixed discount(); the three tests pass."),
        ("bash", "wc -l *.py"), ("read", "README.md"), ("bash", "ls"),
        ("text", "Summary: bucket fixed in config.json, discount() fixed in app.py, tests green."),
    ]),
}
FOLLOW_UPS = {"triage_chat": ["Good. Now fix the bucket in the configuration.", "Do the tests pass?",
                              "Summarise what changed."]}


def _claude_code_input(step: Step, root: str) -> tuple[str, dict[str, Any]]:
    kind = step[0]
    if kind == "bash":
        return "Bash", {"command": step[1], "description": "Run a command"}
    if kind == "read":
        return "Read", {"file_path": f"{root}/{step[1]}"}
    if kind == "write":
        return "Write", {"file_path": f"{root}/{step[1]}", "content": step[2]}
    if kind == "edit":
        return "Edit", {"file_path": f"{root}/{step[1]}", "old_string": step[2], "new_string": step[3]}
    return "Grep", {"pattern": step[1], "path": root, "output_mode": "content", "-n": True}


def _sdk_input(step: Step, root: str) -> tuple[str, dict[str, Any]]:
    kind = step[0]
    if kind == "bash":
        return "bash", {"command": step[1]}
    if kind == "read":
        return "read_file", {"path": step[1]}
    if kind == "write":
        return "write_file", {"path": step[1], "content": step[2]}
    if kind == "edit":
        return "edit_file", {"path": step[1], "old": step[2], "new": step[3]}
    return "bash", {"command": f"grep -rn '{step[1]}' ."}


def responder(task: str, client: str, root: str) -> Callable[[dict[str, Any]], list[dict[str, Any]] | None]:
    _, plan = TASKS[task]
    shape = _claude_code_input if client == "claude_code" else _sdk_input
    wanted = "Bash" if client == "claude_code" else "bash"

    def respond(body: dict[str, Any]) -> list[dict[str, Any]] | None:
        if not any(isinstance(t, dict) and t.get("name") == wanted for t in body.get("tools") or ()):
            return None  # a side request (title, topic): the derived reply will do
        n = sum(1 for m in body.get("messages") or () if isinstance(m, dict) and m.get("role") == "assistant")
        step = plan[min(n, len(plan) - 1)]
        thinking = isinstance(body.get("thinking"), dict) and body["thinking"].get("type") == "enabled"
        head = [{"type": "thinking", "thinking": f"Step {n + 1}. " + f"Weighing what {step[1][:40]} will show. " * 12,
                 "signature": short_id("sig_", task, n) * 8}] if thinking else []
        if step[0] == "text":
            return [*head, {"type": "text", "text": step[1]}]
        name, arguments = shape(step, root)
        return [*head, {"type": "text", "text": f"Step {n + 1}: {step[0]} {step[1][:60]}"},
                {"type": "tool_use", "id": short_id("toolu_", task, n), "name": name, "input": arguments}]

    return respond
