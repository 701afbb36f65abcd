"""docs/protocol.md prints every message schema; it must be the one the optimizer enforces."""

from __future__ import annotations

import json
import re
from pathlib import Path

from anyray.server.optimizer.protocol import SCHEMAS

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def test_every_schema_in_the_doc_is_the_enforced_one():
    text = DOC.read_text()
    documented = dict(re.findall(r"### (\w+)\n\n```json\n(.*?)\n```", text, re.S))
    assert set(SCHEMAS) <= set(documented)
    for name, schema in SCHEMAS.items():
        assert json.loads(documented[name]) == schema, f"docs/protocol.md is stale for {name}"
