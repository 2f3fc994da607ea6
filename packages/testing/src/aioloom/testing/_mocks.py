"""Requests without a server: aiohttp's ``make_mocked_request`` and ``make_mocked_coro``.

:func:`make_mocked_request` builds a real :class:`~aioloom.web.Request` for unit tests of
handlers and middlewares, when starting a server would be overkill or a condition is hard
to provoke over a socket. Unlike aiohttp's, the pieces under it are real rather than
``Mock`` objects: the response machinery writes through a real
:class:`~aioloom.http.StreamWriter` into a :class:`RecordingTransport`, so a test can
``await response.prepare(request)`` and read the exact bytes sent from
``request.transport.output``. Only the route of the match info and the task are mocks (a
mocked request was routed by nothing and runs in no server task), as in aiohttp.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final, cast
from unittest import mock

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from aioloom.http import HttpVersion, HttpVersion11, RawRequestMessage, hdrs
from aioloom.http.aio import (
    EMPTY_PAYLOAD,
    AbstractStreamWriter,
    BaseProtocol,
    StreamReader,
    StreamWriter,
)

if TYPE_CHECKING:
    from ssl import SSLContext

    from aioloom.web import Application, BaseRequest, Request, RequestHandler
    from aioloom.web._typedefs import LooseHeaders  # aiohttp.typedefs: no public aioloom home

__all__ = ("RecordingTransport", "make_mocked_coro", "make_mocked_request")

_CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"


class RecordingTransport(asyncio.Transport):
    """A transport that keeps what is written to it (the default of mocked requests).

    Args:
        sslcontext: what ``get_extra_info("sslcontext")`` answers (None: plain HTTP).
        peername: what ``get_extra_info("peername")`` answers (None, as in aiohttp).

    Attributes:
        output: every byte written, in order.
    """

    def __init__(self, sslcontext: SSLContext | None = None, peername: Any = None) -> None:
        super().__init__({"sslcontext": sslcontext, "peername": peername})
        self.output = bytearray()
        self._closing = False
        self._eof = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.output += data

    def write_eof(self) -> None:
        self._eof = True

    def can_write_eof(self) -> bool:
        return True

    @property
    def eof_written(self) -> bool:
        """True once :meth:`write_eof` was called."""
        return self._eof

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._closing = True

    def abort(self) -> None:
        self._closing = True

    def get_write_buffer_size(self) -> int:
        return 0

    def pause_reading(self) -> None:
        pass  # nothing is ever read

    def resume_reading(self) -> None:
        pass


class _MockedProtocol(BaseProtocol):
    """What a request needs from its connection: transport, peer, TLS, ``100 Continue``."""

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport) -> None:
        super().__init__(loop)
        self.transport = transport
        self.writer: AbstractStreamWriter | None = None

    @property
    def peername(self) -> Any:
        return None if self.transport is None else self.transport.get_extra_info("peername")

    @property
    def ssl_context(self) -> Any:
        return None if self.transport is None else self.transport.get_extra_info("sslcontext")

    def send_continue(self, request: BaseRequest) -> None:
        # RFC 9110 §15.2.1: the interim answer to Expect: 100-continue.
        if self.transport is not None and not request.writer.output_size:
            self.transport.write(_CONTINUE)


def _current_loop() -> asyncio.AbstractEventLoop:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        # No loop runs (a synchronous test): a stand-in, as aiohttp gives. Whatever needs
        # a real loop (reading a streamed body, executor jobs) needs a running one.
        loop = mock.Mock(spec=asyncio.AbstractEventLoop)
        loop.create_future.return_value = ()
        return cast(asyncio.AbstractEventLoop, loop)


def _headers(headers: LooseHeaders | None) -> CIMultiDictProxy[str]:
    return CIMultiDictProxy(CIMultiDict(headers or ()))


def _payload_stream(
    payload: StreamReader | bytes, protocol: BaseProtocol, loop: asyncio.AbstractEventLoop
) -> StreamReader:
    if isinstance(payload, StreamReader):
        return payload
    if not payload:
        return EMPTY_PAYLOAD
    stream = StreamReader(protocol, 2**16, loop=loop)
    stream.feed_data(bytes(payload))
    stream.feed_eof()
    return stream


def _default_app() -> Application:
    from aioloom.web import Application

    app = Application()
    app.on_response_prepare.freeze()  # so that responses can be prepared with it
    return app


def make_mocked_request(
    method: str,
    path: str,
    headers: LooseHeaders | None = None,
    *,
    match_info: Mapping[str, str] | None = None,
    version: HttpVersion = HttpVersion11,
    closing: bool = False,
    app: Application | None = None,
    writer: AbstractStreamWriter | None = None,
    protocol: RequestHandler | None = None,
    transport: asyncio.Transport | None = None,
    payload: StreamReader | bytes = EMPTY_PAYLOAD,
    sslcontext: SSLContext | None = None,
    client_max_size: int = 1024**2,
    loop: Any = ...,
) -> Request:
    """A :class:`~aioloom.web.Request` for unit tests, with no server behind it.

    Args:
        method: the request method.
        path: the request-target (``/path?query``).
        headers: the request headers.
        match_info: the route's variables (``request.match_info``).
        version: the HTTP version; below 1.1 the request is ``closing``.
        closing: the client asked to close the connection.
        app: the application (``request.app``); default: a new, empty one.
        writer: where the response is written; default: a real writer on ``transport``.
        protocol: the connection; default: a stand-in over ``transport``.
        transport: default: a :class:`RecordingTransport` (see ``.output``).
        payload: the body: a :class:`StreamReader`, or bytes.
        sslcontext: makes the request secure (``request.secure``, ``https`` URLs).
        client_max_size: the largest body ``read()``/``post()`` accept.
        loop: the event loop; default: the running one (a stand-in when none runs).

    Returns:
        The request, routed to nothing (its match info holds ``match_info`` and ``app``).
    """
    from aioloom.web import Request, UrlMappingMatchInfo

    the_loop = _current_loop() if loop is ... else loop
    if version < HttpVersion11:
        closing = True
    proxy = _headers(headers)
    raw_headers = tuple((k.encode("utf-8"), v.encode("utf-8")) for k, v in proxy.items())
    chunked = "chunked" in proxy.get(hdrs.TRANSFER_ENCODING, "").lower()
    message = RawRequestMessage(
        method, path, version, proxy, raw_headers, closing, None, False, chunked, URL(path)
    )
    if transport is None:
        transport = RecordingTransport(sslcontext)
    conn: Any = _MockedProtocol(the_loop, transport) if protocol is None else protocol
    conn.transport = transport
    if writer is None:
        writer = StreamWriter(conn, the_loop)
    conn.writer = writer
    stream = _payload_stream(payload, conn, the_loop)
    task: Any = mock.Mock()  # a mocked request runs in no server task
    request: Request = Request(
        message, stream, conn, writer, task, the_loop, client_max_size=client_max_size
    )
    info = UrlMappingMatchInfo(dict(match_info or {}), mock.Mock())
    info.add_app(_default_app() if app is None else app)
    request._match_info = info
    return request


def make_mocked_coro(return_value: Any = None, raise_exception: Any = None) -> mock.Mock:
    """A mock whose calls return a coroutine (aiohttp's helper, from before ``AsyncMock``).

    Args:
        return_value: what the coroutine returns (awaited first when awaitable).
        raise_exception: an exception (instance or class) the coroutine raises instead.

    Returns:
        A :class:`unittest.mock.Mock` recording its calls; each call returns a coroutine.
    """

    async def mock_coro(*args: Any, **kwargs: Any) -> Any:
        if raise_exception is not None:
            raise raise_exception
        if inspect.isawaitable(return_value):
            return await return_value
        return return_value

    return mock.Mock(wraps=mock_coro)
