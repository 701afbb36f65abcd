"""Session files: each request stored as a delta against the one before it, gzip-compressed.

A session re-sends its whole history on every call, so 22 calls of a 200 KB conversation are 4 MB as
plain JSON. Here a call keeps only the messages after the longest prefix it shares with the previous
call (`keep`), and top-level fields only when they changed; loading rebuilds every request exactly.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any


def encode(turns: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out, previous = [], None
    for turn in turns:
        request = turn["request"]
        if previous is None:
            out.append({"request": request, "response": turn["response"]})
        else:
            old, new = previous.get("messages") or [], request.get("messages") or []
            keep = 0
            while keep < min(len(old), len(new)) and old[keep] == new[keep]:
                keep += 1
            fields = {k: v for k, v in request.items() if k != "messages" and previous.get(k) != v}
            dropped = [k for k in previous if k not in request]
            out.append({"keep": keep, "messages": new[keep:], "fields": fields, "dropped": dropped,
                        "response": turn["response"]})
        previous = request
    return out


def decode(stored: list[dict[str, Any]]) -> list[dict[str, Any]]:
    turns, previous = [], None
    for item in stored:
        if previous is None:
            request = item["request"]
        else:
            request = {k: v for k, v in previous.items() if k not in item["dropped"] and k != "messages"}
            request.update(item["fields"])
            request["messages"] = previous["messages"][: item["keep"]] + item["messages"]
        turns.append({"request": request, "response": item["response"]})
        previous = request
    return turns


def save(path: Path, session: dict[str, Any]) -> None:
    data = {**session, "turns": encode(session["turns"]), "encoding": "delta-v1"}
    with gzip.open(path, "wt") as f:
        json.dump(data, f, separators=(",", ":"))


def load(path: Path) -> dict[str, Any]:
    with gzip.open(path, "rt") as f:
        data = json.load(f)
    return {**data, "turns": decode(data["turns"])}
