"""The server's bounds as the gateway runs them: its config's limits, its logs, a process out of descriptors."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyray
from tests.conftest import vertex_and_anthropic_config
from tests.security.wire import Answers, connect, error_of, get, send_quietly, wait_until


def test_a_client_leaving_mid_body_is_one_log_line_without_a_traceback(gateway, caplog):
    """Every such disconnect logged a 16-line traceback (`ClientDisconnect` through the handler)."""
    caplog.set_level(logging.INFO)
    for path in ("/v1/messages", "/v1/chat/completions"):
        with connect(gateway.server) as sock:
            sock.sendall(b"POST %s HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                         b"content-length: 5000\r\n\r\n{\"model\": \"claude-" % path.encode())
            time.sleep(0.1)
        assert wait_until(lambda p=path: any("client left" in r.getMessage() and p in r.getMessage()
                                             for r in caplog.records))
    time.sleep(0.1)
    left = [r for r in caplog.records if "client left" in r.getMessage()]
    assert len(left) == 2 and all(r.exc_info is None and "\n" not in r.getMessage() for r in left)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR], "no traceback, no error"


def test_the_gateway_config_sets_the_servers_deadlines_and_cap(fake, sa_key_file, start_gateway):
    config = vertex_and_anthropic_config(fake, sa_key_file)
    config["gateway"] = {"limits": {"header_timeout_s": 0.5, "max_connections": 3}}
    running = start_gateway(config)
    limits = running.server._server.limits
    assert (limits.head_timeout_s, limits.max_connections) == (0.5, 3)
    with connect(running.server) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /v1/messages HTTP/1.1\r\n")
        [(status, _, body)] = Answers(sock).read()
        assert status == 408 and time.monotonic() - started < 2.0
    holders = [connect(running.server) for _ in range(3)]
    try:
        for sock in holders:
            sock.sendall(b"P")
        time.sleep(0.1)
        with connect(running.server) as sock:
            send_quietly(sock, get("/healthz"))
            [(status, _, body)] = Answers(sock).read()
        assert status == 503 and error_of(body)["type"] == "overloaded_error"
    finally:
        for sock in holders:
            sock.close()


SERVER = textwrap.dedent("""
    import asyncio, resource, socket, sys
    resource.setrlimit(resource.RLIMIT_NOFILE, (300, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    from anyray.server.runner import http_server, ServerLimits
    from tests.security.wire import echo_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)  # connections wait in the backlog until the server takes them
    print(sock.getsockname()[1], flush=True)
    server = http_server(echo_app, ServerLimits(head_timeout_s=float(sys.argv[1])))
    asyncio.run(server.serve([sock]))
""")


def test_slowloris_cannot_take_every_descriptor_of_the_process(tmp_path):
    """The review's replay: a 300-descriptor process, 290 connections that each send one byte. They took
    every descriptor before; now at most half of them are held (the cap follows the limit), the rest get
    a 503 at once (so does /healthz while they hold the cap: a clear refusal, not a hang), the held ones
    a 408 at the head deadline, after which /healthz is answered."""
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    root = str(Path(__file__).resolve().parents[2])
    package = str(Path(anyray.__file__).resolve().parents[1])  # the anyray under test, wherever it is installed
    child = subprocess.Popen([sys.executable, str(script), "3"], stdout=subprocess.PIPE, text=True, cwd=root,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join([package, root])})
    attackers: list[socket.socket] = []
    try:
        port = int(child.stdout.readline())  # type: ignore[union-attr]
        for _ in range(290):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            send_quietly(sock, b"G")
            attackers.append(sock)
        time.sleep(0.3)
        refused = held = 0
        for sock in attackers:
            sock.settimeout(0.01)
            try:
                data = sock.recv(4096)
            except TimeoutError:
                held += 1
                continue
            refused += data.startswith(b"HTTP/1.1 503 ")
            held += data.startswith(b"HTTP/1.1 408 ")  # held, and let go at the deadline already
        assert (held, refused) == (150, 140)
        deadline = time.monotonic() + 8
        answered = False
        while time.monotonic() < deadline and not answered:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as probe:
                send_quietly(probe, get("/healthz"))
                answers = Answers(probe).read()
                answered = bool(answers) and answers[0][0] == 200
            time.sleep(0.1)
        assert answered, "the slow heads were let go at their deadline and /healthz answered"
        for sock in attackers[:5]:
            sock.settimeout(1)
            assert sock.recv(4096).startswith((b"HTTP/1.1 408 ", b"HTTP/1.1 503 "))
        assert child.poll() is None
    finally:
        for sock in attackers:
            sock.close()
        child.kill()
        child.wait(5)
