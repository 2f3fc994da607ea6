"""Shared fixtures for the aioloom.web server tests.

* ``make_request``: build a :class:`~aioloom.web._request.BaseRequest` without a socket, from
  raw request bytes parsed by the real parser (so tests see what the server would see).
* ``serve``: start ``loop.create_server(Server(handler, **kwargs), "127.0.0.1", 0)`` and
  give back the port; the server is closed at the end of the test.
* ``exchange`` / ``parse_responses``: a raw ``asyncio.open_connection`` client writing exact
  bytes, and the independent ``h11`` parser to read what the server answered.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import h11
import pytest

from aioloom.http._messages import RawRequestMessage
from aioloom.http._parser import EndOfMessage, HttpRequestParser
from aioloom.http.aio._streams import EMPTY_PAYLOAD, StreamReader
from aioloom.http.aio._writer import StreamWriter
from aioloom.web._protocol import RequestHandler
from aioloom.web._request import BaseRequest, Request
from aioloom.web._server import Server
from aioloom.web._stream_response import StreamResponse

Handler = Callable[[BaseRequest], Awaitable[StreamResponse]]


class RecordingTransport(asyncio.Transport):
    """A transport that records what is written (for requests built without a socket)."""

    def __init__(self, extra: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.closed = False
        self._extra = extra or {}

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written.append(bytes(data))

    def writelines(self, list_of_data: Any) -> None:
        self.written.append(b"".join(bytes(d) for d in list_of_data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._extra.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def data(self) -> bytes:
        return b"".join(self.written)


async def _unused_handler(request: BaseRequest) -> StreamResponse:
    raise AssertionError("not called")


RequestMaker = Callable[..., BaseRequest]


@pytest.fixture
def make_request(loop: asyncio.AbstractEventLoop) -> RequestMaker:
    """Build requests from raw bytes: ``make_request(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")``.

    Keyword arguments: ``body`` (bytes fed to the body stream), ``peername``, ``sslcontext``,
    ``cls`` (BaseRequest or Request) and anything BaseRequest takes (client_max_size,
    scheme, host, remote...). The request's transport records writes (``.protocol``).
    """

    def factory(
        raw: bytes,
        *,
        cls: type[BaseRequest] = BaseRequest,
        peername: Any = ("127.0.0.1", 40000),
        sslcontext: Any = None,
        **kwargs: Any,
    ) -> BaseRequest:
        events, _, _ = HttpRequestParser().feed_data(raw)
        message = events[0]
        assert isinstance(message, RawRequestMessage)
        server = Server(_unused_handler, loop=loop)
        protocol = RequestHandler(server, loop=loop)
        transport = RecordingTransport({"peername": peername, "sslcontext": sslcontext})
        protocol.connection_made(transport)
        protocol._cancel_timers()
        chunks = [e for e in events[1:] if isinstance(e, bytes)]
        payload: StreamReader
        if chunks or not isinstance(events[1], EndOfMessage) or message.chunked:
            payload = StreamReader(protocol, 2**16, loop=loop)
            for chunk in chunks:
                payload.feed_data(chunk)
            if any(isinstance(e, EndOfMessage) for e in events[1:]):
                payload.feed_eof()
        else:
            payload = EMPTY_PAYLOAD
        writer = StreamWriter(protocol, loop)
        task: Any = None
        return cls(message, payload, protocol, writer, task, loop, **kwargs)

    return factory


@pytest.fixture
def make_app_request(make_request: RequestMaker) -> RequestMaker:
    """Like ``make_request`` but builds :class:`Request` objects."""

    def factory(raw: bytes, **kwargs: Any) -> BaseRequest:
        return make_request(raw, cls=Request, **kwargs)

    return factory


ServeFn = Callable[..., contextlib.AbstractAsyncContextManager[tuple[int, Server]]]


@pytest.fixture
def serve(loop: asyncio.AbstractEventLoop) -> ServeFn:
    """``async with serve(handler, **server_kwargs) as (port, server): ...``"""

    @contextlib.asynccontextmanager
    async def factory(handler: Handler, **kwargs: Any) -> AsyncIterator[tuple[int, Server]]:
        server = Server(handler, **kwargs)
        listener = await loop.create_server(server, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        try:
            yield port, server
        finally:
            listener.close()
            await server.shutdown(0.5)
            await listener.wait_closed()

    return factory


async def exchange(
    port: int, data: bytes, *, timeout: float = 5.0, until_close: bool = True
) -> bytes:
    """Send ``data`` on a new connection; read until the server closes (or one answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        if until_close:
            return await asyncio.wait_for(reader.read(), timeout)
        return await asyncio.wait_for(read_responses(reader, 1), timeout)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


@dataclass
class ParsedResponse:
    """A response as the independent h11 parser read it."""

    status: int
    reason: bytes
    http_version: bytes
    headers: dict[bytes, list[bytes]]
    body: bytes = b""
    raw_headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower().encode())
        return None if values is None else values[-1].decode("latin-1")


def parse_responses(data: bytes, methods: list[str] | None = None) -> list[ParsedResponse]:
    """Parse the server's bytes with h11; ``methods`` tells it which answers were to HEAD."""
    methods = methods or []
    out: list[ParsedResponse] = []
    remaining = data
    index = 0
    while remaining.strip():
        conn = h11.Connection(h11.CLIENT)
        method = methods[index] if index < len(methods) else "GET"
        conn.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        conn.send(h11.EndOfMessage())
        conn.receive_data(remaining)
        current: ParsedResponse | None = None
        while True:
            event = conn.next_event()
            if isinstance(event, h11.InformationalResponse):
                continue
            if isinstance(event, h11.Response):
                headers: dict[bytes, list[bytes]] = {}
                for name, value in event.headers:
                    headers.setdefault(name, []).append(value)
                current = ParsedResponse(
                    event.status_code,
                    event.reason,
                    event.http_version,
                    headers,
                    raw_headers=list(event.headers),
                )
            elif isinstance(event, h11.Data):
                assert current is not None
                current.body += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert current is not None
                out.append(current)
                break
            elif event is h11.NEED_DATA:
                conn.receive_data(b"")  # the server closed: a read-until-close body ends
                event = conn.next_event()
                if isinstance(event, h11.EndOfMessage) and current is not None:
                    out.append(current)
                return out
            else:  # pragma: no cover - h11 gives nothing else here
                raise AssertionError(f"unexpected h11 event {event!r}")
        remaining = conn.trailing_data[0]
        index += 1
    return out


async def read_responses(reader: asyncio.StreamReader, count: int) -> bytes:
    """Read from ``reader`` until ``count`` complete responses arrived; return the bytes."""
    data = b""
    while True:
        chunk = await reader.read(65536)
        if not chunk:
            return data
        data += chunk
        try:
            if len(parse_responses(data)) >= count:
                return data
        except h11.RemoteProtocolError:
            continue


@pytest.fixture
def client_exchange() -> Callable[..., Awaitable[bytes]]:
    """The :func:`exchange` helper as a fixture."""
    return exchange


@pytest.fixture
def h11_parse() -> Callable[..., list[ParsedResponse]]:
    """The :func:`parse_responses` helper (h11 reads the server's bytes) as a fixture."""
    return parse_responses


@pytest.fixture
def read_answers() -> Callable[[asyncio.StreamReader, int], Awaitable[bytes]]:
    """The :func:`read_responses` helper as a fixture."""
    return read_responses
