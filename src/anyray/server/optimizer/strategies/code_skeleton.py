"""code_skeleton: a source file read back keeps its declarations and signatures; long bodies are elided.

An agent reads whole files to find one function; every later turn re-sends them. The shape of a file
(imports, constants, classes, signatures, docstrings) is what most later reasoning needs, and the body
that matters is usually the one the question names. Here a Python file read (`Read`/`cat -n` line
numbers allowed) is parsed with the standard library's `ast`; every function or method body longer than
`min_body_lines` becomes one marker line at the body's indentation, unless the question that was live
when the file was read names that function, or an earlier tool output's traceback passes through it
(`File "...", line N, in name`, `at name (`): then it stays whole. Module- and class-level statements,
decorators, signatures and docstrings always stay. Files that do not parse are left alone. Off by
default: an agent about to edit a body must fetch it again (or retrieve it by handle).
TypeScript and JavaScript files (by path) are parsed with tree-sitter's TypeScript grammar (the
`tree-sitter-typescript` package; without it they are left alone): the lines between a long function's
or method's braces become one `//` marker line. `code_graph` (bodies the call graph reaches) is not built.
"""

from __future__ import annotations

import ast
import functools
import re
import warnings
from typing import Any

from pydantic import Field

from anyray.server.optimizer.strategies import elide
from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.tool_output import NUMBERED, ContentStrategy, Output, tool_path

_FRAME = re.compile(r'line \d+, in ([A-Za-z_]\w*)|\bat (?:[\w.]+\.)?([A-Za-z_]\w*) \(')
_PYTHON_PATH = re.compile(r"\.pyi?$")
_TS_PATH = re.compile(r"\.(?:ts|tsx|mts|cts|js|jsx|mjs|cjs)$")


class SkeletonParams(Params):
    min_lines: int = Field(40, ge=1, description="shorter files are left alone")
    min_body_lines: int = Field(6, ge=1, description="shorter bodies are kept")
    min_body_chars: int = Field(300, ge=0, description="so are bodies whose text is barely longer than a marker")


class CodeSkeleton(ContentStrategy):
    kind = "code_skeleton"
    default_enabled = False
    Params = SkeletonParams
    summary = "Python/TypeScript files read back reduced to declarations and signatures (off by default)"

    follow_calls = False

    def transform(self, output: Output, ctx: Context, params: SkeletonParams, earlier: list[Output]) -> str | None:
        text = output.text
        lines = text.split("\n")
        if len(lines) < params.min_lines or elide.MARKER in text:
            return None
        path = tool_path(output.tool_input)
        numbered = sum(1 for line in lines[:20] if NUMBERED.match(line)) >= min(len(lines), 20) // 2
        source = lines
        if numbered:  # only the numbered lines are the file (Claude Code may append a <system-reminder>)
            last = max(i for i, line in enumerate(lines) if NUMBERED.match(line))
            source = [NUMBERED.sub("", line, count=1) for line in lines[: last + 1]]
        if not (_TS_PATH.search(path) or (_PYTHON_PATH.search(path) if path else numbered)):
            return None
        asked = set(elide.terms(output.query))
        for other in earlier:  # the call path an earlier traceback shows
            asked.update(_frames(other.text))
        if _TS_PATH.search(path):
            if self.follow_calls:
                asked = _closure(asked, _typescript_calls("\n".join(source), path))
            spans = _typescript_spans(source, path, asked, params.min_body_lines)
            comment = "//"
        else:
            if self.follow_calls:
                asked = _closure(asked, _python_calls("\n".join(source)))
            spans = _python_spans(source, bool(path), asked, params.min_body_lines)
            comment = "...  #"
        # a marker line costs ~130 characters: a body must be well over that to be worth eliding
        spans = [s for s in spans if sum(len(line) + 1 for line in lines[s[0]: s[1] + 1]) >= params.min_body_chars]
        if not spans:
            return None
        handle = ctx.stash(text)
        out: list[str] = []
        cursor = 0
        for first, last, name in sorted(spans):
            out.extend(lines[cursor:first])
            indent = re.match(r"\s*", source[first]).group(0)  # type: ignore[union-attr]
            out.append(f"{indent}{comment} {elide.MARKER} body of {name}, lines {first + 1}-{last + 1}, elided; "
                       f"the original is at /v1/retrieve handle {handle}]")
            cursor = last + 1
        out.extend(lines[cursor:])
        return "\n".join(out)


class CodeGraph(CodeSkeleton):
    """code_graph: code_skeleton that also keeps whole every body the kept ones call, transitively, within
    the file: the question names `charge`, `charge` calls `_round_cents`, both stay readable."""

    kind = "code_graph"
    default_enabled = False
    summary = "code_skeleton that keeps whole the bodies on the call path from what the question names (off)"
    follow_calls = True


def _closure(asked: set[str], calls: dict[str, frozenset[str]]) -> set[str]:
    """`asked` plus every function of the file that a kept function calls, transitively."""
    kept, todo = set(asked), [name for name in asked if name in calls]
    while todo:
        for callee in calls.get(todo.pop(), ()):
            if callee in calls and callee not in kept:
                kept.add(callee)
                todo.append(callee)
    return kept


@functools.lru_cache(maxsize=32)
def _python_calls(source: str) -> dict[str, frozenset[str]]:
    """Lower-cased function name -> the names it calls (`f(...)`, `obj.f(...)`), for every def in the file."""
    tree = _parse_python(source)
    calls: dict[str, set[str]] = {}
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            mine = calls.setdefault(node.name.lower(), set())
            for inner in ast.walk(node):
                if isinstance(inner, ast.Call):
                    func = inner.func
                    if isinstance(func, ast.Name):
                        mine.add(func.id.lower())
                    elif isinstance(func, ast.Attribute):
                        mine.add(func.attr.lower())
    return {name: frozenset(called) for name, called in calls.items()}


@functools.lru_cache(maxsize=32)
def _typescript_calls(source: str, path: str) -> dict[str, frozenset[str]]:
    tree = _parse_typescript(source, path.endswith(("x", ".js", ".mjs", ".cjs")))
    calls: dict[str, set[str]] = {}

    def called_in(node: Any, into: set[str]) -> None:
        if node.type == "call_expression":
            func = node.child_by_field_name("function")
            if func is not None and func.type == "member_expression":
                func = func.child_by_field_name("property")
            if func is not None and func.type in ("identifier", "property_identifier"):
                into.add(func.text.decode(errors="replace").lower())
        for child in node.named_children:
            called_in(child, into)

    def visit(node: Any, name: str) -> None:
        for child in node.named_children:
            named = child.child_by_field_name("name")
            label = named.text.decode(errors="replace").lower() if named is not None else name
            if child.type in _TS_FUNCTIONS and label:
                called_in(child, calls.setdefault(label, set()))
            visit(child, label)

    if tree is not None:
        visit(tree.root_node, "")
    return {name: frozenset(called) for name, called in calls.items()}


@functools.lru_cache(maxsize=1024)
def _frames(text: str) -> frozenset[str]:
    """Function names in a traceback (Python `line N, in name`, JS/Java `at name (`); once per text."""
    return frozenset((m.group(1) or m.group(2)).lower() for m in _FRAME.finditer(text))


@functools.lru_cache(maxsize=32)
def _parse_python(source: str) -> ast.Module | None:
    """Parsed once per process for each distinct file text: an agent re-sends the same read every turn.
    (Callers only read the tree.)"""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "invalid decimal literal" in text that is not Python
            return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _python_spans(source: list[str], has_path: bool, asked: set[str], min_lines: int) -> list[tuple[int, int, str]]:
    """0-based first and last line of each function body to elide; empty when the text is not Python."""
    tree = _parse_python("\n".join(source))
    if tree is None:
        return []
    if not has_path and not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                                for n in tree.body):
        return []
    spans: list[tuple[int, int, str]] = []
    _collect(tree.body, asked, min_lines, spans)
    return spans


_TS_FUNCTIONS = {"function_declaration", "generator_function_declaration", "method_definition", "function_expression",
                 "arrow_function", "function"}
_TS_CONTAINERS = {"program", "export_statement", "class_declaration", "abstract_class_declaration", "class_body",
                  "class", "lexical_declaration", "variable_declaration", "variable_declarator", "expression_statement",
                  "assignment_expression", "internal_module", "module", "statement_block", "namespace_declaration",
                  "object", "pair", "call_expression", "arguments"}


@functools.cache
def _ts_parser(tsx: bool) -> Any:
    """A tree-sitter parser for TypeScript (or TSX), or None when the grammar package is not installed."""
    try:
        import tree_sitter
        import tree_sitter_typescript
    except ImportError:
        return None
    grammar = tree_sitter_typescript.language_tsx() if tsx else tree_sitter_typescript.language_typescript()
    return tree_sitter.Parser(tree_sitter.Language(grammar))


@functools.lru_cache(maxsize=32)
def _parse_typescript(source: str, tsx: bool) -> Any:
    """The tree-sitter tree, once per process for each distinct file text; None if unparsable or no grammar."""
    parser = _ts_parser(tsx)
    if parser is None:
        return None
    tree = parser.parse(source.encode())
    return None if tree.root_node.has_error else tree


def _typescript_spans(source: list[str], path: str, asked: set[str], min_lines: int) -> list[tuple[int, int, str]]:
    """Interior lines of every long function/method body (the lines between `{` and `}`), outermost only.
    TypeScript's grammar parses JavaScript too; a file with parse errors is left alone."""
    tree = _parse_typescript("\n".join(source), path.endswith(("x", ".js", ".mjs", ".cjs")))
    if tree is None:
        return []
    spans: list[tuple[int, int, str]] = []

    def visit(node: Any, name: str) -> None:
        for child in node.named_children:
            label = name
            named = child.child_by_field_name("name")
            if named is not None:
                label = named.text.decode(errors="replace")
            if child.type in _TS_FUNCTIONS:
                body = child.child_by_field_name("body")
                first, last = (body.start_point[0] + 1, body.end_point[0] - 1) if body is not None else (0, -1)
                if (body is not None and body.type == "statement_block" and last - first + 1 >= min_lines
                        and label.lower() not in asked and source[first - 1].rstrip().endswith("{")
                        and source[last + 1].lstrip().startswith("}")):
                    spans.append((first, last, label or "function"))
                    continue
                visit(child, label)
            elif child.type in _TS_CONTAINERS:
                visit(child, label)

    visit(tree.root_node, "")
    return spans


def _collect(body: list[ast.stmt], asked: set[str], min_lines: int, spans: list[tuple[int, int, str]]) -> None:
    for node in body:
        if isinstance(node, ast.ClassDef):
            _collect(node.body, asked, min_lines, spans)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            statements = node.body
            if (statements and isinstance(statements[0], ast.Expr) and isinstance(statements[0].value, ast.Constant)
                    and isinstance(statements[0].value.value, str)):
                statements = statements[1:]  # the docstring stays
            if not statements or node.name.lower() in asked:
                continue
            first, last = statements[0].lineno - 1, (node.end_lineno or statements[-1].lineno) - 1
            if last - first + 1 >= min_lines:
                spans.append((first, last, node.name))
