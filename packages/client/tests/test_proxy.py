"""Proxies: plain HTTP in absolute-form, HTTPS through a CONNECT tunnel with TLS inside
(loop.start_tls), refusals and connection failures."""

from __future__ import annotations

import asyncio
import contextlib
import socket

import pytest

from aioloom.client._exceptions import (
    ClientConnectorCertificateError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
)
from aioloom.client._session import ClientSession
from aioloom.http._auth import BasicAuth

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nproxied!"


async def test_plain_http_proxy_gets_absolute_form(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as proxy, ClientSession() as session:
        async with session.get(
            "http://origin.example:8080/path?q=1",
            proxy=proxy.url(),
            proxy_auth=BasicAuth("pu", "pp"),
            proxy_headers={"X-Proxy": "yes"},
        ) as resp:
            assert await resp.read() == b"proxied!"
    request = proxy.requests[0]
    assert request.target == "http://origin.example:8080/path?q=1"
    assert request.headers["Host"] == "origin.example:8080"
    assert request.headers["Proxy-Authorization"] == BasicAuth("pu", "pp").encode()
    assert request.headers["X-Proxy"] == "yes"


async def test_session_default_proxy(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as proxy:
        async with ClientSession(proxy=str(proxy.url())) as session:
            async with session.get("http://origin.example/") as resp:
                assert await resp.read() == b"proxied!"
    assert proxy.requests[0].target == "http://origin.example/"


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


def connect_proxy(target_port: int, seen: list[bytes]):
    """A CONNECT proxy that tunnels every request to 127.0.0.1:target_port."""

    async def handler(conn) -> None:
        head = await conn.reader.readuntil(b"\r\n\r\n")
        seen.append(head)
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
        conn.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await conn.writer.drain()
        await asyncio.gather(pipe(conn.reader, upstream_writer), pipe(upstream_reader, conn.writer))

    return handler


async def test_https_through_connect_tunnel(
    serve, handler_for, server_ssl_ctx, client_ssl_ctx
) -> None:
    seen: list[bytes] = []
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as origin:
        async with serve(connect_proxy(origin.port, seen)) as proxy:
            async with ClientSession() as session:
                url = f"https://localhost:{origin.port}/secret"
                for _ in range(2):
                    async with session.get(
                        url,
                        proxy=proxy.url(),
                        proxy_auth=BasicAuth("u", "p"),
                        ssl=client_ssl_ctx,
                    ) as resp:
                        assert await resp.read() == b"proxied!"
    assert seen[0].startswith(f"CONNECT localhost:{origin.port} HTTP/1.1\r\n".encode())
    assert f"Host: localhost:{origin.port}".encode() in seen[0]
    assert b"Proxy-Authorization: Basic dTpw" in seen[0]
    assert proxy.connections == 1  # the tunnelled TLS connection is pooled
    inner = origin.requests[0]
    assert inner.target == "/secret"  # origin-form inside the tunnel
    assert "Proxy-Authorization" not in inner.headers


async def test_proxy_refusing_connect(serve) -> None:
    async def refuse(conn) -> None:
        await conn.reader.readuntil(b"\r\n\r\n")
        conn.write(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n"
            b"Proxy-Authenticate: Basic\r\nContent-Length: 0\r\n\r\n"
        )
        await conn.writer.drain()
        await conn.reader.read()

    async with serve(refuse) as proxy, ClientSession() as session:
        with pytest.raises(ClientHttpProxyError) as info:
            await session.get("https://origin.example/", proxy=proxy.url())
    assert info.value.status == 407
    assert info.value.message == "Proxy Authentication Required"
    assert info.value.headers is not None
    assert info.value.headers["Proxy-Authenticate"] == "Basic"


async def test_proxy_not_reachable() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    async with ClientSession() as session:
        with pytest.raises(ClientProxyConnectionError) as info:
            await session.get("http://origin.example/", proxy=f"http://127.0.0.1:{port}")
    assert info.value.port == port


async def test_bad_proxy_arguments() -> None:
    async with ClientSession() as session:
        with pytest.raises(ValueError, match="proxy_auth"):
            await session.get("http://o/", proxy="http://p:1", proxy_auth=("u", "p"))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="proxies are supported"):
            await session.get("http://o/", proxy="socks5://p:1")


async def test_trust_env_takes_the_proxy_from_the_environment(
    serve, handler_for, monkeypatch
) -> None:
    async with serve(handler_for(lambda r: OK)) as proxy:
        monkeypatch.setenv("http_proxy", str(proxy.url()))
        monkeypatch.delenv("no_proxy", raising=False)
        monkeypatch.delenv("NO_PROXY", raising=False)
        async with ClientSession(trust_env=True) as session:
            async with session.get("http://origin.example/env") as resp:
                assert await resp.read() == b"proxied!"
    assert proxy.requests[0].target == "http://origin.example/env"


async def test_tunnelled_tls_is_verified(serve, handler_for, server_ssl_ctx) -> None:
    seen: list[bytes] = []
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as origin:
        async with serve(connect_proxy(origin.port, seen)) as proxy:
            async with ClientSession() as session:
                with pytest.raises(ClientConnectorCertificateError) as info:
                    await session.get(f"https://localhost:{origin.port}/", proxy=proxy.url())
    assert info.value.host == "localhost"
    assert seen  # the tunnel itself was opened


async def test_tunnelled_tls_fingerprint(serve, handler_for, server_ssl_ctx, tls_cert) -> None:
    import hashlib
    import ssl

    from aioloom.client._exceptions import ServerFingerprintMismatch
    from aioloom.client._fingerprint import Fingerprint

    der = ssl.PEM_cert_to_DER_cert(tls_cert.cert_chain_pems[0].bytes().decode())
    seen: list[bytes] = []
    async with serve(handler_for(lambda r: OK), ssl_context=server_ssl_ctx) as origin:
        async with serve(connect_proxy(origin.port, seen)) as proxy, ClientSession() as session:
            url = f"https://localhost:{origin.port}/"
            good = Fingerprint(hashlib.sha256(der).digest())
            async with session.get(url, proxy=proxy.url(), ssl=good) as resp:
                assert await resp.read() == b"proxied!"
            bad = Fingerprint(hashlib.sha256(b"other").digest())
            with pytest.raises(ServerFingerprintMismatch):
                await session.get(url, proxy=proxy.url(), ssl=bad)


async def test_credentials_in_the_proxy_url_authenticate_to_the_proxy(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: OK)) as proxy, ClientSession() as session:
        with_credentials = proxy.url().with_user("pu").with_password("pp")
        async with session.get("http://origin.example/x", proxy=with_credentials) as resp:
            assert await resp.read() == b"proxied!"
        with pytest.raises(ValueError, match="proxy URL"):
            await session.get(
                "http://origin.example/", proxy=with_credentials, proxy_auth=BasicAuth("a", "b")
            )
    request = proxy.requests[0]
    assert request.headers["Proxy-Authorization"] == BasicAuth("pu", "pp").encode()
    assert request.target == "http://origin.example/x"
