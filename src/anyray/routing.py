"""Model routing: what a client asks for -> an ordered list of (provider, upstream model) to try.

Routing is the gateway's job, not an optimizer strategy: it decides where a request may legally go,
while strategies only decide how to shape it. Exact ids win over globs; globs are tried in the order
the config lists them, so a specific pattern placed first beats `claude-*`.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from anyray.config import Config, ModelRoute, ModelTarget


@dataclass(frozen=True, slots=True)
class Target:
    provider: str  # the provider's name: what is priced, counted and reported
    model: str
    key: str = ""  # the provider instance that serves it (`vertex@europe-west1`): what is called

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.provider)


@dataclass(frozen=True, slots=True)
class Route:
    asked: str
    targets: tuple[Target, ...]

    @property
    def primary(self) -> Target:
        return self.targets[0]


class UnknownModel(LookupError):
    def __init__(self, asked: str, known: list[str]) -> None:
        self.asked = asked
        self.known = known
        super().__init__(f"model {asked!r} is not configured; configured models: {', '.join(known) or '(none)'}")


class Router:
    def __init__(self, config: Config, available: set[str] | None = None) -> None:
        self._map = config.model_map()
        self._available = available
        self._exact = {k: v for k, v in self._map.items() if not _is_glob(k)}
        self._globs = [(k, v) for k, v in self._map.items() if _is_glob(k)]
        self._cache: dict[str, Route] = {}

    @property
    def patterns(self) -> list[str]:
        return list(self._map)

    def resolve(self, asked: str) -> Route:
        route = self._cache.get(asked)
        if route is not None:
            return route
        entry = self._exact.get(asked) or next((v for k, v in self._globs if fnmatchcase(asked, k)), None)
        if entry is None:
            raise UnknownModel(asked, self.patterns)
        route = Route(asked, _targets(asked, entry, self._available))
        if not route.targets:
            raise UnknownModel(asked, self.patterns)
        if len(self._cache) < 4096:
            self._cache[asked] = route
        return route


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def _targets(asked: str, entry: ModelRoute, available: set[str] | None) -> tuple[Target, ...]:
    chain: list[ModelTarget] = [entry, *entry.fallbacks]
    out = []
    for t in chain:
        if available is not None and t.key not in available:
            continue
        out.append(Target(t.provider, t.model.replace("{model}", asked), t.key))
    return tuple(out)
