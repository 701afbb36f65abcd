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
TypeScript/JavaScript (tree-sitter) and `code_graph` (keeping the call path's bodies) are not built yet.
"""

from __future__ import annotations

import ast
import re
import warnings

from pydantic import Field

from anyray.server.optimizer.strategies import elide
from anyray.server.optimizer.strategies.base import Context, Params
from anyray.server.optimizer.strategies.tool_output import NUMBERED, ContentStrategy, Output

_FRAME = re.compile(r'line \d+, in ([A-Za-z_]\w*)|\bat (?:[\w.]+\.)?([A-Za-z_]\w*) \(')
_PYTHON_PATH = re.compile(r"\.pyi?$")


class SkeletonParams(Params):
    min_lines: int = Field(40, ge=1, description="shorter files are left alone")
    min_body_lines: int = Field(6, ge=1, description="shorter bodies are kept")


class CodeSkeleton(ContentStrategy):
    kind = "code_skeleton"
    default_enabled = False
    Params = SkeletonParams
    summary = "Python files read back reduced to declarations and signatures; long bodies elided (off by default)"

    def transform(self, output: Output, ctx: Context, params: SkeletonParams, earlier: list[Output]) -> str | None:
        text = output.text
        lines = text.split("\n")
        if len(lines) < params.min_lines or elide.MARKER in text:
            return None
        path = _path(output.tool_input)
        numbered = sum(1 for line in lines[:20] if NUMBERED.match(line)) >= min(len(lines), 20) // 2
        if not (_PYTHON_PATH.search(path) if path else numbered):
            return None
        source = [NUMBERED.sub("", line, count=1) for line in lines] if numbered else lines
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. "invalid decimal literal" in text that is not Python
                tree = ast.parse("\n".join(source))
        except (SyntaxError, ValueError):
            return None
        if not path and not any(isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                                for n in tree.body):
            return None
        asked = set(elide.terms(output.query))
        for other in earlier:  # the call path an earlier traceback shows
            asked.update((m.group(1) or m.group(2)).lower() for m in _FRAME.finditer(other.text))
        spans: list[tuple[int, int, str]] = []  # 0-based first and last line of each elided body
        _collect(tree.body, asked, params.min_body_lines, spans)
        if not spans:
            return None
        handle = ctx.stash(text)
        out: list[str] = []
        cursor = 0
        for first, last, name in sorted(spans):
            out.extend(lines[cursor:first])
            indent = re.match(r"\s*", source[first]).group(0)  # type: ignore[union-attr]
            out.append(f"{indent}...  # {elide.MARKER} body of {name}, lines {first + 1}-{last + 1}, elided; "
                       f"the original is at /v1/retrieve handle {handle}]")
            cursor = last + 1
        out.extend(lines[cursor:])
        return "\n".join(out)


def _path(arguments: object) -> str:
    if isinstance(arguments, dict):
        for key in ("file_path", "path", "filename", "file"):
            if isinstance(arguments.get(key), str):
                return str(arguments[key])
    return ""


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
