"""A provider is a module under providers/ plus its config section: nothing else in the package names one
or branches on one (Portkey's shape). The CLI, doctor and render ask the provider classes instead."""

from __future__ import annotations

import ast
import functools
import io
from pathlib import Path

from rich.console import Console

from anyray.cli.up import print_banner
from anyray.config import load_config
from anyray.providers import PROVIDERS
from anyray.server.gateway.gateway import Gateway

PACKAGE = Path(__file__).parents[1] / "src" / "anyray"
# where provider names belong: the providers themselves, the config that enables them, and the fakes of
# their APIs (anyray.testing stands in for each provider, so it is named after them)
ALLOWED = ("providers/", "config/", "testing/")


@functools.cache
def _outside_providers() -> list[tuple[str, ast.AST]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE).as_posix()
        if not rel.startswith(ALLOWED):
            out += [(rel, node) for node in ast.walk(ast.parse(path.read_text()))]
    return out


def _names_provider(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and "provider" in node.attr) or (
        isinstance(node, ast.Name) and "provider" in node.id)


def _compares_a_provider_to_a_name(node: ast.AST) -> bool:
    if not isinstance(node, ast.Compare):
        return False
    sides = (node.left, *node.comparators)
    return any(_names_provider(s) for s in sides) and any(
        isinstance(s, ast.Constant) and s.value in PROVIDERS for s in sides)


def test_no_module_outside_providers_and_config_names_or_branches_on_a_provider():
    # "anthropic" and "openai" are also the names of the two wire dialects (what a client or upstream speaks),
    # so for them the rule is about branching: nothing compares a provider to a name
    wires = ("anthropic", "openai")
    named = [f"{rel}:{node.lineno} {node.value!r}" for rel, node in _outside_providers()
             if isinstance(node, ast.Constant) and node.value in PROVIDERS and node.value not in wires]
    branches = [f"{rel}:{node.lineno}" for rel, node in _outside_providers() if _compares_a_provider_to_a_name(node)]
    # nor reads a provider's config section by name (`config.providers.vertex`)
    sections = [f"{rel}:{node.lineno}" for rel, node in _outside_providers() if isinstance(node, ast.Attribute)
                and node.attr in PROVIDERS and isinstance(node.value, ast.Attribute) and node.value.attr == "providers"]
    assert PROVIDERS.keys() >= {"anthropic", "vertex", "openai"}
    assert named == [] and branches == [] and sections == []


def test_the_up_banner_says_how_to_turn_on_each_provider_that_is_off():
    config = load_config(None, env={"ANTHROPIC_API_KEY": "sk-ant-test-0000000000001234"})
    out = io.StringIO()
    print_banner(config, Gateway(config), Console(file=out, width=200))
    rows = {line.split("│")[0].strip(): line for line in out.getvalue().splitlines() if "│" in line}
    assert "ready" in rows["anthropic"] and "...1234" in rows["anthropic"]
    assert "off" in rows["vertex"] and "providers.vertex.project" in rows["vertex"]
    # the hint names the variable the config reads the key from, brackets and all (no markup eaten)
    assert "off" in rows["openai"] and "export OPENAI_API_KEY=... (or providers.openai.api_key)" in rows["openai"]
