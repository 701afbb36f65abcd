"""Which client paths a provider's `passthrough()` may put in front of its base URL, signed with the
gateway's key.

A path the gateway does not model is forwarded as is; the upstream then resolves it with its own
rules. `..` or `.` segments (also spelled `%2e%2e`), an encoded `/` or `\\` (`%2f`, `%5c`), a `%` left
after decoding (double encoding: the upstream would decode it once more), empty segments and control
bytes (NUL) could make the upstream serve something other than what the path names, under the
gateway's credentials. None of them occurs in a real API path (ids are letters, digits, `-`, `_`),
so such a path is refused, never repaired.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

# RFC 3986 pchar minus '%' (nothing may stay encoded) plus '/' between segments
_SAFE = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/]*")
_ENCODED_SEPARATOR = re.compile(r"%(2f|5c)", re.IGNORECASE)


class UnsafePath(ValueError):
    """The path must not go upstream; the message says why, for a 400 in the caller's dialect."""


def upstream_path(raw_path: str) -> str:
    """The path to forward, decoded once and checked; raises UnsafePath. `raw_path` is the path as the
    client sent it (percent-encoding intact), or an already decoded one (then it must be plain)."""
    if _ENCODED_SEPARATOR.search(raw_path):
        raise UnsafePath("the path holds an encoded '/' or '\\' (%2f, %5c)")
    path = unquote(raw_path, errors="replace") if "%" in raw_path else raw_path  # bad UTF-8: U+FFFD, refused
    if not path.startswith("/"):
        raise UnsafePath("the path must start with '/'")
    if not _SAFE.fullmatch(path):
        bad = sorted({c for c in path if not _SAFE.fullmatch(c)})
        shown = ", ".join(repr(c) for c in bad[:5])
        raise UnsafePath(f"the path holds characters no API path has ({shown})")
    segments = path.split("/")[1:]
    if any(s in (".", "..") for s in segments):
        raise UnsafePath("the path holds a '.' or '..' segment")
    if any(not s for s in segments[:-1]):
        raise UnsafePath("the path holds an empty segment ('//')")
    return path
