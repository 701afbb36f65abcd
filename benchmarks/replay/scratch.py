"""A small scratch project the recorded agents work in: code with a bug, tests, a big log, a CSV.

Generated from fixed seeds, so the tool output of a recorded session is the same on every recording.
"""

from __future__ import annotations

import random
from pathlib import Path

APP = '''"""Nightly export: reads orders, totals them per region, writes a report."""

import csv
import json
from pathlib import Path

CONFIG = Path(__file__).with_name("config.json")


def load_config():
    return json.loads(CONFIG.read_text())


def totals(rows):
    out = {}
    for row in rows:
        out[row["region"]] = out.get(row["region"], 0) + int(row["amount"])
    return out


def discount(amount, rate):
    return amount - amount * rate / 10  # BUG: should divide by 100


def read_orders(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def report(path):
    config = load_config()
    rows = read_orders(path)
    return {region: discount(total, config["discount_percent"]) for region, total in totals(rows).items()}
'''

TESTS = '''from app import discount, totals


def test_totals():
    assert totals([{"region": "eu", "amount": "2"}, {"region": "eu", "amount": "3"}]) == {"eu": 5}


def test_discount():
    assert discount(200, 10) == 180


def test_discount_zero():
    assert discount(50, 0) == 50
'''

UTIL = '''"""Helpers the export does not use yet."""


def chunks(items, size):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def slug(text):
    return "-".join(text.lower().split())
'''


def build(root: Path) -> Path:
    r = random.Random("scratch")
    root.mkdir(parents=True, exist_ok=True)
    (root / "app.py").write_text(APP)
    (root / "test_app.py").write_text(TESTS)
    (root / "util.py").write_text(UTIL)
    (root / "config.json").write_text('{"discount_percent": 10, "bucket": "exports-eu"}\n')
    regions = ["eu", "us", "apac", "latam"]
    rows = ["id,region,amount,sku"] + [f"{i},{r.choice(regions)},{r.randrange(5, 500)},SKU-{r.randrange(1000):04d}"
                                       for i in range(2500)]
    (root / "orders.csv").write_text("\n".join(rows) + "\n")
    log = []
    for i in range(3000):
        level = "ERROR" if i in (1207, 2461) else ("WARN" if i % 97 == 0 else "INFO")
        msg = {"ERROR": "upload to bucket exports-eu failed: AccessDenied (request id 7F3A)",
               "WARN": f"retrying chunk {i % 13}", "INFO": f"exported batch {i} rows={r.randrange(100, 999)}"}[level]
        log.append(f"2026-11-24T02:{i // 60 % 60:02d}:{i % 60:02d}Z {level:5} nightly.export {msg}")
    (root / "nightly.log").write_text("\n".join(log) + "\n")
    fields = "\n".join(f"    field_{i:04d}: str = \"{r.choice(regions)}-{r.randrange(10**6):06d}\"  # column {i}"
                       for i in range(1100))
    (root / "schema_generated.py").write_text(f'"""Generated: do not edit."""\n\n\nclass OrderRow:\n{fields}\n')
    (root / "README.md").write_text("# export\n\nNightly export of orders per region. Run `python -c 'import app'`.\n")
    return root
