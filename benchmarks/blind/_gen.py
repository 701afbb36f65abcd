"""Deterministic filler for the blind set: people, hosts, clocks, prose, tables.

Every generator takes a `random.Random` seeded from the workload's name, so a build never depends on the clock,
the network or the order workloads are built in.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

FIRST = [
    "Amara",
    "Bjorn",
    "Chidi",
    "Dagny",
    "Emeka",
    "Farah",
    "Goran",
    "Hana",
    "Ilse",
    "Joaquin",
    "Kiri",
    "Lior",
    "Maren",
    "Nkechi",
    "Oskar",
    "Priya",
    "Quentin",
    "Rhea",
    "Sanna",
    "Tomasz",
    "Uma",
    "Viktor",
    "Wren",
    "Ximena",
    "Yusuf",
    "Zofia",
    "Aurelio",
    "Beatriz",
    "Caius",
    "Delphine",
    "Eero",
    "Ingrid",
]
LAST = [
    "Okafor",
    "Lindqvist",
    "Haddad",
    "Moreau",
    "Nakamura",
    "Petrov",
    "Quispe",
    "Rasmussen",
    "Silva",
    "Tanaka",
    "Ulloa",
    "Varga",
    "Whitfield",
    "Yilmaz",
    "Zeller",
    "Abara",
    "Brennan",
    "Castellanos",
    "Dvorak",
    "Eriksen",
    "Fonseca",
    "Gallagher",
    "Horvath",
    "Iwu",
    "Jansen",
    "Kowalczyk",
]
WORDS = [
    "the",
    "a",
    "of",
    "to",
    "and",
    "in",
    "for",
    "on",
    "with",
    "is",
    "was",
    "that",
    "it",
    "by",
    "from",
    "as",
    "at",
    "be",
    "this",
    "are",
    "or",
    "not",
    "have",
    "has",
    "were",
    "which",
    "when",
    "after",
    "before",
    "because",
    "during",
    "then",
    "also",
    "only",
    "some",
    "more",
    "most",
    "each",
    "other",
    "new",
    "old",
    "same",
    "different",
    "system",
    "team",
    "change",
    "week",
    "month",
    "release",
    "users",
    "report",
    "value",
    "number",
    "state",
    "field",
    "record",
    "entry",
    "process",
    "service",
    "schedule",
    "window",
    "batch",
    "file",
    "page",
    "table",
    "note",
    "issue",
    "plan",
    "review",
    "update",
    "request",
    "result",
    "error",
    "source",
    "target",
    "region",
    "storage",
    "network",
    "access",
    "policy",
    "limit",
    "budget",
    "vendor",
    "contract",
    "invoice",
    "shipment",
    "station",
    "route",
    "sensor",
    "reading",
    "season",
    "catalogue",
    "patron",
    "branch",
    "loan",
    "hold",
    "ferry",
    "sailing",
    "berth",
    "crew",
    "greenhouse",
    "valve",
    "pump",
    "humidity",
    "telescope",
    "antenna",
    "receiver",
    "survey",
    "ward",
    "nurse",
    "shift",
    "roster",
    "clinic",
]


def rng(name: str) -> random.Random:
    return random.Random(f"blind/{name}")


def person(r: random.Random) -> str:
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def handle(r: random.Random) -> str:
    return f"{r.choice(FIRST).lower()}.{r.choice(LAST).lower()}"


def hexid(r: random.Random, n: int = 8) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def ip(r: random.Random, private: bool = True) -> str:
    if private:
        return f"10.{r.randint(0, 40)}.{r.randint(0, 255)}.{r.randint(2, 254)}"
    return f"{r.choice([81, 92, 145, 188, 203, 37, 62])}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(2, 254)}"


def uuid(r: random.Random) -> str:
    h = hexid(r, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}"


class Clock:
    """A monotonic fake clock that advances by random small steps, for log timestamps."""

    def __init__(self, r: random.Random, start: str = "2026-10-14T03:12:07", step: tuple[float, float] = (0.05, 4)):
        self.r, self.t, self.step = r, datetime.fromisoformat(start), step

    def tick(self) -> datetime:
        self.t += timedelta(seconds=self.r.uniform(*self.step))
        return self.t

    def iso(self, ms: bool = True) -> str:
        t = self.tick()
        return t.strftime("%Y-%m-%dT%H:%M:%S") + (f".{t.microsecond // 1000:03d}Z" if ms else "Z")

    def syslog(self) -> str:
        return self.tick().strftime("%b %d %H:%M:%S")

    def clf(self) -> str:
        return self.tick().strftime("%d/%b/%Y:%H:%M:%S +0000")


def prose(r: random.Random, n_sentences: int = 5, vocab: tuple[str, ...] | list[str] = ()) -> str:
    """Plausible-ish filler sentences from general and domain vocabulary."""
    words = list(WORDS) + list(vocab) * 3
    out = []
    for _ in range(n_sentences):
        s = " ".join(r.choice(words) for _ in range(r.randint(8, 22)))
        out.append(s[0].upper() + s[1:] + r.choice([".", ".", ".", ";", ":"])[:1].replace(";", ".").replace(":", "."))
    return " ".join(out)


def table(headers: list[str], rows: list[list[object]], sep: str = " | ") -> str:
    """A psql-style aligned text table."""
    cols = [headers, *[[str(c) for c in row] for row in rows]]
    widths = [max(len(str(row[i])) for row in cols) for i in range(len(headers))]
    lines = [
        sep.join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True)),
        "-+-".join("-" * w for w in widths),
    ]
    for row in cols[1:]:
        lines.append(sep.join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
    lines.append(f"({len(rows)} rows)")
    return "\n".join(lines)


def numbered(text: str, start: int = 1) -> str:
    """cat -n / Claude Code Read output: right-aligned numbers and a tab."""
    return "\n".join(f"{i:6d}\t{line}" for i, line in enumerate(text.split("\n"), start))


def place(lines: list[str], at: float, block: list[str]) -> list[str]:
    i = int(len(lines) * at)
    return lines[:i] + block + lines[i:]


_TEMPLATES = (
    "{S} must {V} the {O} within {n} {U} of {E}.",
    "If the {O} is {A}, {s} should contact {T} before {E}.",
    "The {O} is reviewed every {n} {U} by {T}; changes are announced in the {C}.",
    "{S} may request an exception to the {O} rule by filing a form with {T}.",
    "Note that the {O} does not apply to {A} cases, which follow the {C} instead.",
    "Since the {n}th revision, {s} no longer need approval from {T} for {A} {O} requests.",
    "See the {C} for examples; questions go to {T}.",
    "During {E}, the {O} is handled by {T} and response times may be up to {n} {U}.",
)


def doc_text(r: random.Random, sentences: int, vocab: dict[str, list[str]]) -> str:
    """Handbook-style prose: templated sentences filled from a domain vocabulary (S, O, V, U, E, A, T, C keys)."""
    out = []
    for _ in range(sentences):
        t = r.choice(_TEMPLATES)
        subject = r.choice(vocab["S"])
        out.append(
            t.format(
                S=subject.capitalize(),
                s=subject,
                V=r.choice(vocab["V"]),
                O=r.choice(vocab["O"]),
                n=r.randint(2, 30),
                U=r.choice(vocab["U"]),
                E=r.choice(vocab["E"]),
                A=r.choice(vocab["A"]),
                T=r.choice(vocab["T"]),
                C=r.choice(vocab["C"]),
            )
        )
    paras, i = [], 0
    while i < len(out):
        k = r.randint(3, 6)
        paras.append(" ".join(out[i : i + k]))
        i += k
    return "\n\n".join(paras)
