"""Prompt-cache accounting by Anthropic's published rules, so savings can be measured, not assumed.

The prompt is the sequence tools → system → messages, block by block. A block with `cache_control` is a
breakpoint; at most four are allowed. A request reads the longest prefix that an earlier request wrote
(looking back up to 20 blocks from each breakpoint, as the API does), writes the prefix up to its last
breakpoint that is long enough to cache, and pays full price for the rest. Entries live 5 minutes (or
an hour with `ttl: "1h"`), refreshed on every read, scoped to one organisation (key or project).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from anyray.testing.reply import estimate_tokens

MAX_BREAKPOINTS = 4
LOOKBACK_BLOCKS = 20


class TooManyBreakpoints(ValueError):
    def __init__(self, found: int) -> None:
        super().__init__(f"A maximum of {MAX_BREAKPOINTS} blocks with cache_control may be provided. Found {found}.")


@dataclass(slots=True)
class CacheUsage:
    input_tokens: int
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    ephemeral_5m: int = 0
    ephemeral_1h: int = 0

    def as_anthropic(self) -> dict[str, Any]:
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": self.cache_creation_input_tokens,
            "cache_read_input_tokens": self.cache_read_input_tokens,
            "cache_creation": {
                "ephemeral_5m_input_tokens": self.ephemeral_5m,
                "ephemeral_1h_input_tokens": self.ephemeral_1h,
            },
        }


def _blocks(payload: dict[str, Any]) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [t for t in payload.get("tools") or () if isinstance(t, dict)]
    system = payload.get("system")
    if isinstance(system, str):
        blocks.append({"type": "text", "text": system})
    elif isinstance(system, list):
        blocks += [b for b in system if isinstance(b, dict)]
    for message in payload.get("messages") or ():
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        role = message.get("role")
        if isinstance(content, str):
            blocks.append({"role": role, "type": "text", "text": content})
        elif isinstance(content, list):
            blocks += [{"role": role, **b} for b in content if isinstance(b, dict)]
    return blocks


def count_breakpoints(payload: dict[str, Any]) -> int:
    return sum(1 for b in _blocks(payload) if b.get("cache_control"))


@dataclass
class PromptCache:
    min_tokens: int = 1024
    entries: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)  # -> (expiry, ttl)

    def account(self, org: str, payload: dict[str, Any], now: float | None = None) -> CacheUsage:
        now = time.monotonic() if now is None else now
        blocks = _blocks(payload)
        breakpoints = [i for i, b in enumerate(blocks) if b.get("cache_control")]
        if len(breakpoints) > MAX_BREAKPOINTS:
            raise TooManyBreakpoints(len(breakpoints))
        hashes, cumulative = [], []
        digest = hashlib.sha256()
        total = 0
        for block in blocks:
            bare = {k: v for k, v in block.items() if k != "cache_control"}
            digest.update(orjson.dumps(bare, option=orjson.OPT_SORT_KEYS))
            hashes.append(digest.copy().hexdigest())
            total += estimate_tokens(bare)
            cumulative.append(total)
        total = max(total, 1)

        read_at = -1
        for bp in breakpoints:
            for i in range(bp, max(bp - LOOKBACK_BLOCKS, -1), -1):
                entry = self.entries.get((org, hashes[i]))
                if entry and entry[0] > now and i > read_at:
                    read_at = i
                    break
        read = cumulative[read_at] if read_at >= 0 else 0
        if read_at >= 0:
            ttl = self.entries[(org, hashes[read_at])][1]
            self.entries[(org, hashes[read_at])] = (now + ttl, ttl)

        usage = CacheUsage(input_tokens=0, cache_read_input_tokens=read)
        cacheable = [bp for bp in breakpoints if cumulative[bp] >= self.min_tokens]
        if cacheable and cacheable[-1] > read_at:
            last = cacheable[-1]
            written = cumulative[last] - read
            one_hour = (blocks[last].get("cache_control") or {}).get("ttl") == "1h"
            usage.cache_creation_input_tokens = written
            if one_hour:
                usage.ephemeral_1h = written
            else:
                usage.ephemeral_5m = written
            for bp in cacheable:
                if bp > read_at:
                    ttl = 3600.0 if (blocks[bp].get("cache_control") or {}).get("ttl") == "1h" else 300.0
                    self.entries[(org, hashes[bp])] = (now + ttl, ttl)
        usage.input_tokens = max(total - usage.cache_read_input_tokens - usage.cache_creation_input_tokens, 0)
        return usage

    def openai_cached_tokens(self, org: str, prompt: Any, now: float | None = None) -> tuple[int, int]:
        """OpenAI caches automatically: a repeated prefix of 1024+ tokens is read in 128-token steps."""
        now = time.monotonic() if now is None else now
        tokens = estimate_tokens(prompt)
        key = (org, hashlib.sha256(orjson.dumps(prompt, option=orjson.OPT_SORT_KEYS)).hexdigest())
        cached = 0
        entry = self.entries.get(key)
        if entry and entry[0] > now and tokens >= 1024:
            cached = (tokens // 128) * 128
        if tokens >= 1024:
            self.entries[key] = (now + 300.0, 300.0)
        return tokens, cached
