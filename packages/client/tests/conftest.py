"""Shared fixtures of the client tests: scripted raw servers, TLS material, h11.

``serve(handler)`` starts an asyncio server on 127.0.0.1, port 0, running ``handler(conn)``
for every accepted connection, and closes it (and every connection) on exit::

    async with serve(http_handler(lambda req: b"HTTP/1.1 200 OK\\r\\n...")) as srv:
        ...srv.url("/path")..., srv.connections, srv.requests

``http_handler(respond)`` reads requests one after the other on a connection (head and
Content-Length or chunked body) and writes the bytes ``respond(request)`` returns, exactly,
so tests can script malformed responses. The TLS fixtures come from ``trustme``; the
``h11_handler`` fixture serves with the independent ``h11`` implementation.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import inspect
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import h11
import pytest
import trustme
from multidict import CIMultiDict
from yarl import URL


@dataclass
class Request:
    """A request as the scripted server read it."""

    method: str
    target: str
    version: str
    headers: CIMultiDict[str]
    body: bytes
    raw_head: bytes


@dataclass
class Conn:
    """One accepted connection."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    server: Server
    index: int

    async def read_request(self) -> Request | None:
        return await read_request(self.reader)

    def write(self, data: bytes) -> None:
        self.writer.write(data)


@dataclass
class Server:
    """A running scripted server."""

    host: str = "127.0.0.1"
    port: int = 0
    scheme: str = "http"
    connections: int = 0
    requests: list[Request] = field(default_factory=list)
    conns: list[Conn] = field(default_factory=list)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def url(self, path: str = "/") -> URL:
        return URL(f"{self.scheme}://{self.host}:{self.port}{path}")

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """Read one request (head and body); None when the client closed first."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    lines = head.decode("latin-1").split("\r\n")
    method, target, version = lines[0].split(" ", 2)
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
    body = b""
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        parts = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    elif "Content-Length" in headers and headers.get("Expect", "") != "100-continue":
        body = await reader.readexactly(int(headers["Content-Length"]))
    return Request(method, target, version, headers, body, head)


Responder = Callable[[Request], "bytes | Awaitable[bytes]"]
Handler = Callable[[Conn], Awaitable[None]]


def http_handler(respond: Responder, *, close_after: bool = False) -> Handler:
    """A handler answering every request on a connection with ``respond(request)``."""

    async def handle(conn: Conn) -> None:
        while True:
            request = await conn.read_request()
            if request is None:
                return
            conn.server.requests.append(request)
            data = respond(request)
            if inspect.isawaitable(data):
                data = await data
            conn.write(data)
            await conn.writer.drain()
            if close_after or request.headers.get("Connection", "").lower() == "close":
                return

    return handle


def response(
    status: int = 200,
    body: bytes = b"",
    headers: dict[str, str] | list[tuple[str, str]] | None = None,
    *,
    reason: str | None = None,
    length: bool = True,
) -> bytes:
    """Build response bytes: status line, headers (+ Content-Length), body."""
    reasons = {200: "OK", 204: "No Content", 404: "Not Found", 500: "Internal Server Error"}
    lines = [f"HTTP/1.1 {status} {reason or reasons.get(status, 'Status')}"]
    items = headers.items() if isinstance(headers, dict) else headers or []
    names = set()
    for name, value in items:
        lines.append(f"{name}: {value}")
        names.add(name.lower())
    if length and "content-length" not in names and "transfer-encoding" not in names:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@contextlib.asynccontextmanager
async def _serve(
    handler: Handler, *, ssl_context: ssl.SSLContext | None = None
) -> AsyncIterator[Server]:
    server_state = Server(scheme="https" if ssl_context else "http")

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_state.connections += 1
        conn = Conn(reader, writer, server_state, server_state.connections)
        server_state.conns.append(conn)
        task = asyncio.current_task()
        assert task is not None
        server_state.tasks.add(task)
        try:
            await handler(conn)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        except asyncio.CancelledError:
            pass  # the server is shutting down; a cancelled task would be logged
        finally:
            server_state.tasks.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=ssl_context)
    server_state.port = server.sockets[0].getsockname()[1]
    try:
        yield server_state
    finally:
        server.close()
        for conn in server_state.conns:
            conn.writer.close()
        if server_state.tasks:
            await asyncio.wait(list(server_state.tasks), timeout=0.1)
        for task in list(server_state.tasks):
            task.cancel()
        if server_state.tasks:
            await asyncio.wait(list(server_state.tasks), timeout=5)
        await server.wait_closed()


@pytest.fixture
def serve() -> Callable[..., contextlib.AbstractAsyncContextManager[Server]]:
    """``async with serve(handler, ssl_context=None) as server``."""
    return _serve


@pytest.fixture
def handler_for() -> Callable[..., Handler]:
    """``handler_for(respond, close_after=False)``: see :func:`http_handler`."""
    return http_handler


@pytest.fixture
def make_response() -> Callable[..., bytes]:
    """``make_response(status, body, headers, reason=, length=)``."""
    return response


@pytest.fixture
def gzipped() -> Callable[[bytes], bytes]:
    return gzip.compress


# -- TLS ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def tls_cert(tls_ca: trustme.CA) -> trustme.LeafCert:
    return tls_ca.issue_cert("localhost", "127.0.0.1", "::1")


@pytest.fixture
def server_ssl_ctx(tls_cert: trustme.LeafCert) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls_cert.configure_cert(ctx)
    ctx.set_alpn_protocols(["http/1.1"])
    return ctx


@pytest.fixture
def client_ssl_ctx(tls_ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    tls_ca.configure_trust(ctx)
    return ctx


# -- h11 --------------------------------------------------------------------------------------


def _h11_app(request: h11.Request, body: bytes) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    target = request.target.decode()
    if target.startswith("/echo"):
        return 200, [(b"content-type", b"application/octet-stream")], body
    if target.startswith("/chunked"):
        return 200, [(b"transfer-encoding", b"chunked")], b"chunk-one|chunk-two"
    return 200, [(b"content-type", b"text/plain; charset=utf-8")], f"h11 {target}".encode()


async def _h11_serve(conn: Conn) -> None:
    peer = h11.Connection(h11.SERVER)
    while True:
        request: Any = None
        body = []
        while True:
            event = peer.next_event()
            if event is h11.NEED_DATA:
                data = await conn.reader.read(65536)
                peer.receive_data(data)
                if not data and peer.their_state is h11.CLOSED:
                    return
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            elif isinstance(event, h11.ConnectionClosed):
                return
        conn.server.requests.append(
            Request(
                request.method.decode(),
                request.target.decode(),
                "1.1",
                CIMultiDict(),
                b"".join(body),
                b"",
            )
        )
        status, headers, payload = _h11_app(request, b"".join(body))
        chunked = (b"transfer-encoding", b"chunked") in headers
        if not chunked:
            headers.append((b"content-length", str(len(payload)).encode()))
        out = peer.send(h11.Response(status_code=status, headers=headers))
        if chunked:
            for piece in payload.split(b"|"):
                out += peer.send(h11.Data(data=piece))
        else:
            out += peer.send(h11.Data(data=payload))
        out += peer.send(h11.EndOfMessage())
        conn.write(out)
        await conn.writer.drain()
        if peer.our_state is h11.MUST_CLOSE:
            return
        peer.start_next_cycle()


@pytest.fixture
def h11_handler() -> Handler:
    """A connection handler serving with h11 (``/echo``, ``/chunked``, anything else)."""
    return _h11_serve
