"""A request's headers as one plain dict, made once per request and kept in its ASGI scope.

Starlette's `Headers` scans the raw header list (encoding the name) on every lookup, and a request
looks up about fifteen of them on its way through the key check, attribution, the optimizer's
allow-list and the provider's signing. One dict made up front answers each in a hash probe.
"""

from __future__ import annotations

from typing import Any

_KEY = "anyray.headers"


def headers_of(scope: dict[str, Any]) -> dict[str, str]:
    """Lower-case names (as ASGI gives them); a repeated header's values joined with ", " (RFC 9110 5.3)."""
    made: dict[str, str] | None = scope.get(_KEY)
    if made is None:
        made = {}
        for raw_name, raw_value in scope["headers"]:
            name, value = raw_name.decode("latin-1"), raw_value.decode("latin-1")
            made[name] = f"{made[name]}, {value}" if name in made else value
        scope[_KEY] = made
    return made
