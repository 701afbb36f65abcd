"""`anyray serve gateway --workers N`: N real gateway processes on one port, over real HTTP on loopback.

Which worker answered a call is read from the kernel, not from anything the gateway says: the server side of
the call's connection is found in /proc/net/tcp and its socket among the workers' descriptors."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import anthropic
import httpx
import httpx2
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from anyray.store import open_store
from tests.conftest import ANTHROPIC_KEY
from tests.deploy.conftest import clean_env, run_anyray
from tests.test_cli_up import _free_port, _wait_for_output

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to tell the workers apart")

T = TypeVar("T")
MESSAGE = {"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}


class Workers:
    """A `anyray serve gateway --workers N` process tree, and which of its workers served a connection."""

    def __init__(self, tmp_path: Path, fake_url: str, n: int = 2, **sections: object) -> None:
        self.port = _free_port()
        self.store = f"sqlite:///{tmp_path / 'spend.db'}"
        config = {"gateway": {"port": self.port}, "store": {"url": self.store},
                  "providers": {"anthropic": {"base_url": fake_url}}, **sections}
        self.config = tmp_path / "anyray.yaml"
        self.config.write_text(yaml.safe_dump(config))
        self.n = n
        self.proc: subprocess.Popen[str] | None = None

    def start(self, from_env: bool = False) -> Workers:
        """`from_env`: ask for the workers with ANYRAY_WORKERS, as a container's environment does."""
        argv = [sys.executable, "-m", "anyray", "serve", "gateway", "-c", str(self.config)]
        extra = {"ANYRAY_WORKERS": str(self.n)} if from_env else {}
        self.proc = subprocess.Popen(
            argv if from_env else [*argv, "--workers", str(self.n)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env=clean_env(ANTHROPIC_API_KEY=ANTHROPIC_KEY, **extra),
        )
        banner = _wait_for_output(self.proc, "listening")
        assert f"{self.n} workers" in banner, banner
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> set[int]:
        assert self.proc is not None
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return {int(pid) for pid in children}

    def served_by(self, client_port: int) -> int:
        """The worker holding the server side of the connection from `client_port`."""
        inode = _server_socket_inode(self.port, client_port)
        for pid in self.pids():
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                        return pid
                except OSError:
                    continue
        raise AssertionError(f"no worker holds the connection from port {client_port}")

    def call(self, api_key: str = "unused", identify: bool = True) -> tuple[int, int]:
        """One Messages call from the real SDK on a new connection: (status, the worker that answered, or 0
        when not asked: a worker that is stopping may be gone by the time its answer is read)."""
        answered: list[tuple[int, int]] = []

        def note(response: httpx2.Response) -> None:  # with the headers, while the connection is open
            client_port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
            answered.append((response.status_code, self.served_by(client_port) if identify else 0))

        http = anthropic.DefaultHttpxClient(event_hooks={"response": [note]})
        client = anthropic.Anthropic(base_url=self.url, api_key=api_key, max_retries=0, http_client=http)
        with client, contextlib.suppress(anthropic.APIStatusError):
            client.messages.create(**MESSAGE)
        (outcome,) = answered
        return outcome

    def http(self, method: str, path: str, **kwargs: Any) -> tuple[httpx.Response, int]:
        """One request from httpx on a new connection: the response and the worker that answered it."""
        served: list[int] = []

        def note(response: httpx.Response) -> None:  # with the headers, while the connection is open
            served.append(self.served_by(response.extensions["network_stream"].get_extra_info("client_addr")[1]))

        with httpx.Client(event_hooks={"response": [note]}) as client:
            response = client.request(method, self.url + path, **kwargs)
        return response, served[0]

    def stop(self) -> str:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, repr(out)
        return out


def _server_socket_inode(server_port: int, client_port: int) -> str:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and int(remote.split(":")[1], 16) == client_port:
            return fields[9]
    raise AssertionError(f"no connection {client_port} -> {server_port} in /proc/net/tcp")


def _totals(url: str) -> dict[str, float]:
    """Every sample of one scrape, summed over labels by sample name."""
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(httpx.get(f"{url}/metrics").text):
        for sample in family.samples:
            out[sample.name] = out.get(sample.name, 0.0) + sample.value
    return out


def _until(predicate: Callable[[], T], timeout: float = 20.0, what: str = "condition") -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} never held")


def test_two_workers_serve_count_every_record_and_merge_their_metrics(fake, tmp_path):
    workers = Workers(tmp_path, fake.url).start()
    try:
        pids = workers.pids()
        assert len(pids) == 2
        served: dict[int, int] = {}
        calls = 0
        while len(served) < 2 or calls < 30:  # new connections spread over both (a hash of the addresses)
            status, pid = workers.call()
            assert status == 200
            served[pid] = served.get(pid, 0) + 1
            calls += 1
            assert calls < 200, f"only {served} after {calls} calls"
        assert set(served) == pids  # both processes answered

        # one scrape, from whichever worker, counts every call of both
        _until(lambda: _totals(workers.url).get("anyray_requests_total") == calls, what=f"{calls} requests in /metrics")
        for _ in range(10):  # every scrape (each on a new connection, so from either worker) says the same
            totals = _totals(workers.url)
            assert totals["anyray_requests_total"] == calls
            assert totals["anyray_request_duration_seconds_count"] == calls
            assert totals["anyray_tokens_total"] > 0
    finally:
        out = workers.stop()
    assert "Traceback" not in out
    records = open_store(workers.store).fetch()
    assert len(records) == calls  # every worker's records, none lost
    assert len({r["request_id"] for r in records}) == calls  # and none twice


def test_a_key_revoked_anywhere_is_refused_by_every_worker(fake, tmp_path):
    workers = Workers(tmp_path, fake.url, auth={"required": True, "refresh_s": 0.2})
    created = run_anyray("keys", "create", "--team", "platform", "--store", workers.store, "--json")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)
    workers.start(from_env=True)
    try:
        accepted: set[int] = set()
        while accepted != workers.pids():
            status, pid = workers.call(key["secret"])
            assert status == 200
            accepted.add(pid)
        revoked = run_anyray("keys", "revoke", key["id"], "--store", workers.store)  # another process, the store
        assert revoked.returncode == 0, revoked.stderr

        refused: set[int] = set()

        def every_worker_refused() -> bool:
            status, pid = workers.call(key["secret"])
            if status == 401:
                refused.add(pid)
            return refused == workers.pids()

        _until(every_worker_refused, what="a 401 from every worker")
        outcomes = [workers.call(key["secret"]) for _ in range(20)]
        assert {status for status, _ in outcomes} == {401}
    finally:
        workers.stop()


def test_sigterm_lets_every_worker_finish_its_answers_then_stops_them_all(fake, tmp_path):
    workers = Workers(tmp_path, fake.url).start()
    pids = workers.pids()
    fake.delay_s = 1.0  # calls in flight when the signal comes
    results: list[int] = []

    def call() -> None:
        results.append(workers.call(identify=False)[0])

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    _until(lambda: len(fake.received) >= 8, what="8 calls upstream")
    out = workers.stop()
    for t in threads:
        t.join()
    assert results == [200] * 8  # every answer in progress was finished
    assert "Traceback" not in out
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists()
    with socket.socket() as probe:  # nothing listens on the port any more (closed connections may linger)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", workers.port))
    assert len(open_store(workers.store).fetch()) == 8


def test_a_worker_that_dies_is_replaced_and_the_totals_do_not_go_back(fake, tmp_path):
    workers = Workers(tmp_path, fake.url).start()
    try:
        for _ in range(10):
            assert workers.call()[0] == 200
        _until(lambda: _totals(workers.url).get("anyray_requests_total") == 10, what="10 requests in /metrics")
        before = workers.pids()
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        def replaced() -> set[int] | None:
            now = workers.pids()
            return now if len(now) == 2 and victim not in now else None

        after = _until(replaced, what="a replacement worker")
        new = (after - before).pop()
        served: set[int] = set()
        while new not in served:  # the replacement serves (the supervisor kept its socket)
            status, pid = workers.call()
            assert status == 200
            served.add(pid)
            assert _totals(workers.url)["anyray_requests_total"] >= 10  # the dead worker's counts stay
    finally:
        out = workers.stop()
    assert f"worker {victim} exited" in out


def test_a_second_gateway_on_the_port_is_refused_and_a_broken_worker_stops_the_whole(fake, tmp_path):
    workers = Workers(tmp_path, fake.url).start()
    try:
        second = run_anyray("serve", "gateway", "-c", str(workers.config), "--workers", "2", timeout=30)
        assert second.returncode == 1
        assert f"cannot listen on 127.0.0.1:{workers.port}" in second.stderr
    finally:
        workers.stop()

    broken = tmp_path / "broken.yaml"  # a spend store no worker can open: each would fail alike
    broken.write_text(yaml.safe_dump({"gateway": {"port": _free_port()}, "store": {"url": "sqlite:////proc/no/x.db"}}))
    result = run_anyray("serve", "gateway", "-c", str(broken), "--workers", "2", timeout=60)
    assert result.returncode == 1
    assert "failed to start" in result.stderr


def test_a_console_login_served_by_one_worker_holds_on_every_worker(fake, tmp_path):
    workers = Workers(tmp_path, fake.url)
    created = run_anyray("keys", "create", "--team", "platform", "--admin", "--store", workers.store, "--json")
    assert created.returncode == 0, created.stderr
    secret = json.loads(created.stdout)["secret"]
    workers.start()
    try:
        login, _ = workers.http("POST", "/console/login", content=f"key={secret}",
                                headers={"content-type": "application/x-www-form-urlencoded"})
        assert login.status_code == 303
        cookie = login.headers["set-cookie"].split(";")[0]
        anonymous, _ = workers.http("GET", "/console/")
        assert anonymous.status_code == 303  # the console does ask for a login
        seen: set[int] = set()
        while seen != workers.pids():
            page, pid = workers.http("GET", "/console/", headers={"cookie": cookie})
            assert page.status_code == 200, (pid, page.status_code)
            seen.add(pid)
    finally:
        workers.stop()
