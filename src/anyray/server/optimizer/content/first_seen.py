"""The question a piece was first shrunk for, remembered so that it is shrunk the same way ever after.

A piece of an agent session is first seen on the turn it arrives, when the question live then is the
one it was fetched for; every later turn re-sends it, and its rendering must not change (a changed byte
turns the provider's cache reads into writes). A history the optimizer never saw (a resumed session, a
conversation assembled elsewhere, a long paste followed by questions) arrives whole, with the question
that matters last: its pieces are shrunk for that question, the one asked when they were first seen.

Keys chain every piece's text onto the ones before it (and the team), so the same document pasted into
two conversations is two pieces, while one conversation's piece keeps its key on every turn. Held per
process in a bounded LRU; a piece whose entry was evicted is shrunk for the question live when it is
seen again (one cache write, then stable again).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict


def chain(previous: bytes, slot: str, text: str) -> bytes:
    """The key of a piece: its slot and text, after the key of the piece before it."""
    return hashlib.blake2b(previous + slot.encode() + b"\0" + text.encode(), digest_size=16).digest()


class FirstSeen:
    def __init__(self, max_entries: int = 50_000) -> None:
        self.max_entries = max_entries
        self._asked: OrderedDict[bytes, str] = OrderedDict()
        self._questions: dict[str, str] = {}  # one copy of each question, however many pieces share it

    def question(self, key: bytes, now: str) -> str:
        """The question `key`'s piece was first shrunk for; `now` when it is new (and then remembered)."""
        asked = self._asked.get(key)
        if asked is not None:
            self._asked.move_to_end(key)
            return asked
        now = self._questions.setdefault(now, now)
        self._asked[key] = now
        if len(self._asked) > self.max_entries:
            self._asked.popitem(last=False)
            if len(self._questions) > self.max_entries:
                live = set(self._asked.values())
                self._questions = {q: q for q in self._questions if q in live}
        return now
