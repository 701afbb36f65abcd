"""command_digest: test, build and install output reduced to what failed, why, and the summary line.

A test run an agent reads back is mostly `PASSED`, `ok`, `✓` and progress lines; a build is mostly
`Compiling`, `Downloading`, `> Task ... UP-TO-DATE`. The model needs the failures with their assertions
and tracebacks, the errors and warnings, and the summary, which every runner prints and which counts the
passes. Here each run of pass or progress lines becomes one marker that counts them; every other line
(failures, tracebacks, errors, warnings, summaries, anything not recognised) stays exactly as it was.
Recognised: pytest, unittest, Jest/Vitest, Mocha, Go, Cargo, RSpec, Maven, Gradle, pip, npm, Cargo builds.
"""

from __future__ import annotations

import re

from pydantic import Field

from anyray.server.optimizer.content import salience, text_memo
from anyray.server.optimizer.content.units import Marks
from anyray.server.optimizer.strategies import elide
from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.tool_output import ContentStrategy, Output

PASS_LINE = re.compile(
    "|".join((
        r"^\S+::\S+.*\bPASSED\b",  # pytest -v
        r"^\S+\.py [.sx]+\s*(\[\s*\d+%\])?$",  # pytest progress without F or E
        r"^test\w* \(.*\)( \.\.\.)? ok$",  # unittest -v
        r"^\s*(PASS|✓|√|✔)\s",  # jest, vitest, mocha
        r"^\s*(=== (RUN|PAUSE|CONT)|--- PASS:|PASS$)",  # go test (a package's `ok` line is its summary: it stays)
        r"^test \S+ \.\.\. ok$",  # cargo test
        r"^\s*(Compiling|Checking|Fresh|Downloaded|Downloading|Unpacking|Locking|Adding|Updating) \S+ v?\d",  # cargo
        r"^\.+$",  # rspec / minitest dots
        r"^\[INFO\] (Download(ing|ed)( from)?|Building|Compiling \d+|Nothing to compile|Copying|Tests run: \d+, "
        r"Failures: 0, Errors: 0, Skipped: \d+, Time elapsed: [\d.]+ s - in)",  # maven
        r"^> Task \S+( UP-TO-DATE| NO-SOURCE| FROM-CACHE| SKIPPED)?$",  # gradle
        r"^\s*(Collecting|Downloading|Requirement already satisfied|Using cached|Obtaining|Installing build "
        r"dependencies|Getting requirements|Preparing metadata|Building wheel|Created wheel|Stored in directory)\b",
        r"^npm (http|timing|sill|verb) ",  # npm --loglevel noise
        r"^\s*\d+/\d+ (tests? )?passed\b",
    ))
)


# the name of a passing test on its pass line, for the runners that print one: names are facts ("which test
# covers X" is answered by a passing test's name), so an elided run's marker lists them
TEST_NAME = re.compile(
    r"::(\S+?)(?:\[[^\]]*\])? PASSED"  # pytest -v
    r"|^(test\w*) \("  # unittest -v
    r"|^\s*(?:=== RUN|--- PASS:)\s+(\S+)"  # go test
    r"|^test (\S+) \.\.\. ok$"  # cargo test
    r"|^\s*(?:✓|√|✔)\s+(.+?)(?:\s+\(\d+\s*m?s\))?$"  # jest, vitest, mocha
)
MAX_NAMES = 200


def _names(lines: list[str]) -> list[str]:
    found = (next((g for g in m.groups() if g), None) for line in lines if (m := TEST_NAME.search(line)))
    return list(dict.fromkeys(n for n in found if n))


def _count_passes(text: str) -> tuple[int, int]:
    """(pass/progress lines, lines): asked of every tool result on every turn, so once per text."""
    lines = text.split("\n")
    return sum(1 for line in lines if PASS_LINE.match(line) is not None), len(lines)


_passes = text_memo.by_text(_count_passes)


def _enough_passes(text: str, least: int, share: float) -> bool:
    passes, lines = _passes(text)
    return passes >= max(least, lines * share)


class DigestParams(Params):
    min_pass_lines: int = Field(8, ge=1, description="fewer recognised pass/progress lines: not a command run")
    min_share: float = Field(0.2, ge=0, le=1, description="share of lines that must be pass/progress lines")


class CommandDigest(ContentStrategy):
    kind = "command_digest"
    default_enabled = True
    Params = DigestParams
    summary = "test/build/lint output reduced to failures, tracebacks, errors and the summary; passes counted"

    def transform(self, output: Output, ctx: Context, params: DigestParams, earlier: list[Output]) -> str | None:
        text = output.text
        if text.startswith(elide.MARKER):
            return None
        if not _enough_passes(text, params.min_pass_lines, params.min_share):  # most texts are no command run
            return None
        lines = text.split("\n")
        matched = [PASS_LINE.match(line) is not None for line in lines]
        errors = elide.lines_with(text, (), elide.ERRORS)  # a "pass" line that mentions an error stays
        # so does one the question points at: "which test checks X" is answered by a passing test's name
        pattern = salience.anchors(output.query, text.lower(), len(lines), rare_share=0.05)
        asked = {i for i, line in enumerate(lines) if pattern is not None and pattern.search(line.lower())}
        passing = [m and i not in errors and i not in asked for i, m in enumerate(matched)]
        count = sum(passing)
        if count < params.min_pass_lines or count < len(lines) * params.min_share:
            return None
        marks = Marks(lambda: ctx.stash(text), len(lines))  # the handle said once, in the first marker
        out: list[str] = []
        i, n = 0, len(lines)
        while i < n:
            if not passing[i]:
                out.append(lines[i])
                i += 1
                continue
            j, run = i, 0
            while j < n and (passing[j] or (not lines[j].strip() and j + 1 < n and passing[j + 1])):
                run += passing[j]
                j += 1
            names = _names(lines[i:j])
            listed = ""
            if names:
                listed = "; tests: " + ", ".join(names[:MAX_NAMES]) + (
                    f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")
            if run < j - i:  # blank lines in the run: the count is not the span's
                out.append(marks.say(f"{run} passing/progress line{'s' if run > 1 else ''}{listed}", i, j - 1))
            else:
                out.append(marks.say_lines("passing/progress line", i, j - 1, listed))
            i = j
        return "\n".join(out)
