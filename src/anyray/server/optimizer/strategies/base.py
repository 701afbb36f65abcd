"""The shape every strategy has: a kind name, a default, typed params, one entry point.

A strategy never mutates the request it is given: it returns a new one that shares every part it did
not change (copy on write). That keeps the gateway's original intact for fail-open, lets the engine
tell "changed" from "unchanged" by identity, and makes a transform cheap on a 76 KB body.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(slots=True)
class Context:
    """What a strategy may know about a request besides its body: never a credential."""

    endpoint: str
    route: dict[str, Any]
    metadata: dict[str, Any]
    headers: dict[str, str]
    handle_for: Callable[[str], str] | None = None
    stashed: dict[str, str] = field(default_factory=dict)
    # the question each long text was first shrunk for (content/first_seen.py): None, the text's own turn's
    first_seen: Any = None
    renderings: Any = None  # the optimizer's memo of shrunk pieces (content/compress.Renderings)
    # what a strategy worked out for this request before rewriting its pieces one by one
    notes: dict[str, Any] = field(default_factory=dict)
    # what one strategy derived from a request, for the next ones while the request is the same object
    # (strategies copy on write, so identity means unchanged): e.g. the tool outputs four strategies walk
    _derived: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def derived(self, name: str, request: dict[str, Any], make: Callable[[dict[str, Any]], Any]) -> Any:
        """`make(request)`, computed once per request object (the result must not be mutated)."""
        kept = self._derived.get(name)
        if kept is not None and kept[0] is request:
            return kept[1]
        value = make(request)
        self._derived[name] = (request, value)
        return value

    @property
    def model(self) -> str:
        return str(self.route.get("model") or "")

    def stash(self, content: str) -> str:
        """Keep `content` reachable through /v1/retrieve; returns its handle at once (the engine stores it
        after the pipeline). The handle depends only on the content, so a marker stays byte-identical."""
        if self.handle_for is None:
            raise RuntimeError("this context has no stash")
        handle = self.handle_for(content)
        self.stashed[handle] = content
        return handle


@dataclass(slots=True)
class Decision:
    """Content-free: what kind of change, described by numbers and field names, never by text."""

    kind: str
    changed: str
    tokens_before: int = 0
    tokens_after: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        saving = max(self.tokens_before - self.tokens_after, 0)
        out = {
            "kind": self.kind,
            "changed": self.changed,
            "tokensBefore": self.tokens_before,
            "tokensAfter": self.tokens_after,
            "estimatedSavingTokens": saving,
        }
        if self.details:
            out["details"] = self.details
        return out


@dataclass(slots=True)
class Applied:
    request: dict[str, Any]
    decision: Decision
    preserved: list[str] = field(default_factory=list)


@dataclass(slots=True)
class NotApplied:
    """Why a strategy left the request alone, for `x-anyray-optimization-result`."""

    reason: str
    preserved: list[str] = field(default_factory=list)
    quiet: bool = False  # nothing there for this strategy to look at (no tool output): not worth reporting


class Strategy:
    kind: ClassVar[str]
    default_enabled: ClassVar[bool]
    endpoints: ClassVar[tuple[str, ...]] = ("/v1/messages", "/v1/chat/completions")
    Params: ClassVar[type[Params]] = Params
    summary: ClassVar[str] = ""

    def apply(self, request: dict[str, Any], ctx: Context, params: Any) -> Applied | NotApplied:
        raise NotImplementedError
