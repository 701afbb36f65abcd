"""Token estimates for decisions: cheap, deterministic, and good enough to compare before and after.

The optimizer never calls a tokenizer service (it holds no credential, and a network call would blow the
budget). Four bytes of JSON per token is the usual rule of thumb for English and code in Claude's
tokenizer; estimates are only ever compared with estimates made the same way.
"""

from __future__ import annotations

from typing import Any

import orjson

BYTES_PER_TOKEN = 4


def estimate(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, str):
        return (len(value.encode()) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN
    return (len(orjson.dumps(value)) + BYTES_PER_TOKEN - 1) // BYTES_PER_TOKEN
