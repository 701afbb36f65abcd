"""Code context: source files read back, greps, diffs and the same file read again after an edit."""

from __future__ import annotations

from benchmarks.workloads._build import Workload, anthropic, hexid, numbered, openai, rng


def python_module(seed: str, functions: int, special: dict[str, str] | None = None) -> str:
    """A plausible service module: imports, constants, a class with methods, helpers; bodies 8-20 lines."""
    r = rng(seed)
    special = special or {}
    out = [
        '"""Billing service: invoices, discounts and payment retries."""',
        "",
        "from __future__ import annotations",
        "",
        "import logging",
        "import math",
        "from dataclasses import dataclass",
        "from decimal import Decimal",
        "",
        "log = logging.getLogger(__name__)",
        "RETRY_LIMIT = 5",
        'ROUNDING = Decimal("0.01")',
        "",
        "",
        "@dataclass",
        "class Invoice:",
        "    id: str",
        "    customer: str",
        "    subtotal_cents: int",
        '    currency: str = "EUR"',
        "",
        "",
        "class BillingService:",
        '    """Computes totals and talks to the payment provider."""',
        "",
        "    def __init__(self, client, ledger) -> None:",
        "        self.client = client",
        "        self.ledger = ledger",
        "",
    ]
    verbs = ["compute", "validate", "render", "sync", "reconcile", "export", "refresh", "apply", "lookup", "merge"]
    nouns = ["invoice", "ledger", "tax", "coupon", "refund", "receipt", "account", "plan", "usage", "credit"]
    for i in range(functions):
        name = f"{verbs[i % len(verbs)]}_{nouns[(i * 3) % len(nouns)]}_{i}"
        if i == functions // 2 and "apply_discount" in special:
            out.append(special["apply_discount"])
            out.append("")
            continue
        args = ", ".join(f"{a}: int" for a in r.sample(["amount", "count", "limit", "offset", "days", "seats"], 2))
        out.append(f"    def {name}(self, {args}) -> int:")
        out.append(f'        """{name.replace("_", " ").capitalize()} for the current period."""')
        for j in range(r.randint(8, 20)):
            var = r.choice(["total", "acc", "value", "window", "bucket"])
            out.append(f"        {var}_{j} = self.ledger.get_{r.choice(nouns)}({r.randint(1, 99)}) * {r.randint(2, 9)}")
        out.append(f'        log.debug("{name} done %s", {hexid(r, 4)!r})')
        out.append("        return 0")
        out.append("")
    return "\n".join(out)


DISCOUNT = """    def apply_discount(self, invoice: Invoice, percent: int, quantity: int) -> int:
        \"\"\"Apply a percentage discount to an invoice total.\"\"\"
        if percent < 0 or percent > 100:
            raise ValueError("percent out of range")
        unit = invoice.subtotal_cents // max(quantity, 1)
        discount = unit * percent // 100
        total = invoice.subtotal_cents - discount * quantity * quantity
        log.info("discount applied to %s", invoice.id)
        return total"""


def read_fix_bug() -> Workload:
    src = python_module("read_fix_bug", 40, {"apply_discount": DISCOUNT})
    return anthropic(
        "read_fix_bug",
        "Why does apply_discount return negative totals for large quantities?",
        [
            "total = invoice.subtotal_cents - discount * quantity * quantity",
            "def apply_discount(self, invoice: Invoice, percent: int, quantity: int) -> int:",
        ],
        [[("Read", {"file_path": "/repo/billing/service.py"}, numbered(src))]],
    )


def read_signatures() -> Workload:
    a = python_module("sig_a", 30)
    b = python_module("sig_b", 30).replace("RETRY_LIMIT = 5", "RETRY_LIMIT = 8")
    return anthropic(
        "read_signatures",
        "What is RETRY_LIMIT in each billing module, and what does BillingService's constructor take?",
        ["RETRY_LIMIT = 5", "RETRY_LIMIT = 8", "def __init__(self, client, ledger) -> None:"],
        [
            [
                ("Read", {"file_path": "/repo/billing/service.py"}, numbered(a)),
                ("Read", {"file_path": "/repo/billing/legacy.py"}, numbered(b)),
            ]
        ],
    )


def reread_after_edits() -> Workload:
    v1 = python_module("reread", 36, {"apply_discount": DISCOUNT})
    v2 = v1.replace("discount * quantity * quantity", "discount * quantity")
    v3 = v2.replace(
        'log.info("discount applied to %s", invoice.id)', 'log.info("discount applied to %s: %d", invoice.id, total)'
    )
    return anthropic(
        "reread_after_edits",
        "Fix apply_discount, then confirm the final version of the file.",
        [
            "total = invoice.subtotal_cents - discount * quantity",
            'log.info("discount applied to %s: %d", invoice.id, total)',
        ],
        [
            [("Read", {"file_path": "/repo/billing/service.py"}, numbered(v1))],
            [("Edit", {"file_path": "/repo/billing/service.py"}, "The file has been updated.")],
            [("Read", {"file_path": "/repo/billing/service.py"}, numbered(v2))],
            [("Edit", {"file_path": "/repo/billing/service.py"}, "The file has been updated.")],
            [("Read", {"file_path": "/repo/billing/service.py"}, numbered(v3))],
            [("Read", {"file_path": "/repo/billing/service.py"}, numbered(v3))],
        ],
    )


def grep_usages() -> Workload:
    r = rng("grep_usages")
    lines = []
    for i in range(1600):
        package, kind = r.choice(["api", "jobs", "core", "web"]), r.choice(["views", "tasks", "models", "utils"])
        mod = f"src/{package}/{kind}_{i % 90}.py"
        lines.append(
            f"{mod}:{r.randint(1, 900)}:    tenant = get_tenant(request.{r.choice(['user', 'org', 'headers'])})"
        )
    lines[1203] = "src/core/tenancy.py:41:def resolve_tenant(host: str, *, strict: bool = False) -> Tenant:"
    return anthropic(
        "grep_usages",
        "Where is resolve_tenant defined and what's its signature?",
        ["src/core/tenancy.py:41:def resolve_tenant(host: str, *, strict: bool = False) -> Tenant:"],
        [[("Grep", {"pattern": "tenant"}, "\n".join(lines))]],
    )


def git_diff_refactor() -> Workload:
    r = rng("git_diff_refactor")
    out = []
    for f in range(40):
        out += [
            f"diff --git a/src/handlers/h{f}.py b/src/handlers/h{f}.py",
            "index 3f2a1c0..9b8e4d1 100644",
            f"--- a/src/handlers/h{f}.py",
            f"+++ b/src/handlers/h{f}.py",
            f"@@ -{f * 10 + 1},9 +{f * 10 + 1},9 @@",
        ]
        for _ in range(8):
            name = f"handle_{hexid(r, 4)}"
            out += [
                f"-def {name}(req):",
                f"+def {name}(req: Request) -> Response:",
                f"     return dispatch(req, {r.randint(1, 9)})",
            ]
    out += [
        "diff --git a/src/http/client.py b/src/http/client.py",
        "--- a/src/http/client.py",
        "+++ b/src/http/client.py",
        "@@ -12,4 +12,4 @@",
        "-BACKOFF_SECONDS = 0.5",
        "+BACKOFF_SECONDS = 2.0",
        "-MAX_ATTEMPTS = 3",
        "+MAX_ATTEMPTS = 6",
    ]
    diff = "\n".join(out[: len(out) // 2] + out[len(out) // 2 :])
    return anthropic(
        "git_diff_refactor",
        "What changed in the HTTP client's backoff settings in this branch?",
        ["-BACKOFF_SECONDS = 0.5", "+BACKOFF_SECONDS = 2.0", "+MAX_ATTEMPTS = 6"],
        [[("Bash", {"command": "git diff main...HEAD"}, diff)]],
    )


def stacktrace_and_source() -> Workload:
    src = python_module("stack_src", 34, {"apply_discount": DISCOUNT})
    trace = "\n".join(
        [
            "Traceback (most recent call last):",
            '  File "/repo/billing/api.py", line 88, in post_invoice',
            "    total = service.apply_discount(invoice, body.percent, body.quantity)",
            '  File "/repo/billing/service.py", line 240, in apply_discount',
            '    raise ValueError("percent out of range")',
            "ValueError: percent out of range",
        ]
    )
    return openai(
        "stacktrace_and_source",
        "The API returns 500 on POST /invoices with percent=120. Why?",
        ["ValueError: percent out of range", "if percent < 0 or percent > 100:"],
        [
            [("Bash", {"command": "kubectl logs deploy/billing | tail -6"}, trace)],
            [("Read", {"file_path": "/repo/billing/service.py"}, numbered(src))],
        ],
    )


def typescript_component() -> Workload:
    r = rng("typescript_component")
    out = [
        'import { useEffect, useState } from "react";',
        'import type { Order } from "../api/types";',
        "",
        "export const PAGE_SIZE = 25;",
        "",
    ]
    for i in range(30):
        name = f"use{hexid(r, 4).capitalize()}Query{i}"
        out += [
            f"export function {name}(id: string, page = 0): Order[] {{",
            "  const [rows, setRows] = useState<Order[]>([]);",
            "  useEffect(() => {",
        ]
        out += [
            f"    fetch(`/api/orders/${{id}}?page=${{page}}&k={hexid(r, 6)}`).then((r) => r.json()).then(setRows);"
            for _ in range(r.randint(6, 14))
        ]
        out += ["  }, [id, page]);", "  return rows;", "}", ""]
        if i == 5:
            out += [
                "export function formatTotal(cents: number, currency: string): string {",
                "  const value = (cents / 1000).toFixed(2);",
                '  return new Intl.NumberFormat("de-DE", { style: "currency", currency }).format(Number(value));',
                "}",
                "",
            ]
    return anthropic(
        "typescript_component",
        "Totals show 10x too small in the UI. Is formatTotal wrong?",
        [
            "const value = (cents / 1000).toFixed(2);",
            "export function formatTotal(cents: number, currency: string): string {",
        ],
        [[("Read", {"file_path": "/web/src/orders/hooks.ts"}, numbered("\n".join(out)))]],
    )


WORKLOADS = [
    typescript_component,
    read_fix_bug,
    read_signatures,
    reread_after_edits,
    grep_usages,
    git_diff_refactor,
    stacktrace_and_source,
]
