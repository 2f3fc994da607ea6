"""Through a real forward proxy: tinyproxy (an independent implementation) on loopback.

Every test starts its own tinyproxy in the foreground (``-d -c conf``) with a configuration
written to ``tmp_path``: a free loopback port, ``Allow 127.0.0.1``, ``ConnectPort`` for the
TLS origin (tinyproxy only tunnels to the ports it is told), and ``BasicAuth`` when a test
needs proxy credentials. tinyproxy adds ``Via: 1.1 tinyproxy (...)`` to what it forwards
(RFC 9110 §7.6.3), which is how a test tells a proxied request from a direct one.

The origins are aioloom.web servers on 127.0.0.1 (HTTPS with trustme certificates). Skipped
only when tinyproxy is not installed (Debian: ``apt-get install tinyproxy``).
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from yarl import URL

from aioloom.client import ClientHttpProxyError, ClientSession
from aioloom.http import BasicAuth
from aioloom.testing import TestServer
from aioloom.web import Application, BaseRequest, Response

TINYPROXY = shutil.which("tinyproxy") or next(
    (p for p in ("/usr/bin/tinyproxy", "/usr/sbin/tinyproxy") if Path(p).exists()), None
)
pytestmark = pytest.mark.skipif(
    TINYPROXY is None, reason="tinyproxy is not installed (apt-get install tinyproxy)"
)

USER, PASSWORD = "proxyuser", "s3cret"
ServerFactory = Callable[..., Awaitable[TestServer]]


@dataclass
class TinyProxy:
    """A running tinyproxy: its URL and its log file."""

    url: URL
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


ProxyFactory = Callable[..., TinyProxy]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_until_accepting(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"tinyproxy exited with {process.returncode}: {_tail(log)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"tinyproxy did not accept on port {port}: {_tail(log)}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


@pytest.fixture
def tinyproxy(tmp_path: Path) -> Iterator[ProxyFactory]:
    """``tinyproxy(connect_ports=(...), auth=False)``: start one, stopped at teardown."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(*, connect_ports: tuple[int, ...] = (), auth: bool = False) -> TinyProxy:
        assert TINYPROXY is not None
        folder = tmp_path / f"tinyproxy{len(processes)}"
        folder.mkdir()
        port = _free_port()
        lines = [
            f"Port {port}",
            "Listen 127.0.0.1",
            "Timeout 30",
            "Allow 127.0.0.1",
            f'PidFile "{folder / "tinyproxy.pid"}"',
            f'LogFile "{folder / "tinyproxy.log"}"',
            "LogLevel Info",
            "MaxClients 32",
            *(f"ConnectPort {p}" for p in connect_ports),
        ]
        if auth:
            lines.append(f"BasicAuth {USER} {PASSWORD}")
        conf = folder / "tinyproxy.conf"
        conf.write_text("\n".join(lines) + "\n")
        process = subprocess.Popen(
            [TINYPROXY, "-d", "-c", str(conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        processes.append(process)
        _wait_until_accepting(port, process, folder / "tinyproxy.log")
        return TinyProxy(URL(f"http://127.0.0.1:{port}"), folder / "tinyproxy.log")

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - tinyproxy ignored SIGTERM
            process.kill()
            process.wait()


def _echo_app() -> Application:
    """Answers with what the origin saw: the target, the Via and X-Test fields."""

    async def echo(request: BaseRequest) -> Response:
        seen = {
            "path": request.path_qs,
            "via": request.headers.get("Via"),
            "x_test": request.headers.get("X-Test"),
            "proxy_auth": request.headers.get("Proxy-Authorization"),
            "body": (await request.read()).decode(),
        }
        return Response(text=json.dumps(seen), content_type="application/json")

    app = Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


async def test_plain_http_through_tinyproxy(
    aioloom_server: ServerFactory, tinyproxy: ProxyFactory
) -> None:
    origin = await aioloom_server(_echo_app())
    proxy = tinyproxy()
    async with ClientSession() as session:
        async with session.post(
            origin.make_url("/a/b?q=1"), data=b"payload", proxy=proxy.url
        ) as resp:
            assert resp.status == 200
            seen = await resp.json()
        assert seen["path"] == "/a/b?q=1"
        assert seen["body"] == "payload"
        assert "tinyproxy" in seen["via"]  # it really went through the proxy
        # tinyproxy closes its client connection after each answer without saying so
        # (no Connection: close): a GET that finds the pooled connection dead is sent again.
        for path in ("/c", "/d"):
            async with session.get(origin.make_url(path), proxy=proxy.url) as resp:
                seen = await resp.json()
            assert seen["path"] == path
            assert "tinyproxy" in seen["via"]


async def test_https_through_a_connect_tunnel(
    aioloom_server: ServerFactory,
    tinyproxy: ProxyFactory,
    server_ssl_ctx: ssl.SSLContext,
    client_ssl_ctx: ssl.SSLContext,
) -> None:
    origin = await aioloom_server(_echo_app(), ssl=server_ssl_ctx)
    assert origin.make_url("/").scheme == "https"
    proxy = tinyproxy(connect_ports=(origin.port,))
    async with ClientSession() as session:
        for path in ("/one", "/two"):
            async with session.get(
                origin.make_url(path), proxy=proxy.url, ssl=client_ssl_ctx
            ) as resp:
                seen = await resp.json()
            assert seen["path"] == path
            assert seen["via"] is None  # a tunnel: the proxy never sees the request
    # Both requests went through one tunnel: the pool kept the TLS connection.
    assert proxy.log_text().count(f"CONNECT 127.0.0.1:{origin.port} HTTP/1.1") == 1


async def test_connect_to_a_port_tinyproxy_does_not_allow_is_refused(
    aioloom_server: ServerFactory,
    tinyproxy: ProxyFactory,
    server_ssl_ctx: ssl.SSLContext,
    client_ssl_ctx: ssl.SSLContext,
) -> None:
    origin = await aioloom_server(_echo_app(), ssl=server_ssl_ctx)
    assert origin.port is not None
    proxy = tinyproxy(connect_ports=(origin.port + 1 if origin.port < 65535 else 1,))
    async with ClientSession() as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await session.get(origin.make_url("/"), proxy=proxy.url, ssl=client_ssl_ctx)
    assert info.value.status == 403


async def test_proxy_auth_argument_and_url_credentials(
    aioloom_server: ServerFactory, tinyproxy: ProxyFactory
) -> None:
    origin = await aioloom_server(_echo_app())
    proxy = tinyproxy(auth=True)
    async with ClientSession() as session:
        async with session.get(origin.make_url("/"), proxy=proxy.url) as resp:
            assert resp.status == 407  # plain HTTP: the proxy's answer is the response
            assert "Basic" in resp.headers.get("Proxy-Authenticate", "")
        async with session.get(
            origin.make_url("/"), proxy=proxy.url, proxy_auth=BasicAuth(USER, PASSWORD)
        ) as resp:
            assert resp.status == 200
            seen = await resp.json()
            assert seen["proxy_auth"] is None  # tinyproxy consumed the credentials
        async with session.get(
            origin.make_url("/"), proxy=proxy.url.with_user(USER).with_password(PASSWORD)
        ) as resp:
            assert resp.status == 200
        async with session.get(
            origin.make_url("/"), proxy=proxy.url, proxy_auth=BasicAuth(USER, "wrong")
        ) as resp:
            assert resp.status in (401, 407)  # tinyproxy 1.11 answers bad credentials with 401


async def test_proxy_auth_for_a_connect_tunnel(
    aioloom_server: ServerFactory,
    tinyproxy: ProxyFactory,
    server_ssl_ctx: ssl.SSLContext,
    client_ssl_ctx: ssl.SSLContext,
) -> None:
    origin = await aioloom_server(_echo_app(), ssl=server_ssl_ctx)
    proxy = tinyproxy(connect_ports=(origin.port,), auth=True)
    async with ClientSession() as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await session.get(origin.make_url("/"), proxy=proxy.url, ssl=client_ssl_ctx)
        assert info.value.status == 407
        async with session.get(
            origin.make_url("/"),
            proxy=proxy.url,
            proxy_auth=BasicAuth(USER, PASSWORD),
            ssl=client_ssl_ctx,
        ) as resp:
            seen = await resp.json()
            # RFC 9110 §11.7.2: the credentials went on the CONNECT, never to the origin.
            assert seen["proxy_auth"] is None


async def test_proxy_headers_reach_the_proxy(
    aioloom_server: ServerFactory,
    tinyproxy: ProxyFactory,
    server_ssl_ctx: ssl.SSLContext,
    client_ssl_ctx: ssl.SSLContext,
) -> None:
    """Credentials given as a raw proxy header authenticate both kinds of request."""
    plain = await aioloom_server(_echo_app())
    tls = await aioloom_server(_echo_app(), ssl=server_ssl_ctx)
    proxy = tinyproxy(connect_ports=(tls.port,), auth=True)
    headers = {"Proxy-Authorization": BasicAuth(USER, PASSWORD).encode(), "X-Test": "hop"}
    async with ClientSession() as session:
        async with session.get(plain.make_url("/"), proxy=proxy.url, proxy_headers=headers) as r:
            assert r.status == 200
            seen = await r.json()
            assert seen["x_test"] == "hop"  # forwarded with the plain request
        async with session.get(
            tls.make_url("/"), proxy=proxy.url, proxy_headers=headers, ssl=client_ssl_ctx
        ) as r:
            assert r.status == 200
            seen = await r.json()
            assert seen["x_test"] is None  # sent on the CONNECT only


@pytest.fixture
def clean_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("http_proxy", "https_proxy", "no_proxy", "ws_proxy", "wss_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


async def test_environment_proxies_with_trust_env(
    aioloom_server: ServerFactory,
    tinyproxy: ProxyFactory,
    server_ssl_ctx: ssl.SSLContext,
    client_ssl_ctx: ssl.SSLContext,
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    plain = await aioloom_server(_echo_app())
    tls = await aioloom_server(_echo_app(), ssl=server_ssl_ctx)
    proxy = tinyproxy(connect_ports=(tls.port,), auth=True)
    with_credentials = str(proxy.url.with_user(USER).with_password(PASSWORD))
    clean_proxy_env.setenv("HTTP_PROXY", with_credentials)
    clean_proxy_env.setenv("HTTPS_PROXY", with_credentials)
    async with ClientSession(trust_env=True) as session:
        async with session.get(plain.make_url("/")) as resp:
            assert "tinyproxy" in (await resp.json())["via"]
        async with session.get(tls.make_url("/"), ssl=client_ssl_ctx) as resp:
            assert resp.status == 200
    log = proxy.log_text()
    assert "CONNECT" in log and f"127.0.0.1:{tls.port}" in log
    async with ClientSession() as session:  # trust_env=False ignores the variables
        async with session.get(plain.make_url("/")) as resp:
            assert (await resp.json())["via"] is None


async def test_no_proxy_bypasses_the_environment_proxy(
    aioloom_server: ServerFactory,
    tinyproxy: ProxyFactory,
    clean_proxy_env: pytest.MonkeyPatch,
) -> None:
    origin = await aioloom_server(_echo_app())
    proxy = tinyproxy()
    clean_proxy_env.setenv("HTTP_PROXY", str(proxy.url))
    clean_proxy_env.setenv("NO_PROXY", "localhost,127.0.0.1")
    async with ClientSession(trust_env=True) as session:
        async with session.get(origin.make_url("/direct")) as resp:
            assert (await resp.json())["via"] is None
    clean_proxy_env.setenv("NO_PROXY", "example.invalid")
    async with ClientSession(trust_env=True) as session:
        async with session.get(origin.make_url("/proxied")) as resp:
            assert "tinyproxy" in (await resp.json())["via"]
