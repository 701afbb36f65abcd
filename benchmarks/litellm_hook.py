"""The anyray callback's added latency inside the real LiteLLM proxy, with and without it, one run.

    .venv/bin/python -m benchmarks.litellm_hook [--requests 300]

Two LiteLLM proxies (one with `anyray.adapters.litellm.proxy_handler`, one without) in front of the same
fake Anthropic upstream, the optimizer app on its own port; sequential non-streaming requests at one
connection, p50/p99 for each and the difference.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import yaml
from tests.kit import ServerThread

from anyray.server.optimizer.app import create_optimizer_app
from anyray.server.optimizer.engine import Optimizer
from anyray.testing import FakeUpstream

KEY = "sk-ant-bench-000000000000000000000000"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_litellm(config: dict, env: dict, tmp: Path, name: str) -> tuple[subprocess.Popen, str]:
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "litellm.proxy.proxy_cli", "--config", str(path), "--host",
                             "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(url + "/health/liveliness", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError(f"LiteLLM {name} did not start")


def drive(url: str, n: int) -> list[float]:
    body = {"model": "claude-haiku-4-5", "max_tokens": 64000, "messages": [{"role": "user", "content": "hi"}]}
    samples = []
    with httpx.Client(headers={"authorization": "Bearer sk-master"}) as client:
        for i in range(n + 20):
            t = time.perf_counter()
            assert client.post(url + "/v1/messages", json=body, timeout=30).status_code == 200
            if i >= 20:  # warm-up
                samples.append(time.perf_counter() - t)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    fake = FakeUpstream(anthropic_key=KEY)
    with ServerThread(fake.app) as upstream, ServerThread(
        create_optimizer_app(Optimizer(), service_token="", admin_token="")
    ) as opt, tempfile.TemporaryDirectory() as tmp:
        model = {"model_name": "claude-haiku-4-5", "litellm_params": {
            "model": "anthropic/claude-haiku-4-5-20251001", "api_key": KEY, "api_base": upstream.url}}
        base = {"model_list": [model], "general_settings": {"master_key": "sk-master"}}
        hooked = {**base, "litellm_settings": {"callbacks": ["anyray.adapters.litellm.proxy_handler"]}}
        env = {**os.environ, "ANYRAY_OPTIMIZER_URL": opt.url, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "HOME": tmp}
        procs = []
        try:
            plain_proc, plain = start_litellm(base, env, Path(tmp), "plain")
            procs.append(plain_proc)
            hooked_proc, with_hook = start_litellm(hooked, env, Path(tmp), "hooked")
            procs.append(hooked_proc)
            rows = {}
            for name, url in (("without callback", plain), ("with anyray callback", with_hook)):
                s = sorted(drive(url, args.requests))
                rows[name] = (statistics.median(s) * 1000, s[int(len(s) * 0.99) - 1] * 1000)
        finally:
            for p in procs:
                p.terminate()
                p.wait(20)
    for name, (p50, p99) in rows.items():
        print(f"{name:24} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    (a50, a99), (b50, b99) = rows.values()
    print(f"{'added by the hook':24} p50 {b50 - a50:7.2f} ms   p99 {b99 - a99:7.2f} ms")


if __name__ == "__main__":
    main()
