"""`anyray connect`: the redirect move for a person's own machine, in the two places base URLs live.

- Claude Code's user settings (`~/.claude/settings.json`): its `env` block, which Claude Code applies
  to every session. Only the keys anyray sets are touched; what they held before is kept in a small
  state file (`~/.anyray/connect.json`), so `--revert` puts them back. When the settings file is still
  exactly what connect wrote, revert writes back the original bytes; if the person edited it since,
  revert restores just those keys and leaves their edits.
- A shell profile (`~/.zshrc`, `~/.bashrc` or `~/.profile`, by `$SHELL`): one block between marker
  lines, replaced in place when connect runs again and cut out, byte for byte, by `--revert`.

Each change is computed as (path, old text, new text) first, so `--dry-run` can show the diff and
applying twice is the same as once.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anyray.deploy.redirect import target_env

BLOCK_START = "# >>> anyray connect >>>"
BLOCK_END = "# <<< anyray connect <<<"
NEWLINE_ADDED = " (a newline was added above)"
DEFAULT_GATEWAY = "http://127.0.0.1:8787"
TARGETS = ("claude-code", "shell")


class ConnectError(Exception):
    """A file connect will not edit, as a sentence."""


@dataclass
class FileChange:
    path: Path
    old: str | None  # None: the file does not exist
    new: str | None  # None: remove the file (connect created it)

    @property
    def changed(self) -> bool:
        return self.old != self.new

    def apply(self) -> None:
        if self.new is None:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(self.new)


def state_path(home: Path) -> Path:
    return home / ".anyray" / "connect.json"


def claude_settings_path(home: Path) -> Path:
    return home / ".claude" / "settings.json"


def shell_profile_path(home: Path, shell: str | None = None) -> Path:
    name = Path(shell or os.environ.get("SHELL", "")).name
    if name == "zsh":
        return home / ".zshrc"
    if name == "bash":
        return home / ".bashrc"
    return home / ".profile"


def _read(path: Path) -> str | None:
    return path.read_text() if path.exists() else None


def _load_state(home: Path) -> dict[str, Any]:
    text = _read(state_path(home))
    return json.loads(text) if text else {}


def _state_change(home: Path, state: dict[str, Any]) -> FileChange:
    path = state_path(home)
    new = json.dumps(state, indent=2) + "\n" if state else None
    return FileChange(path, _read(path), new)


# -- Claude Code settings ------------------------------------------------------------------------------


def _indent_of(text: str) -> int:
    match = re.search(r"^( +)\S", text, re.MULTILINE)
    return len(match.group(1)) if match else 2


def _parse_settings(path: Path, text: str | None) -> dict[str, Any]:
    if not text or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConnectError(f"{path} is not valid JSON ({exc}); fix it, then run connect again") from None
    if not isinstance(data, dict) or not isinstance(data.get("env", {}), dict):
        raise ConnectError(f"{path}: expected a JSON object with an object `env`; left unchanged")
    return data


def _dump_settings(data: dict[str, Any], like: str | None) -> str:
    return json.dumps(data, indent=_indent_of(like or ""), ensure_ascii=False) + "\n"


def claude_connect(home: Path, env: dict[str, str], state: dict[str, Any]) -> FileChange:
    path = claude_settings_path(home)
    old = _read(path)
    data = _parse_settings(path, old)
    record = state.get("claude-code")
    if record is None:  # first connect: remember the original bytes and the values replaced
        block = data.get("env") or {}
        record = {"original": old, "previous": {k: block.get(k) for k in env}}
    else:
        for key in env:
            record["previous"].setdefault(key, (data.get("env") or {}).get(key))
    data.setdefault("env", {}).update(env)
    new = _dump_settings(data, old)
    record["written"] = new
    state["claude-code"] = record
    return FileChange(path, old, new)


def claude_revert(home: Path, state: dict[str, Any]) -> FileChange | None:
    record = state.pop("claude-code", None)
    if record is None:
        return None
    path = claude_settings_path(home)
    old = _read(path)
    if old == record.get("written"):  # untouched since connect: give back the exact original bytes
        return FileChange(path, old, record.get("original"))
    data = _parse_settings(path, old)
    block = data.get("env")
    if isinstance(block, dict):
        for key, value in record["previous"].items():
            if value is None:
                block.pop(key, None)
            else:
                block[key] = value
        if not block and "env" not in _parse_settings(path, record.get("original")):
            del data["env"]
    return FileChange(path, old, _dump_settings(data, old))


# -- shell profile ---------------------------------------------------------------------------------------


def _block(env: dict[str, str], newline_added: bool) -> str:
    start = BLOCK_START + (NEWLINE_ADDED if newline_added else "")
    exports = "".join(f"export {k}={_shell_quote(v)}\n" for k, v in env.items())
    return f"{start}\n# the LLM SDKs and Claude Code go through the anyray gateway\n{exports}{BLOCK_END}\n"


def _shell_quote(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9_./:@%+=,-]+", value) else "'" + value.replace("'", "'\\''") + "'"


_BLOCK_RE = re.compile(
    re.escape(BLOCK_START) + r"(?P<added>" + re.escape(NEWLINE_ADDED) + r")?\n.*?" + re.escape(BLOCK_END) + r"\n?", re.S
)


def shell_connect(path: Path, env: dict[str, str]) -> FileChange:
    old = _read(path)
    text = old or ""
    match = _BLOCK_RE.search(text)
    if match:  # already connected: replace the block where it stands
        block = _block(env, bool(match["added"]))
        return FileChange(path, old, text[: match.start()] + block + text[match.end() :])
    newline_added = bool(text) and not text.endswith("\n")
    return FileChange(path, old, text + ("\n" if newline_added else "") + _block(env, newline_added))


def shell_revert(path: Path, created: bool) -> FileChange | None:
    old = _read(path)
    if old is None:
        return None
    match = _BLOCK_RE.search(old)
    if not match:
        return None
    start = match.start() - (1 if match["added"] and old[: match.start()].endswith("\n") else 0)
    new = old[:start] + old[match.end() :]
    return FileChange(path, old, None if created and new == "" else new)


# -- the whole move --------------------------------------------------------------------------------------


def uses_vertex(home: Path, environ: Mapping[str, str] | None = None) -> bool:
    """Whether this person's Claude Code runs on Vertex AI (`CLAUDE_CODE_USE_VERTEX` in its settings or the
    shell): it then ignores ANTHROPIC_BASE_URL and calls ANTHROPIC_VERTEX_BASE_URL instead."""
    path = claude_settings_path(home)
    settings_env = _parse_settings(path, _read(path)).get("env") or {}
    value = settings_env.get("CLAUDE_CODE_USE_VERTEX", (environ or {}).get("CLAUDE_CODE_USE_VERTEX", ""))
    return str(value).strip().lower() not in ("", "0", "false", "no")


def plan_connect(home: Path, targets: list[str], gateway: str, shell_profile: Path | None = None,
                 environ: Mapping[str, str] | None = None) -> list[FileChange]:
    env = target_env(gateway, "both")
    state = _load_state(home)
    changes: list[FileChange] = []
    if "claude-code" in targets:
        claude_env = {"ANTHROPIC_BASE_URL": env["ANTHROPIC_BASE_URL"]}
        if uses_vertex(home, environ):  # the gateway serves Vertex's paths under /v1 (docs/gateway.md)
            claude_env["ANTHROPIC_VERTEX_BASE_URL"] = env["ANTHROPIC_BASE_URL"] + "/v1"
        changes.append(claude_connect(home, claude_env, state))
    if "shell" in targets:
        path = shell_profile or shell_profile_path(home)
        change = shell_connect(path, env)
        shell_state = state.setdefault("shell", {})
        shell_state.setdefault(str(path), {"created": change.old is None})
        changes.append(change)
    changes.append(_state_change(home, state))
    return [c for c in changes if c.changed]


def plan_revert(home: Path, targets: list[str], shell_profile: Path | None = None) -> list[FileChange]:
    state = _load_state(home)
    changes: list[FileChange | None] = []
    if "claude-code" in targets:
        changes.append(claude_revert(home, state))
    if "shell" in targets:
        profiles = state.get("shell", {})
        paths = [str(shell_profile)] if shell_profile else list(profiles) or [str(shell_profile_path(home))]
        for p in paths:
            record = profiles.pop(p, {"created": False})
            changes.append(shell_revert(Path(p), record["created"]))
        if not profiles:
            state.pop("shell", None)
    changes.append(_state_change(home, state))
    return [c for c in changes if c is not None and c.changed]
