"""The soak's clients: open-loop traffic with planned faults, stalled readers, slowloris connections.

Traffic: request n is one of Anthropic messages (claude-sonnet-4-5), OpenAI chat translated to Claude
(claude-haiku-4-5) or OpenAI chat relayed to OpenAI (gpt-4o-mini), a quarter streamed. Its text is
`soak request <n>`, plus ` fault=<kind>` for the planned 1 %, which the fake upstream applies on the
first attempt (benchmarks/soak/upstream.py); every request carries `x-anyray-metadata: app=...;n=<n>`
so each spend record can be matched to the request it belongs to. Only a stream cut mid-way may reach
a client (its bytes were already relayed: no retry is possible); every other fault must be retried
by the gateway and answered.

Stalled reader: a raw socket with a 4 KiB receive buffer sends a streamed request whose answer is far
larger than every buffer on the way, reads the answer's first bytes (its status line), then nothing for
`hold_s`; it watches its socket's TCP state meanwhile (without reading) to see whether the gateway gives
up on it, then reads what is left: the whole answer, or where the gateway cut it.

Slowloris: one byte of a request head, then nothing; how long until the gateway answers, and what.
"""

from __future__ import annotations

import asyncio
import collections
import fcntl
import random
import re
import socket
import struct
import termios
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

FAULT_KINDS = ("500", "529", "429", "cut-body", "cut-stream")
ROUTES = (("anthropic", "claude-sonnet-4-5", 0.6), ("openai", "claude-haiku-4-5", 0.2), ("openai", "gpt-4o-mini", 0.2))
TCP_STATES = {1: "established", 7: "closed (reset)", 8: "close_wait (gateway closed)", 11: "closing"}


@dataclass(slots=True)
class Outcome:
    n: int
    at: float  # seconds from the start of the run when it was sent
    latency: float
    model: str
    stream: bool
    fault: str | None
    result: str  # "ok" or an error label
    answered: bool  # a status line came back


@dataclass
class Traffic:
    gw_url: str
    key: str
    rate: float
    fault_every: int  # 0: no faults; 100: 1 %
    seed: int = 7
    app: str = "soak"
    first_n: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    in_flight: int = 0
    lag_max: float = 0.0  # how far the sender fell behind its schedule (the driver's own limit)

    def plan(self, n: int, rng: random.Random) -> tuple[str, str, bool, str | None]:
        dialect, model = rng.choices([r[:2] for r in ROUTES], [r[2] for r in ROUTES])[0]
        stream = rng.random() < 0.25
        fault = None
        if self.fault_every and n % self.fault_every == self.fault_every // 2:
            fault = FAULT_KINDS[(n // self.fault_every) % len(FAULT_KINDS)]
            stream = fault == "cut-stream" or (stream and fault != "cut-body")
        return dialect, model, stream, fault

    async def one(self, session: aiohttp.ClientSession, n: int, at: float, plan: tuple[str, str, bool, str | None]):
        dialect, model, stream, fault = plan
        text = f"soak request {n}" + (f" fault={fault.split('-')[0]}" if fault else "")
        headers = {"content-type": "application/json", "x-anyray-metadata": f"app={self.app};n={n}"}
        messages = [{"role": "user", "content": text}]
        if dialect == "anthropic":
            url = f"{self.gw_url}/v1/messages"
            headers |= {"x-api-key": self.key, "anthropic-version": "2023-06-01"}
            body: dict[str, Any] = {"model": model, "max_tokens": 64, "messages": messages}
        else:
            url = f"{self.gw_url}/v1/chat/completions"
            headers["authorization"] = f"Bearer {self.key}"
            body = {"model": model, "max_tokens": 64, "messages": messages}
        if stream:
            body["stream"] = True
        started = time.perf_counter()
        answered, result = False, "ok"
        self.in_flight += 1
        try:
            async with session.post(url, json=body, headers=headers) as resp:
                answered = True
                raw = await resp.read()
                if resp.status != 200:  # with the error's type, from either dialect's shape (no content)
                    kind = re.search(rb'"type"\s*:\s*"([a-z_]+_error)"', raw[:1000])
                    result = f"http_{resp.status}" + (f":{kind.group(1).decode()}" if kind else "")
                elif stream and (b"event: error" in raw or b'data: {"error"' in raw):
                    result = "stream_error_event"
                elif stream and not (b"message_stop" in raw or b"[DONE]" in raw):
                    result = "stream_incomplete"
                elif not stream and text.encode() not in raw:
                    result = "wrong_answer"
        except (TimeoutError, aiohttp.ClientError) as exc:
            result = f"client_{type(exc).__name__}"
        finally:
            self.in_flight -= 1
        self.outcomes.append(Outcome(n, at, time.perf_counter() - started, model, stream, fault, result, answered))

    async def run(self, seconds: float, started: float | None = None) -> None:
        """Open loop: request i is sent at start + i / rate, whatever the earlier ones are doing."""
        rng = random.Random(self.seed)
        tasks: set[asyncio.Task[None]] = set()
        connector = aiohttp.TCPConnector(limit=2000, keepalive_timeout=3)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=180)) as session:
            start = time.monotonic()
            origin = start if started is None else started
            for i in range(int(seconds * self.rate)):
                due = start + i / self.rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    self.lag_max = max(self.lag_max, -delay)
                n = self.first_n + i
                task = asyncio.create_task(self.one(session, n, due - origin, self.plan(n, rng)))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            await asyncio.gather(*tasks)


def tcp_state(sock: socket.socket) -> int:
    return sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def unread_bytes(sock: socket.socket) -> int:
    return struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0"))[0]


async def stalled_reader(port: int, key: str, j: int, answer_mb: float, hold_s: float) -> dict[str, Any]:
    """A streamed request, then `hold_s` without reading; then read what is left (at most 30 s)."""
    loop = asyncio.get_running_loop()
    words = " ".join(["x" * 4000] * max(1, int(answer_mb * 1e6 / 4001)))
    body = ('{"model":"claude-sonnet-4-5","max_tokens":64,"stream":true,'
            f'"messages":[{{"role":"user","content":"soak stall {j} {words}"}}]}}').encode()
    head = (f"POST /v1/messages HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nx-api-key: {key}\r\n"
            "anthropic-version: 2023-06-01\r\ncontent-type: application/json\r\nx-anyray-optimize: off\r\n"
            f"x-anyray-metadata: app=soak-stall;n=stall{j}\r\ncontent-length: {len(body)}\r\n\r\n").encode()
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    out: dict[str, Any] = {"j": j, "hold_s": hold_s}
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
        await loop.sock_sendall(sock, head + body)
        sent = time.monotonic()
        # the answer's head first (a client that stalls mid-answer, not one that never reads): whatever the
        # gateway does to it later, the call was answered and must have its record
        data = bytearray(await asyncio.wait_for(loop.sock_recv(sock, 4096), 60))
        out["status_line"] = bytes(data.split(b"\r\n", 1)[0][:40]).decode(errors="replace")
        while time.monotonic() - sent < hold_s:
            await asyncio.sleep(1.0)
            state = tcp_state(sock)
            if state != 1 and "gateway_closed_after_s" not in out:
                out["gateway_closed_after_s"] = round(time.monotonic() - sent, 1)
        out["tcp_state_after_hold"] = TCP_STATES.get(tcp_state(sock), str(tcp_state(sock)))
        out["unread_bytes_after_hold"] = unread_bytes(sock)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), deadline - time.monotonic())
            except (TimeoutError, ConnectionError) as exc:
                out["read_ended"] = type(exc).__name__
                break
            if not chunk:
                out["read_ended"] = "eof"
                break
            data += chunk
            if data.endswith(b"\r\n0\r\n\r\n"):
                out["read_ended"] = "answer complete"
                break
        out["bytes_read"] = len(data)
        out["complete"] = b"message_stop" in data
        out["error_event"] = b"event: error" in data
    except (OSError, TimeoutError) as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    return out


async def slowloris(port: int, wait_s: float = 60.0) -> dict[str, Any]:
    """One byte of a request head, then silence: when does the gateway answer, and with what."""
    loop = asyncio.get_running_loop()
    sock = socket.socket()
    sock.setblocking(False)
    out: dict[str, Any] = {}
    try:
        await loop.sock_connect(sock, ("127.0.0.1", port))
        await loop.sock_sendall(sock, b"P")
        sent = time.monotonic()
        data = bytearray()
        while time.monotonic() - sent < wait_s:
            try:
                chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), wait_s - (time.monotonic() - sent))
            except TimeoutError:
                break
            except ConnectionError as exc:
                out["ended"] = type(exc).__name__
                break
            if not chunk:
                out["ended"] = "eof"
                break
            if not data:
                out["answered_after_s"] = round(time.monotonic() - sent, 2)
            data += chunk
        out["held_s"] = round(time.monotonic() - sent, 2)
        out["status"] = bytes(data.split(b"\r\n", 1)[0][9:12]).decode(errors="replace") if data else None
    except OSError as exc:
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        sock.close()
    return out


def summarize_slowloris(results: list[dict[str, Any]]) -> dict[str, Any]:
    times = sorted(r["answered_after_s"] for r in results if "answered_after_s" in r)
    return {
        "connections": len(results),
        "answers": dict(collections.Counter(str(r.get("status")) for r in results)),
        "endings": dict(collections.Counter(str(r.get("ended", r.get("error", "open after 60 s"))) for r in results)),
        "answered_after_s_min_median_max": [times[0], times[len(times) // 2], times[-1]] if times else None,
    }
