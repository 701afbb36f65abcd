"""The upstream client (server/gateway/h1) through a real outbound proxy: proxy.py, in its own process on 127.0.0.1.

Each proxy is started once for this module on a port the kernel chooses; what it did is read from its
access log (one line per client connection, written when that connection ends) and, for plain http,
from the `Via` header it adds to what it forwards. The upstreams are the raw asyncio servers of
test_h1_client.py, TLS from a throwaway trustme CA. Proxy settings come from the environment, as in a
deployment, set per test with monkeypatch.

proxy.py's quirks, seen here: it adds `Via` only to the first request of a kept-alive connection, and to
that request a second `Content-Length` when the client's is lower case (as this client's is). The raw
upstreams here read the first; an llhttp upstream (uvicorn, the lean fake) refuses the duplicate, which is
why benchmarks through a proxy use another one (Squid).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path

import pytest
import trustme
import uvloop

from anyray.server.gateway.h1 import ConnectError, ConnectionPool
from anyray.server.gateway.h1.proxy import EnvironmentProxies, ProxyConfigError, proxies_in
from tests.gateway.test_h1_client import Server, ok, run

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD")
USER, PASSWORD = "svc", "p@ss:w/rd"  # characters that must be percent-encoded in the URL
ENCODED = "p%40ss%3Aw%2Frd"


class RealProxy:
    """proxy.py as a subprocess; `log()` is its access log."""

    def __init__(self, workdir: Path, basic_auth: str | None = None) -> None:
        workdir.mkdir()
        self.log_file = workdir / "access.log"
        port_file = workdir / "port"
        command = [sys.executable, "-m", "proxy", "--hostname", "127.0.0.1", "--port", "0",
                   "--port-file", str(port_file), "--num-acceptors", "1", "--num-workers", "1",
                   "--log-file", str(self.log_file), "--log-level", "INFO", "--data-dir", str(workdir / "data")]
        if basic_auth:
            command += ["--basic-auth", basic_auth]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()):
            assert self.process.poll() is None, "proxy.py exited at start"
            assert time.monotonic() < deadline, "proxy.py did not start within 30 s"
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        while True:  # the port is written before the socket listens, perhaps
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "proxy.py does not accept connections"
                time.sleep(0.05)

    def url(self, credentials: str = "") -> str:
        return f"http://{credentials}127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_file.read_text() if self.log_file.exists() else ""

    async def seen(self, needle: str) -> int:
        """How often `needle` is in the log, once it is there at all (lines come when a connection ends)."""
        for _ in range(200):
            if count := self.log().count(needle):
                return count
            await asyncio.sleep(0.05)
        raise AssertionError(f"{needle!r} never reached proxy.py's log:\n{self.log()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


@pytest.fixture(scope="module")
def open_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealProxy]:
    proxy = RealProxy(tmp_path_factory.mktemp("proxy") / "open")
    yield proxy
    proxy.stop()


@pytest.fixture(scope="module")
def auth_proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealProxy]:
    proxy = RealProxy(tmp_path_factory.mktemp("proxy") / "auth", basic_auth=f"{USER}:{PASSWORD}")
    yield proxy
    proxy.stop()


@pytest.fixture(autouse=True)
def no_proxy_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever this machine's shell has set, each test starts from no proxy at all."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def tls(authority: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(the upstream's server context, a client context that trusts it): a throwaway CA for 127.0.0.1."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    trusting = ssl.create_default_context()
    authority.configure_trust(trusting)
    return server_context, trusting


def run_on(loop: str, coro: Awaitable[None]) -> None:
    """The gateway runs on uvloop, whose start_tls is its own: the tunnel is tested on both loops."""
    if loop == "uvloop":
        uvloop.run(asyncio.wait_for(coro, 20))  # type: ignore[arg-type]
    else:
        run(coro)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_of(url: str) -> int:
    return int(url.split("/")[2].rsplit(":", 1)[1])


async def echo(server: Server, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while True:
        body = await server.read_request(reader)
        writer.write(ok(b'{"echo":' + body + b"}"))


async def post(pool: ConnectionPool, url: str, n: int = 0) -> bytes:
    response = await pool.request("POST", url, {"content-type": "application/json"}, b'{"n":%d}' % n)
    try:
        assert response.status == 200
        return await response.read()
    finally:
        response.release()


def test_an_http_upstream_is_reached_through_the_proxy(open_proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", open_proxy.url())

    async def main() -> None:
        async with Server(lambda r, w: echo(server, r, w)) as server:
            pool = ConnectionPool()
            assert await post(pool, server.url, 1) == b'{"echo":{"n":1}}'
            await pool.close()
            seen = server.requests[0].decode().lower()
            assert seen.startswith("post /v1/messages http/1.1\r\n")
            assert "via: 1.1 proxy.py" in seen  # added by the proxy on its way through
            assert "proxy-authorization" not in seen
            assert await open_proxy.seen(f"POST 127.0.0.1:{port_of(server.url)}/v1/messages - 200") == 1

    run(main())


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_an_https_upstream_is_reached_through_a_connect_tunnel_that_is_kept_alive(loop, open_proxy, tls, monkeypatch):
    server_context, trusting = tls
    monkeypatch.setenv("HTTPS_PROXY", open_proxy.url())

    async def main() -> None:
        async with Server(lambda r, w: echo(server, r, w), server_context) as server:
            pool = ConnectionPool(ssl_context=trusting)
            for n in range(2):
                assert await post(pool, server.url, n) == b'{"echo":{"n":%d}}' % n
            assert server.connections == 1 and pool.idle() == 1  # both requests on one tunnel
            await pool.close()
            assert await open_proxy.seen(f"CONNECT 127.0.0.1:{port_of(server.url)} ") == 1
            assert "via:" not in server.requests[1].decode().lower()  # end to end TLS: the proxy saw no request

    run_on(loop, main())


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_tls_inside_the_tunnel_verifies_the_upstream_and_its_name(loop, open_proxy, authority, tls, monkeypatch):
    server_context, trusting = tls
    misnamed = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)  # a trusted CA, the wrong host name
    authority.issue_cert("api.example.invalid").configure_cert(misnamed)
    monkeypatch.setenv("HTTPS_PROXY", open_proxy.url())

    async def main() -> None:
        async with Server(lambda r, w: echo(server, r, w), server_context) as server, \
                Server(lambda r, w: echo(impostor, r, w), misnamed) as impostor:
            pool = ConnectionPool()  # the system's CAs only: the throwaway CA's certificate is refused
            with pytest.raises(ConnectError, match=r"through proxy .*CERTIFICATE_VERIFY_FAILED"):
                await post(pool, server.url)
            pool = ConnectionPool(ssl_context=trusting)
            with pytest.raises(ConnectError, match=r"through proxy .*CERTIFICATE_VERIFY_FAILED.*(IP address|hostname)"):
                await post(pool, impostor.url)
            assert server.requests == impostor.requests == [] and pool.idle() == pool.in_use() == 0
            await pool.close()

    run_on(loop, main())


def test_proxy_credentials_from_the_url_are_accepted_by_the_proxy(auth_proxy, tls, monkeypatch):
    server_context, trusting = tls
    monkeypatch.setenv("HTTPS_PROXY", auth_proxy.url(f"{USER}:{ENCODED}@"))
    monkeypatch.setenv("HTTP_PROXY", auth_proxy.url(f"{USER}:{ENCODED}@"))

    async def main() -> None:
        async with Server(lambda r, w: echo(secure, r, w), server_context) as secure, \
                Server(lambda r, w: echo(plain, r, w)) as plain:
            pool = ConnectionPool(ssl_context=trusting)
            assert await post(pool, secure.url) == b'{"echo":{"n":0}}'
            assert await post(pool, plain.url) == b'{"echo":{"n":0}}'
            await pool.close()
            assert "via: 1.1 proxy.py" in plain.requests[0].decode().lower()
            assert await auth_proxy.seen(f"CONNECT 127.0.0.1:{port_of(secure.url)} ") == 1

    run(main())


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_a_wrong_proxy_password_is_a_connect_error_naming_the_407_and_not_the_password(
        scheme, auth_proxy, tls, monkeypatch):
    server_context, trusting = tls
    wrong = "n0t-th3-p%40ss"
    monkeypatch.setenv(f"{scheme.upper()}_PROXY", auth_proxy.url(f"{USER}:{wrong}@"))

    async def main() -> None:
        async with Server(lambda r, w: echo(server, r, w), server_context if scheme == "https" else None) as server:
            pool = ConnectionPool(ssl_context=trusting)
            with pytest.raises(ConnectError) as raised:
                await post(pool, server.url)
            message = str(raised.value)
            assert "407" in message and f"proxy 127.0.0.1:{auth_proxy.port}" in message
            for secret in (wrong, "n0t-th3-p@ss", "n0t-th3", PASSWORD):
                assert secret not in message and secret not in repr(raised.value)
            assert server.requests == []  # the upstream never saw it
            await pool.close()

    run(main())


def test_no_proxy_sends_the_hosts_it_names_directly_and_the_others_through_the_proxy(open_proxy, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", open_proxy.url())

    async def main() -> None:
        async with Server(lambda r, w: echo(direct, r, w)) as direct, \
                Server(lambda r, w: echo(proxied, r, w)) as proxied:
            monkeypatch.setenv("no_proxy", f"example.invalid, 127.0.0.1:{port_of(direct.url)}")
            pool = ConnectionPool()
            for _ in range(2):
                await post(pool, direct.url)
                await post(pool, proxied.url)
            await pool.close()
            assert all("via:" not in request.decode().lower() for request in direct.requests)
            assert "via: 1.1 proxy.py" in proxied.requests[0].decode().lower()  # (it marks the first on a connection)
            assert len(direct.requests) == len(proxied.requests) == 2
            assert await open_proxy.seen(f"127.0.0.1:{port_of(proxied.url)}/v1/messages") >= 1
            assert f"127.0.0.1:{port_of(direct.url)}" not in open_proxy.log()

    run(main())


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_a_proxy_that_is_down_or_silent_is_a_connect_error_within_the_connect_timeout(loop, tls, monkeypatch):
    _, trusting = tls
    down = closed_port()

    async def main() -> None:
        async def silent(reader, writer):
            await reader.read()  # takes the CONNECT, never answers

        async with Server(silent) as hanging:
            monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{down}")
            pool = ConnectionPool(connect_timeout_s=5, ssl_context=trusting)
            refused = rf"api.example.invalid:443 through proxy 127.0.0.1:{down}: \[Errno 111\]"
            with pytest.raises(ConnectError, match=refused):
                await post(pool, "https://api.example.invalid/v1/messages")
            monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port_of(hanging.url)}")
            pool = ConnectionPool(connect_timeout_s=0.3, ssl_context=trusting)
            with pytest.raises(ConnectError, match=r"through proxy .* no answer within 0.3s"):
                await post(pool, "https://api.example.invalid/v1/messages")
            assert hanging.connections == 1

    run_on(loop, main())


def test_trust_env_false_ignores_the_proxy_the_environment_names(monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed_port()}")  # would refuse every connection

    async def main() -> None:
        async with Server(lambda r, w: echo(server, r, w)) as server:
            with pytest.raises(ConnectError, match="through proxy"):
                await post(ConnectionPool(), server.url)
            pool = ConnectionPool(trust_env=False)
            assert await post(pool, server.url) == b'{"echo":{"n":0}}'
            assert len(server.requests) == 1
            await pool.close()

    run(main())


@pytest.mark.parametrize("url", ["socks5://svc:s3cret@127.0.0.1:1080", "https://svc:s3cret@proxy.corp:3128"])
def test_a_proxy_this_client_cannot_use_is_refused_when_the_pool_is_made(url, monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", url)
    with pytest.raises(ProxyConfigError, match="only http:// proxies") as raised:
        ConnectionPool()
    assert "s3cret" not in str(raised.value) and "svc" not in str(raised.value)
    ConnectionPool(trust_env=False)  # an in-cluster client never reads it
    monkeypatch.setenv("NO_PROXY", "*")
    ConnectionPool()  # nothing would go through it: no reason to refuse


def test_which_proxy_each_origin_gets_follows_the_environment_conventions():
    """The matching itself (the standard library's, plus CIDR), without a network."""
    proxies = EnvironmentProxies({"https": "proxy.corp:3128", "all": "http://fallback:8080",
                                  "no": "internal.corp, .svc, localhost:8443, 10.0.0.0/8, 192.168.1.7"})
    assert proxies.https is not None and (proxies.https.host, proxies.https.port) == ("proxy.corp", 3128)
    assert proxies.http is not None and proxies.http.address == "fallback:8080"  # ALL_PROXY for http
    through = {
        ("https", "api.anthropic.com", 443): "proxy.corp:3128",
        ("http", "api.openai.com", 80): "fallback:8080",
        ("https", "internal.corp", 443): None,
        ("https", "llm.internal.corp", 443): None,  # a suffix without its dot matches subdomains too
        ("https", "notinternal.corp", 443): "proxy.corp:3128",
        ("http", "optimizer.ns.svc", 8080): None,
        ("https", "localhost", 8443): None,
        ("https", "localhost", 443): "proxy.corp:3128",  # host:port bypasses that port only
        ("https", "10.20.30.40", 443): None,
        ("https", "11.0.0.1", 443): "proxy.corp:3128",
        ("https", "192.168.1.7", 443): None,
    }
    for (scheme, host, port), expected in through.items():
        proxy = proxies.proxy_for(scheme, host, port)
        assert (proxy.address if proxy else None) == expected, (scheme, host, port)
    assert EnvironmentProxies({"https": "http://p:1", "no": "*"}).proxy_for("https", "anything", 443) is None
    secret = EnvironmentProxies({"http": "http://u:p%40ss@p:1"}).http
    assert secret is not None and secret.authorization == "Basic dTpwQHNz"  # base64("u:p@ss")
    assert "p@ss" not in repr(secret) and "dTpwQHNz" not in repr(secret)


@pytest.mark.parametrize("env", [
    {"HTTPS_PROXY": "http://a:1", "https_proxy": "http://b:2", "NO_PROXY": "x", "PATH": "/bin"},
    {"HTTPS_PROXY": "http://a:1", "https_proxy": ""},  # the lower-case one, empty, unsets it
    {"HTTP_PROXY": "http://a:1", "ALL_PROXY": "http://c:3", "REQUEST_METHOD": "GET"},  # CGI: no HTTP_PROXY
    {"Https_Proxy": "http://m:4", "no_proxy": ".corp"},
])
def test_an_environment_given_as_a_mapping_is_read_as_the_standard_library_reads_its_own(env, monkeypatch):
    from urllib.request import getproxies_environment

    for name in [n for n in os.environ if n.lower().endswith("_proxy") or n == "REQUEST_METHOD"]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxies_in(env) == getproxies_environment()
