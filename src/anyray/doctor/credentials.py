"""Checks of what the gateway signs with, one per provider the config uses (each provider says how)."""

from __future__ import annotations

from anyray.doctor import Check, Result, Situation
from anyray.providers import PROVIDERS, Provider


def provider_check(cls: type[Provider]) -> Check:
    def check(s: Situation) -> list[Result]:
        if s.config is None or not cls.used(s.config):
            return []
        return [Result(f.check, f.status, f.found, f.fix)
                for f in cls.credential_findings(cls.settings_of(s.config), s.timeout_s)]

    return check


def checks() -> list[tuple[str, Check]]:
    return [(name, provider_check(cls)) for name, cls in PROVIDERS.items()]
