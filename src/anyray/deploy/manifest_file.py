"""`anyray redirect --file`: the same change on a local manifest, for people whose cluster follows git.

The file is split into its YAML documents by their `---` lines, and only the documents that change
are re-emitted; every other byte of the file (other documents, separators, comments between them) is
kept as it was. A changed document goes through ruamel.yaml's round-trip mode, which keeps comments,
key order and quoting; its indentation style (`- name:` flush under the key, or indented by two) is
chosen as the one that reproduces the unchanged document exactly, so the diff a reviewer sees is the
env lines and the anyray annotations. A directory is taken as a Kustomize base: the local YAML files
its kustomization lists under `resources` are patched.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from anyray.deploy.redirect import TEMPLATE_PATHS, Plan, RedirectError, apply_plan
from anyray.extras import MissingExtra

try:  # the [k8s] extra: a YAML round trip that keeps comments and layout
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import YAMLError
except ImportError:
    raise MissingExtra("k8s", "ruamel.yaml", "anyray redirect on manifest files") from None

_SEPARATOR = re.compile(r"^(---|\.\.\.)([ \t].*)?\r?\n?$")
# (mapping indent, sequence indent, sequence dash offset): kubectl's style, then Helm's/Kustomize's
_STYLES = ((2, 2, 0), (2, 4, 2), (4, 4, 2), (4, 6, 4))
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass
class Document:
    """One YAML document of a file: its original text, and its parsed form once needed."""

    text: str
    path: Path
    index: int
    data: Any = None
    style: tuple[int, int, int] | None = None
    changed: bool = False

    @property
    def kind(self) -> str | None:
        kind = self.data.get("kind") if isinstance(self.data, dict) else None
        return kind if kind in TEMPLATE_PATHS else None

    def labels(self) -> dict[str, str]:
        meta = self.data.get("metadata") or {}
        return {str(k): str(v) for k, v in (meta.get("labels") or {}).items()}


@dataclass
class ManifestFile:
    path: Path
    chunks: list[str | Document] = field(default_factory=list)  # separators/blank text, and documents
    reformatted: list[str] = field(default_factory=list)  # warnings when a document's style is not kept

    @classmethod
    def read(cls, path: Path) -> ManifestFile:
        text = path.read_text()
        manifest = cls(path)
        current: list[str] = []
        index = 0

        def flush() -> None:
            nonlocal index
            if current:
                manifest.chunks.append(Document("".join(current), path, index))
                index += 1
                current.clear()

        for line in text.splitlines(keepends=True):
            if _SEPARATOR.match(line):
                flush()
                manifest.chunks.append(line)
            else:
                current.append(line)
        flush()
        for doc in manifest.documents():
            try:
                doc.data = _yaml().load(doc.text)
            except YAMLError as exc:
                raise RedirectError(f"{path}: document {doc.index + 1} is not valid YAML: {exc}") from None
        return manifest

    def documents(self) -> Iterator[Document]:
        return (c for c in self.chunks if isinstance(c, Document))

    def workloads(self) -> Iterator[Document]:
        return (d for d in self.documents() if d.kind is not None)

    def apply(self, doc: Document, plan: Plan) -> None:
        apply_plan(doc.data, plan, new_map=CommentedMap)
        doc.changed = True

    def render(self) -> str:
        out: list[str] = []
        for chunk in self.chunks:
            if isinstance(chunk, str):
                out.append(chunk)
            elif not chunk.changed:
                out.append(chunk.text)
            else:
                out.append(self._dump(chunk))
        return "".join(out)

    def write(self) -> None:
        self.path.write_text(self.render())

    def _dump(self, doc: Document) -> str:
        original = _yaml().load(doc.text)  # a fresh, unchanged copy to find the style that reproduces it
        best: tuple[int, tuple[int, int, int]] | None = None
        for style in _STYLES:
            differing = _line_difference(_dump(original, style), doc.text)
            if best is None or differing < best[0]:
                best = (differing, style)
            if differing == 0:
                break
        assert best is not None
        if best[0]:
            self.reformatted.append(
                f"{doc.path}: document {doc.index + 1} mixes YAML indentation styles; "
                f"{best[0]} line(s) besides the env were re-indented"
            )
        text = _dump(doc.data, best[1])
        if doc.text.endswith("\n") is False and text.endswith("\n"):
            text = text[:-1]
        return text


def manifest_paths(path: Path) -> list[Path]:
    """The files to patch: the file itself, or the local YAML resources of a Kustomize base."""
    if not path.exists():
        raise RedirectError(f"{path} does not exist")
    if path.is_file():
        return [path]
    for name in KUSTOMIZATIONS:
        kustomization = path / name
        if kustomization.is_file():
            data = _yaml().load(kustomization.read_text()) or {}
            files = []
            for entry in data.get("resources") or []:
                candidate = path / str(entry)
                if candidate.is_file() and candidate.suffix in (".yaml", ".yml"):
                    files.append(candidate)
            if not files:
                raise RedirectError(f"{kustomization} lists no local YAML files under resources")
            return files
    raise RedirectError(f"{path} is a directory without a kustomization.yaml; pass a manifest file")


def _yaml() -> YAML:
    yaml = YAML()  # round-trip mode: comments, key order, quotes and flow style are kept
    yaml.preserve_quotes = True
    yaml.width = 1 << 16  # never re-wrap long lines
    return yaml


def _dump(data: Any, style: tuple[int, int, int]) -> str:
    yaml = _yaml()
    mapping, sequence, offset = style
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()


def _line_difference(a: str, b: str) -> int:
    import difflib

    return sum(1 for line in difflib.ndiff(a.splitlines(), b.splitlines()) if line[:1] in "+-")
