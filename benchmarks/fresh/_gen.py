"""Deterministic text generators for the fresh held-out set: ids, clocks, people, tables and noise.

Nothing here is shared with the other workload sets; every generator takes a `random.Random` seeded from the
workload's name so the same workload is the same bytes on every run.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta


def rnd(name: str) -> random.Random:
    return random.Random(f"fresh:{name}")


def hexs(r: random.Random, n: int) -> str:
    return "".join(r.choice("0123456789abcdef") for _ in range(n))


def b62(r: random.Random, n: int) -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(r.choice(alphabet) for _ in range(n))


def upper_id(r: random.Random, n: int) -> str:
    return "".join(r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(n))


def uuid(r: random.Random) -> str:
    h = hexs(r, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{r.choice('89ab')}{h[17:20]}-{h[20:]}"


def ip_private(r: random.Random) -> str:
    return f"10.{r.randint(0, 63)}.{r.randint(0, 255)}.{r.randint(2, 254)}"


def ip_public(r: random.Random) -> str:
    # documentation ranges only, plus a few carrier-grade blocks
    prefix = r.choice(["198.51.100", "192.0.2", "100.64.12", "100.72.3", "100.81.40"])
    return f"{prefix}.{r.randint(2, 254)}"


class Clock:
    """A wall clock that moves forward by a random step on every tick."""

    def __init__(self, r: random.Random, start: str, step_ms: tuple[int, int] = (40, 2500)) -> None:
        self.r = r
        self.t = datetime.fromisoformat(start)
        self.step_ms = step_ms

    def tick(self) -> datetime:
        self.t += timedelta(milliseconds=self.r.randint(*self.step_ms))
        return self.t

    def jump(self, **kw: float) -> datetime:
        self.t += timedelta(**kw)
        return self.t

    def iso(self) -> str:
        t = self.tick()
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"

    def iso_s(self) -> str:
        return self.tick().strftime("%Y-%m-%dT%H:%M:%SZ")

    def clf(self) -> str:
        return self.tick().strftime("%d/%b/%Y:%H:%M:%S +0000")

    def syslog(self) -> str:
        return self.tick().strftime("%b %d %H:%M:%S")

    def plain(self) -> str:
        t = self.tick()
        return t.strftime("%Y-%m-%d %H:%M:%S,") + f"{t.microsecond // 1000:03d}"

    def epoch_ms(self) -> int:
        t = self.tick()
        return int(t.timestamp() * 1000)


FIRST = (
    "Amara",
    "Bogdan",
    "Chiara",
    "Dmitri",
    "Efua",
    "Farhan",
    "Grete",
    "Hiroshi",
    "Ines",
    "Jonas",
    "Kavya",
    "Lucia",
    "Mateus",
    "Nadia",
    "Oskar",
    "Paulina",
    "Quentin",
    "Rosa",
    "Sven",
    "Tamsin",
    "Ugo",
    "Valentina",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zofia",
    "Anouk",
    "Bilal",
    "Carmen",
    "Deniz",
    "Eitan",
    "Fiona",
    "Gaurav",
    "Hanne",
    "Ilse",
    "Jae-won",
)
LAST = (
    "Okonkwo",
    "Lindqvist",
    "Moretti",
    "Petrov",
    "Asante",
    "Chowdhury",
    "Halvorsen",
    "Tanaka",
    "Ferreira",
    "Weber",
    "Iyer",
    "Navarro",
    "Albuquerque",
    "Haddad",
    "Nieminen",
    "Kowalczyk",
    "Dubois",
    "Castillo",
    "Brandt",
    "Pryce",
    "Mancini",
    "Rossi",
    "Zhou",
    "Salazar",
    "Demir",
    "Nowak",
    "Visser",
    "Rahman",
    "Ortega",
    "Yilmaz",
    "Baptiste",
)


def person(r: random.Random) -> str:
    return f"{r.choice(FIRST)} {r.choice(LAST)}"


def handle(name: str) -> str:
    first, last = name.split(" ", 1)
    return (first[0] + last).lower().replace("-", "").replace(" ", "")


def words(r: random.Random, vocab: Sequence[str], n: int) -> str:
    return " ".join(r.choice(vocab) for _ in range(n))


def prose(r: random.Random, sentences: Sequence[str], n: int) -> str:
    """n sentences picked (with repeats allowed, never twice in a row) from a pool of the caller's own sentences."""
    out: list[str] = []
    last = -1
    for _ in range(n):
        i = r.randrange(len(sentences))
        if i == last and len(sentences) > 1:
            i = (i + 1) % len(sentences)
        out.append(sentences[i])
        last = i
    return " ".join(out)


def fill(target_bytes: int, make: Callable[[int], str]) -> list[str]:
    """Call make(i) for i = 0, 1, ... until the lines add up to target_bytes."""
    out: list[str] = []
    total = 0
    i = 0
    while total < target_bytes:
        line = make(i)
        out.append(line)
        total += len(line) + 1
        i += 1
    return out


def splice(lines: list[str], inserts: Iterable[tuple[float, str | list[str]]]) -> list[str]:
    """Insert blocks at fractional positions of the original list (positions refer to the list before inserting)."""
    placed = sorted(((at, i, block) for i, (at, block) in enumerate(inserts)), key=lambda x: (x[0], x[1]))
    out: list[str] = []
    cursor = 0
    for at, _, block in placed:
        cut = min(len(lines), int(len(lines) * at))
        out.extend(lines[cursor:cut])
        cursor = max(cursor, cut)
        out.extend([block] if isinstance(block, str) else block)
    out.extend(lines[cursor:])
    return out


def _cell(v: object) -> str:
    return "" if v is None else str(v)


def psql(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    head = "|".join(f" {h.center(w)} " for h, w in zip(headers, widths, strict=True)).rstrip()
    rule = "+".join("-" * (w + 2) for w in widths)
    body = ["|".join(f" {c.ljust(w)} " for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    n = len(rows)
    return "\n".join([head, rule, *body, f"({n} row{'s' if n != 1 else ''})"])


def mysql(headers: Sequence[str], rows: Sequence[Sequence[object]], secs: float = 0.04) -> str:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(row[i]) for row in cells]) for i, h in enumerate(headers)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"
    head = "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |"
    body = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |" for row in cells]
    return "\n".join([rule, head, rule, *body, rule, f"{len(rows)} rows in set ({secs:.2f} sec)"])


def delimited(headers: Sequence[str], rows: Sequence[Sequence[object]], sep: str = ",") -> str:
    def q(v: object) -> str:
        s = _cell(v)
        if sep == "," and ("," in s or '"' in s):
            return '"' + s.replace('"', '""') + '"'
        return s

    return "\n".join(sep.join(q(v) for v in row) for row in [headers, *rows])


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(out)


def line_numbers(text: str, start: int = 1) -> str:
    """cat -n style, the way most file-reading tools return a file."""
    return "\n".join(f"{i:>6}\t{line}" for i, line in enumerate(text.split("\n"), start))
