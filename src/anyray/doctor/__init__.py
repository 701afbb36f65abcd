"""`anyray doctor`: checks that each say what was found and how to fix it, bounded in time.

A check is a function of the `Situation` returning one or more `Result`s. The runner gives each check
its own thread and a deadline: a hung endpoint becomes a `fail` with "no answer within N s", never a
hang. No check prints a secret: keys are shown as present/absent and their last four characters.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from anyray.config import Config, ConfigError, load_config

Status = Literal["ok", "warn", "fail"]


@dataclass(slots=True)
class Result:
    check: str
    status: Status
    found: str
    fix: str = ""

    def as_json(self) -> dict[str, str]:
        return asdict(self)


@dataclass
class Situation:
    """What the checks look at: the config (or why it failed), where the gateway is, the environment."""

    config_path: str | None
    env: Mapping[str, str]
    gateway_url: str | None = None
    compose: bool = False
    gke: bool = False
    timeout_s: float = 5.0
    config: Config | None = None
    config_error: ConfigError | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    gce: bool = False

    def load(self) -> Situation:
        try:
            self.config = load_config(self.config_path, self.env)
        except ConfigError as exc:
            self.config_error = exc
        return self

    @property
    def gateway(self) -> str:
        if self.gateway_url:
            return self.gateway_url.rstrip("/")
        g = self.config.gateway if self.config else None
        host = "127.0.0.1" if not g or g.host in ("0.0.0.0", "::") else g.host
        return f"http://{host}:{g.port if g else 8787}"

    @property
    def config_file(self) -> Path | None:
        return Path(self.config_path) if self.config_path else None


Check = Callable[[Situation], "Result | list[Result]"]


def run_checks(situation: Situation, checks: list[tuple[str, Check]]) -> list[Result]:
    results: list[Result] = []
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(len(checks), 1), thread_name_prefix="doctor")
    futures = [(name, pool.submit(check, situation)) for name, check in checks]
    for name, future in futures:
        try:
            out = future.result(timeout=situation.timeout_s + 1.0)
        except concurrent.futures.TimeoutError:
            out = Result(name, "fail", f"no answer within {situation.timeout_s:.0f} s",
                         "something this check talks to is hung; see the other checks")
        except Exception as exc:  # a check's own bug is reported, never a traceback
            out = Result(name, "fail", f"the check itself failed: {type(exc).__name__}: {exc}")
        results.extend(out if isinstance(out, list) else [out])
    pool.shutdown(wait=False, cancel_futures=True)
    return results
