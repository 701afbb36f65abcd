"""Driving a target with wrk (Debian's package): a Lua script for the POST, a done() hook for the numbers.

wrk is C and multiplexes connections on one thread, so it is never the bottleneck here; it runs for a
duration rather than a request count, and it cannot see the first byte of a body (no TTFB).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'ANYRAY_WRK {"requests":%d,"duration_us":%d,"status_errors":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


@dataclass(slots=True)
class WrkResult:
    requests: int
    elapsed_s: float
    non_2xx: int
    socket_errors: int
    p50_s: float
    p90_s: float
    p99_s: float


def _lua_string(value: str) -> str:
    return json.dumps(value)  # a JSON string literal is a valid Lua string literal for ASCII text


def script(body: bytes, headers: dict[str, str]) -> str:
    lines = ['wrk.method = "POST"', f"wrk.body = {_lua_string(body.decode())}"]
    lines += [f"wrk.headers[{_lua_string(k)}] = {_lua_string(v)}" for k, v in headers.items()]
    return "\n".join(lines) + "\n" + _DONE


def run_wrk(url: str, body: bytes, headers: dict[str, str], connections: int, duration_s: float) -> WrkResult:
    exe = wrk_path()
    if exe is None:
        raise RuntimeError("wrk is not installed")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script(body, headers))
        lua = f.name
    try:
        out = subprocess.run(
            [exe, "-t1", f"-c{connections}", f"-d{max(1, round(duration_s))}s", "--timeout", "10s", "-s", lua, url],
            capture_output=True, text=True, timeout=duration_s + 60, check=False,
        )
    finally:
        Path(lua).unlink(missing_ok=True)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("ANYRAY_WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk failed ({out.returncode}): {out.stderr or out.stdout}")
    data = json.loads(line.removeprefix("ANYRAY_WRK "))
    return WrkResult(
        requests=data["requests"],
        elapsed_s=data["duration_us"] / 1e6,
        non_2xx=data["status_errors"],
        socket_errors=data["connect"] + data["read"] + data["write"] + data["timeout"],
        p50_s=data["p50_us"] / 1e6,
        p90_s=data["p90_us"] / 1e6,
        p99_s=data["p99_us"] / 1e6,
    )
