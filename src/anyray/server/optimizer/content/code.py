"""Source code as its skeleton: every name stays, long bodies go.

Names are facts: every line that declares something (an import, a class, a function or method
signature, a test (`def test_...`, `it("...")`, `describe(...)`, `func TestX`), a route
(`@app.get("/x")`, `router.post("/x", ...)`), a constant) stays, and so does every statement outside a
function body. A function body is elided only when it is long, is a leaf (a body that declares further
names, like a `describe` block holding `it`s, is opened up instead), and neither the question nor an
earlier traceback points into it. Python is read with the standard library's `ast`; other languages by
their braces. Numbered reads (`  12→...`, `cat -n`) keep their numbers.
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
from dataclasses import dataclass

from anyray.server.optimizer.content import salience
from anyray.server.optimizer.content.units import Marks

NUMBERED = re.compile(r"^\s*\d+(?:→|\t)")
_DECLARES = (
    r"^\s*(?:(?:export|default|public|private|protected|internal|static|final|abstract|async|override|virtual|"
    r"unsafe|extern|inline|synchronized|pub(?:\([^)]*\))?)\s+)*"
    r"(?:(?:function\*?|class|interface|struct|enum|trait|impl|fn|func|fun|def|object|module|namespace)\b.*"
    r"|[\w<>\[\],.?]+(?:\s+[\w<>\[\],.?]+)*\s+\w+\s*\(.*\)\s*(?:throws [\w., ]+)?"
    r"|(?:const|let|var)\s+\w+\s*=.*(?:=>|function\b).*"
    r"|(?:describe|context|it|test|suite|beforeEach|afterEach|beforeAll|afterAll)(?:\.\w+)?\s*\(.*"
    r"|(?:app|router|r|api|server|mux|e|g|route|routes)\.\w+\s*\(.*"
    r"|\w+\s*\([^;]*\)\s*(?::\s*[\w<>\[\], |.]+)?"
    r")"
)
_OPENS = re.compile(_DECLARES + r"\{\s*(?://.*)?$")  # a declaration whose body opens on its own line (K&R)
# ... or on the next line, a `{` alone (Allman: C#, PHP's PSR-12 classes and methods, C functions)
_DECLARES_ALONE = re.compile(_DECLARES + r"\s*(?://.*)?$")
_BRACE_ALONE = re.compile(r"^\s*\{\s*(?://.*)?$")
_NAME = re.compile(r"(?:function\*?|class|interface|struct|enum|trait|fn|func|fun|def)\s+"
                   r"(?:\([^)]*\)\s*)?([A-Za-z_]\w*)"
                   r"|(?:describe|context|it|test|suite)(?:\.\w+)?\s*\(\s*(['\"`][^'\"`]*['\"`])"
                   r"|\.(?:get|post|put|patch|delete|all|use|route)\s*\(\s*(['\"`][^'\"`]*['\"`])"
                   r"|(?:const|let|var)\s+([A-Za-z_]\w*)\s*="
                   r"|([A-Za-z_]\w*)\s*\(")
_STRINGS = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`[^`]*`|//[^\n]*')
_CONTROL = re.compile(r"^\s*(?:\}\s*)?(?:if|else|for|foreach|while|switch|catch|with|do|try|finally|return|using|lock|"
                      r"synchronized|match|loop|unsafe\s*\{)\b")
_PY_DEF = re.compile(r"^\s*(?:async\s+)?(def|class)\s+([A-Za-z_]\w*).*:\s*(?:#.*)?$")
# an opener of a block in a language without braces (Python's own has its colon): `def name`, `class Name`,
# `module Name`, `defp name`, `function name`, `describe "..." do`, `it "..." do`
_BLOCK_DEF = re.compile(r"^\s*(?:(def|defp|defmodule|class|module|function|local function|sub|proc|fn)\s+"
                        r"([A-Za-z_][\w.:]*[?!=]?)|(describe|context|it|test|scenario)\s+(['\"][^'\"]*['\"]).*\bdo\b)")
_CALL = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
_FRAME = re.compile(r'line \d+, in ([A-Za-z_]\w*)|\bat (?:[\w.]+\.)?([A-Za-z_]\w*) \(|\b([A-Za-z_]\w*)\(\)?\s*$'
                    r"|^[\w./-]+\.(?:\(\*?\w+\)\.)?([A-Za-z_]\w*)\(", re.MULTILINE)  # and Go's pkg.(*T).Method(
# a stack trace in an earlier text: Python's, Java/JS frames, a Go panic or goroutine dump
TRACE = re.compile(r"Traceback \(most recent|\n\s+at \S+\(|^goroutine \d+ \[|^panic: ", re.MULTILINE)


@dataclass(slots=True)
class Body:
    first: int  # line indexes of the body's own lines (between the opener and the closer)
    last: int
    name: str
    nested: list[Body]


def _source(lines: list[str]) -> tuple[list[str], bool]:
    """The code without read line numbers (when most lines carry them)."""
    numbered = sum(1 for x in lines[:40] if NUMBERED.match(x)) >= min(len(lines), 40) * 0.6
    return ([NUMBERED.sub("", x, count=1) for x in lines] if numbered else list(lines)), numbered


# ------------------------------------------------------------------------------------------- Python


@functools.lru_cache(maxsize=64)
def _parse(source: str) -> ast.Module | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None


def _python(source: list[str]) -> list[Body] | None:
    tree = _parse("\n".join(source))
    if tree is None or not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                               for n in ast.walk(tree)):
        return None

    def bodies(nodes: list[ast.stmt]) -> list[Body]:
        out = []
        for node in nodes:
            if isinstance(node, ast.ClassDef):
                out += bodies(node.body)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                statements = node.body
                if (statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value,
                                                                                        ast.Constant)
                        and isinstance(statements[0].value.value, str)):
                    statements = statements[1:]  # the docstring stays
                if statements:
                    first, last = statements[0].lineno - 1, (node.end_lineno or statements[-1].lineno) - 1
                    out.append(Body(first, last, node.name, bodies(statements)))
        return out

    return bodies(tree.body)


# ------------------------------------------------------------------------------------ brace languages


def _braces(source: list[str]) -> list[Body]:
    """Bodies opened by a declaration line ending in `{`, closed on the line where the braces balance again."""
    top: list[Body] = []
    stack: list[tuple[Body, int]] = []
    depth = 0
    previous = ""  # the last line with something on it
    for i, line in enumerate(source):
        bare = _STRINGS.sub("", line)
        before = depth
        depth += bare.count("{") - bare.count("}")
        while stack and depth <= stack[-1][1]:
            body, _ = stack.pop()
            body.last = i - 1  # this line closes it
        declares = line if _OPENS.match(line) else previous if (
            _BRACE_ALONE.match(line) and _DECLARES_ALONE.match(previous)) else None
        if line.strip():
            previous = line
        if depth > before and declares is not None and not _CONTROL.match(declares):
            m = _NAME.search(declares)
            name = next((g for g in m.groups() if g), "") if m else ""
            body = Body(i + 1, len(source) - 1, name.strip("'\"`"), [])
            (stack[-1][0].nested if stack else top).append(body)
            stack.append((body, before))
    return [b for b in top if b.last >= b.first]


def _indented(source: list[str], opener: re.Pattern[str] = _PY_DEF) -> list[Body]:
    """Code whose blocks are indented (a Python fragment that does not parse; Ruby, Elixir, Lua and the like,
    whose `end` sits at the opener's indentation): an opener's body is what is indented more than it."""
    top: list[Body] = []
    stack: list[tuple[Body, int]] = []
    for i, line in enumerate(source):
        if not line.strip():
            continue
        width = len(line) - len(line.lstrip())
        while stack and width <= stack[-1][1]:
            stack.pop()
        m = opener.match(line)
        if m:
            body = Body(i + 1, i, m.group(2), [])
            (stack[-1][0].nested if stack else top).append(body)
            stack.append((body, width))
        for body, _ in stack:
            body.last = i
    return [b for b in _flat(top) if b.last >= b.first] and top


def _flat(bodies: list[Body]) -> list[Body]:
    return [x for b in bodies for x in (b, *_flat(b.nested))]


# ------------------------------------------------------------------------------------------- skeleton


def _calls(source: list[str], bodies: list[Body]) -> dict[str, set[str]]:
    """Lower-cased name of each function -> the names called in its body (`f(...)`, `obj.f(...)`)."""
    out: dict[str, set[str]] = {}
    for body in _flat(bodies):
        text = "\n".join(source[body.first: body.last + 1])
        out.setdefault(body.name.lower(), set()).update(m.lower() for m in _CALL.findall(text))
    return out


def _closure(asked: set[str], calls: dict[str, set[str]]) -> set[str]:
    """`asked` plus every function of the text that one of them calls, transitively."""
    kept, todo = set(asked), [name for name in asked if name in calls]
    while todo:
        for callee in calls.get(todo.pop(), ()):
            if callee in calls and callee not in kept:
                kept.add(callee)
                todo.append(callee)
    return kept


def compress(lines: list[str], offset: int, query: str, marks: Marks, earlier: str = "", min_body_lines: int = 6,
             min_body_chars: int = 300, follow_calls: bool = False, max_wanted: int = 3) -> list[str] | None:
    source, _numbered = _source(lines)
    python = _python(source)
    if python is None and any(_PY_DEF.match(x) for x in source[:200]):
        python = _indented(source)
    found = python if python is not None else _braces(source)
    hash_comments = python is not None
    if not found and python is None:  # no braces either: Ruby, Elixir, Lua, shell... blocks by indentation
        found = _indented(source, _BLOCK_DEF)
        hash_comments = True
    if not found:
        return None
    lowered = "\n".join(source).lower()
    pattern = salience.anchors(query, lowered, len(source), rare_share=0.01)
    traced = {g.lower() for m in _FRAME.finditer(earlier) for g in m.groups() if g}
    if follow_calls:  # what the question names, and everything that calls into from there
        named = {b.name.lower() for b in _flat(found) if pattern is not None and pattern.search(b.name.lower())}
        traced = _closure(traced | named, _calls(source, found))
    # Python stays Python (a body of `...` parses); indented languages comment with `#`, the others `//`
    comment = "...  #" if python is not None and found is python else "#" if hash_comments else "//"
    leaves = [b for b in _flat(found) if not b.nested]  # a body that declares names is opened up, never elided
    texts = {id(b): "\n".join(source[b.first: b.last + 1]).lower() for b in leaves}
    named = {id(b) for b in leaves if b.name.lower() in traced or (pattern is not None and (
        pattern.search(b.name.lower()) is not None or pattern.search(source[b.first - 1].lower()) is not None))}
    # the bodies the question points into most (two or more of its rare words), the best few only: a
    # question is about one or two functions, and common words of it are in many
    hits = {id(b): len({m.group() for m in pattern.finditer(texts[id(b)])}) if pattern is not None else 0
            for b in leaves}
    best = sorted((b for b in leaves if hits[id(b)] >= 2), key=lambda b: (-hits[id(b)], b.first))[:max_wanted]
    wanted = named | {id(b) for b in best}
    elided = [b for b in leaves if id(b) not in wanted and b.last - b.first + 1 >= min_body_lines
              and len(texts[id(b)]) >= min_body_chars]
    if not elided:
        return None
    out: list[str] = []
    cursor = 0
    for body in sorted(elided, key=lambda b: b.first):
        out.extend(lines[cursor: body.first])
        indent = re.match(r"\s*", source[body.first]).group(0)  # type: ignore[union-attr]
        marks.offset = offset
        # whose body: the line above says; how long: the span
        out.append(f"{indent}{comment} " + marks.say_lines("body, line", body.first, body.last))
        cursor = body.last + 1
    out.extend(lines[cursor:])
    return out
