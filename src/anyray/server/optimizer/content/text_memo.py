"""A question asked of the same long texts on every turn, answered once per text.

An agent re-sends every earlier tool result on every turn, and a strategy that asks each of them a
question (is it a test run? does it hold a stack trace?) would scan the whole session again each time.
The answer is remembered by the text's hash and length (a str keeps its hash once computed), not by
the text, so the memo holds no prompt; it is bounded, and cleared when full.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def by_text(question: Callable[[str], T], most: int = 8192) -> Callable[[str], T]:
    answers: dict[tuple[int, int], T] = {}

    def ask(text: str) -> T:
        key = (hash(text), len(text))
        found = answers.get(key)
        if found is None:
            if len(answers) >= most:
                answers.clear()
            found = answers[key] = question(text)
        return found

    ask.__doc__ = question.__doc__
    return ask
