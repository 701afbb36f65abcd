"""What a stash handle is: a keyed hash of the content, the same on every turn and in every process.

One definition for the optimizer's stash (`cache.Stash`, which also stores under it) and its decider process
(`decider.py`, which only names what it elides): a marker's handle must be the one the stash resolves.
"""

from __future__ import annotations

import hashlib
import hmac


def handle_of(id_key: bytes, content: str) -> str:
    """Short (64 bits) because every marker repeats it; keyed, so it cannot be matched to a guessed text."""
    return "h_" + hmac.new(id_key, content.encode(), hashlib.sha256).hexdigest()[:16]
