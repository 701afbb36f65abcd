"""The processes a benchmark drives: the lean fake upstream, anyray (in-process or HTTP optimizer), LiteLLM.

Each server runs in its own process (so each gets a core's worth of scheduling and its own GIL), on
loopback ports the kernel picked. The anyray stack is the one `anyray up` runs, with every feature on:
the optimizer, the SQLite spend store, metrics, translation; only the banner goes to a log file.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.bench.procs import Child, Usage, free_port
from benchmarks.bench.scenarios import CLIENT_KEY, MODEL

TARGETS = ("direct", "passthrough", "anyray", "anyray-http", "anyray-w<N>", "litellm")


@dataclass(slots=True)
class Target:
    """Something to drive: its base URL and the process whose RSS/CPU is its cost (none for direct)."""

    name: str
    url: str
    process: Child | None = None
    helpers: list[Child] = field(default_factory=list)  # e.g. the optimizer behind anyray-http

    def usage(self) -> Usage | None:
        return self.process.usage() if self.process is not None else None

    def decisions(self) -> tuple[float, float] | None:
        """(count, seconds) of the optimizer decisions the gateway waited for, read off its /metrics
        (anyray_optimizer_decision_seconds, every outcome); None for a target that is not an anyray gateway."""
        if not self.name.startswith("anyray"):
            return None
        try:
            text = httpx.get(self.url + "/metrics", timeout=10).text  # /metrics asks for no key
        except httpx.HTTPError:
            return None
        count = seconds = 0.0
        for family in text_string_to_metric_families(text):
            if family.name == "anyray_optimizer_decision_seconds":
                for sample in family.samples:
                    if sample.name.endswith("_count"):
                        count += sample.value
                    elif sample.name.endswith("_sum"):
                        seconds += sample.value
        return count, seconds


def litellm_installed() -> bool:
    return importlib.util.find_spec("litellm") is not None


def _get_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


def _post_ok(url: str) -> bool:
    try:
        return httpx.post(url, content=b'{"model":"probe"}', timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


class Stack:
    """Start what was asked for; `targets` maps a name to what to drive. Use as a context manager."""

    def __init__(self, wanted: list[str], work: Path | None = None, stream_seconds: float = 0.0,
                 connections: int = 0) -> None:
        self.wanted = wanted
        self.stream_seconds = stream_seconds  # the fake holds each stream open this long (benchmarks/bench/streams.py)
        self.connections = connections  # client connections anyray must take at once (0: its defaults)
        self.work = work or Path(tempfile.mkdtemp(prefix="anyray-bench-"))
        self._own_work = work is None
        self.children: list[Child] = []
        self.targets: dict[str, Target] = {}
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", "ANYRAY_HOME": str(self.work), "NO_PROXY": "*"}
        self.env.pop("ANYRAY_CONFIG", None)

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> Child:
        child = Child(name, argv, env or self.env, self.work)
        self.children.append(child)
        return child

    def _config(self, upstream: str, optimizer_url: str | None, name: str) -> Path:
        config = {
            "providers": {"anthropic": {"base_url": upstream, "api_key": "bench-upstream-key"}},
            "models": {"claude-*": {"provider": "anthropic"}},
            "store": {"url": f"sqlite:///{self.work / (name + '-spend.db')}"},
        }
        if optimizer_url:
            config["optimizer"] = {"url": optimizer_url}
        if self.connections:  # a platform engineer raises these for thousands of open streams
            config["gateway"] = {"limits": {"max_connections": self.connections + 256,
                                            "max_connections_per_upstream": self.connections + 256}}
        path = self.work / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    def start(self) -> Stack:
        py = sys.executable
        port = free_port()
        upstream = f"http://127.0.0.1:{port}"
        lean = self._spawn("upstream", [py, "-m", "anyray.testing.lean", "--port", str(port),
                                        "--stream-seconds", str(self.stream_seconds)])
        lean.wait_ready(lambda: _post_ok(upstream + "/v1/messages"), 20)
        self.targets["direct"] = Target("direct", upstream, lean)
        starting: list[tuple[Target, str, float]] = []
        if "passthrough" in self.wanted:
            pt = free_port()
            child = self._spawn("passthrough", [py, "-m", "benchmarks.bench.passthrough", "--upstream", upstream,
                                                "--port", str(pt)])
            starting.append((Target("passthrough", f"http://127.0.0.1:{pt}", child), "/", 30))
        if "anyray" in self.wanted:
            gw, opt = free_port(), free_port()
            cfg = self._config(upstream, None, "anyray")
            child = self._spawn("anyray", [py, "-m", "anyray", "up", "--config", str(cfg), "--port", str(gw),
                                           "--optimizer-port", str(opt)])
            starting.append((Target("anyray", f"http://127.0.0.1:{gw}", child), "/healthz", 60))
        if "anyray-http" in self.wanted:
            gw, opt = free_port(), free_port()
            optimizer_url = f"http://127.0.0.1:{opt}"
            cfg = self._config(upstream, optimizer_url, "anyray-http")
            helper = self._spawn("optimizer", [py, "-m", "anyray", "serve", "optimizer", "--config", str(cfg),
                                               "--port", str(opt)])
            helper.wait_ready(lambda: _get_ok(optimizer_url + "/healthz"), 60)
            child = self._spawn("anyray-http", [py, "-m", "anyray", "serve", "gateway", "--config", str(cfg),
                                                "--port", str(gw)])
            starting.append((Target("anyray-http", f"http://127.0.0.1:{gw}", child, [helper]), "/healthz", 60))
        for name in self.wanted:  # `anyray serve gateway --workers N`, in-process optimizer, as anyray's config
            if name.startswith("anyray-w"):
                gw = free_port()
                cfg = self._config(upstream, None, name)
                child = self._spawn(name, [py, "-m", "anyray", "serve", "gateway", "--config", str(cfg),
                                           "--port", str(gw), "--workers", name.removeprefix("anyray-w")])
                starting.append((Target(name, f"http://127.0.0.1:{gw}", child), "/healthz", 60))
        if "litellm" in self.wanted:
            starting.append((self._litellm(upstream), "/health/liveliness", 180))
        for target, probe, timeout in starting:
            assert target.process is not None
            target.process.wait_ready(lambda t=target, p=probe: _get_ok(t.url + p), timeout)
            self.targets[target.name] = target
        return self

    def _litellm(self, upstream: str) -> Target:
        port = free_port()
        config = {
            "model_list": [{"model_name": MODEL, "litellm_params": {
                "model": f"anthropic/{MODEL}", "api_base": upstream, "api_key": "bench-upstream-key"}}],
            "litellm_settings": {"drop_params": True},
        }
        path = self.work / "litellm.yaml"
        path.write_text(yaml.safe_dump(config))
        env = {**self.env, "HOME": str(self.work), "LITELLM_LOCAL_MODEL_COST_MAP": "True", "LITELLM_LOG": "ERROR",
               "LITELLM_MASTER_KEY": CLIENT_KEY}
        child = self._spawn("litellm", [sys.executable, "-m", "litellm.proxy.proxy_cli", "--config", str(path),
                                        "--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"], env)
        return Target("litellm", f"http://127.0.0.1:{port}", child)

    def stop(self) -> None:
        for child in reversed(self.children):
            with contextlib.suppress(Exception):
                child.stop()
        if self._own_work:
            shutil.rmtree(self.work, ignore_errors=True)

    def __enter__(self) -> Stack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
