"""The optimizer's admin settings and their resolution for one request.

The document (`GET|PUT /admin/optimizer/settings`) is `{defaultsRevision, strategies, rules}`: org-wide
order, switches and params, then rules that override them for requests whose metadata or model match.
A request may narrow the run with `enabledKinds` (the gateway's `x-anyray-optimization-kinds`), except
for strategies a rule or the org locked.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from anyray.config import OptimizerRule, StrategySetting
from anyray.server.optimizer.strategies import REGISTRY
from anyray.server.optimizer.strategies.base import Params, Strategy


class SettingsInvalid(ValueError):
    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        super().__init__(f"{field}: {problem}")


class SettingsDocument(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    defaults_revision: int = Field(1, alias="defaultsRevision", ge=0)
    strategies: list[StrategySetting] = Field(default_factory=list)
    rules: list[OptimizerRule] = Field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


@dataclass(slots=True, frozen=True)
class Planned:
    strategy: Strategy
    params: Params
    enabled: bool
    locked: bool

    @property
    def kind(self) -> str:
        return self.strategy.kind


def parse_document(data: Any) -> SettingsDocument:
    try:
        doc = SettingsDocument.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise SettingsInvalid(".".join(str(p) for p in err["loc"]) or "<body>", err["msg"]) from None
    for where, settings in [("strategies", doc.strategies)] + [
        (f"rules.{i}.strategies", r.strategies) for i, r in enumerate(doc.rules)
    ]:
        for j, s in enumerate(settings):
            strategy = REGISTRY.get(s.kind)
            if strategy is None:
                raise SettingsInvalid(f"{where}.{j}.kind", f"unknown strategy {s.kind!r}; known: {', '.join(REGISTRY)}")
            try:
                strategy.Params.model_validate(s.params)
            except ValidationError as exc:
                err = exc.errors()[0]
                field = ".".join(str(p) for p in err["loc"])
                raise SettingsInvalid(f"{where}.{j}.params.{field}", err["msg"]) from None
    return doc


class Resolver:
    """Turns the document into a run plan per request; plans are memoised by which rules matched."""

    def __init__(self, doc: SettingsDocument) -> None:
        self.doc = doc
        self._plans: dict[tuple[int, ...], list[Planned]] = {}

    def matching_rules(self, metadata: dict[str, Any], model: str, asked_model: str) -> tuple[int, ...]:
        out = []
        for i, rule in enumerate(self.doc.rules):
            if all(_matches(key, pattern, metadata, model, asked_model) for key, pattern in rule.match.items()):
                out.append(i)
        return tuple(out)

    def plan(self, metadata: dict[str, Any], model: str, asked_model: str = "") -> list[Planned]:
        matched = self.matching_rules(metadata, model, asked_model)
        plan = self._plans.get(matched)
        if plan is None:
            plan = self._plans[matched] = self._build(matched)
        return plan

    def _build(self, matched: tuple[int, ...]) -> list[Planned]:
        order = [s.kind for s in self.doc.strategies] + [k for k in REGISTRY if k not in {
            s.kind for s in self.doc.strategies}]
        state: dict[str, dict[str, Any]] = {
            k: {"enabled": REGISTRY[k].default_enabled, "locked": False, "params": {}} for k in order
        }
        layers = [self.doc.strategies] + [self.doc.rules[i].strategies for i in matched]
        for layer in layers:
            for s in layer:
                st = state[s.kind]
                if s.enabled is not None:
                    st["enabled"] = s.enabled
                st["locked"] = st["locked"] or s.locked
                st["params"] = {**st["params"], **s.params}
        return [
            Planned(REGISTRY[k], REGISTRY[k].Params.model_validate(state[k]["params"]), state[k]["enabled"],
                    state[k]["locked"])
            for k in order
        ]


def _matches(key: str, pattern: str, metadata: dict[str, Any], model: str, asked_model: str) -> bool:
    if key == "model":
        return fnmatch.fnmatchcase(model, pattern) or fnmatch.fnmatchcase(asked_model, pattern)
    value = metadata.get(key)
    if value is None and isinstance(metadata.get("tags"), dict):
        value = metadata["tags"].get(key)
    return value is not None and fnmatch.fnmatchcase(str(value), pattern)
