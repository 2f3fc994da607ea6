"""One request/response exchange on one connection: the innermost handler of a request.

:class:`Exchange` is what the middleware chain finally calls with a :class:`ClientRequest`:
it gets a connection from the connector, prepares the connection's protocol for the
response (limits, timeouts, decoding), writes the request (:func:`send_request`) and reads
the response head (``ClientResponse.start``). Any failure on the way closes the connection.

A pooled connection can die while idle (the server closed it) without the client having
noticed yet; the request then fails before any byte of a response arrived. Such a request
is sent once more, on a fresh connection, when its method is idempotent (RFC 9110 §9.2.2)
and its body can be sent again; the other idle connections of that key are dropped first,
since they are as old.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final, TypedDict

from aioloom.http import hdrs

from ._connector import BaseConnector
from ._exceptions import ClientOSError, ConnectionTimeoutError, ServerDisconnectedError
from ._sender import send_request

if TYPE_CHECKING:
    from ._request import ClientRequest
    from ._response import ClientResponse
    from ._session import ClientSession
    from ._timeouts import ClientTimeout, TimerContext
    from ._tracer import _Tracer

__all__ = ("Exchange", "HopSettings", "hop_settings")

_BASE_CONNECT: Final = BaseConnector.connect

# RFC 9110 §9.2.2: methods that may be repeated without changing the outcome.
IDEMPOTENT: Final = frozenset(
    {
        hdrs.METH_GET,
        hdrs.METH_HEAD,
        hdrs.METH_OPTIONS,
        hdrs.METH_TRACE,
        hdrs.METH_PUT,
        hdrs.METH_DELETE,
    }
)


class HopSettings(TypedDict):
    """The per-request response settings, the same for every hop.

    ``limits`` is ``(max_line_size, max_field_size, max_headers)``, in the order
    :meth:`ResponseHandler.expect_response` takes them.
    """

    read_until_eof: bool
    auto_decompress: bool
    read_bufsize: int
    limits: tuple[int, int, int]


def hop_settings(
    defaults: HopSettings,
    *,
    read_until_eof: bool,
    auto_decompress: bool | None,
    read_bufsize: int | None,
    max_line_size: int | None,
    max_field_size: int | None,
    max_headers: int | None,
) -> HopSettings:
    """A request's response settings: its own values, the session's (``defaults``) for None.

    ``defaults`` itself is returned (shared, never mutated) when nothing is overridden, the
    common case, so that a plain request builds no dict.
    """
    if (
        read_until_eof
        and auto_decompress is None
        and read_bufsize is None
        and max_line_size is None
        and max_field_size is None
        and max_headers is None
    ):
        return defaults
    line, field, headers = defaults["limits"]
    return {
        "read_until_eof": read_until_eof,
        "auto_decompress": defaults["auto_decompress"]
        if auto_decompress is None
        else auto_decompress,
        "read_bufsize": defaults["read_bufsize"] if read_bufsize is None else read_bufsize,
        "limits": (
            line if max_line_size is None else max_line_size,
            field if max_field_size is None else max_field_size,
            headers if max_headers is None else max_headers,
        ),
    }


class Exchange:
    """The innermost handler of one session request (a ``ClientHandlerType``).

    Args:
        session: the session (its connector and loop).
        timeout: the request's timeouts (``connect``, ``sock_connect``, ``sock_read``).
        timer: the request's total deadline, or None.
        tracer: the request's tracer.
        settings: the response settings.
    """

    __slots__ = ("_session", "_settings", "_timeout", "_timer", "_tracer")

    def __init__(
        self,
        session: ClientSession,
        timeout: ClientTimeout,
        timer: TimerContext | None,
        tracer: _Tracer,
        settings: HopSettings,
    ) -> None:
        self._session = session
        self._timeout = timeout
        self._timer = timer
        self._tracer = tracer
        self._settings = settings

    async def __call__(self, req: ClientRequest) -> ClientResponse:
        """Connect, send ``req`` and read its response head.

        One coroutine, looping at most twice (the retry on a dead pooled connection): every
        coroutine layer is paid on each resume of a request, so there is no helper one.

        Raises:
            ConnectionTimeoutError: no connection within ``connect`` / ``sock_connect``.
            ClientConnectorError: the connection could not be opened (and subclasses).
            ClientResponseError, ServerDisconnectedError, ClientOSError: see the response.
        """
        session = self._session
        timeout = self._timeout
        settings = self._settings
        may_retry = True
        while True:
            connector = session._connector
            if connector is None:
                raise RuntimeError("Session is closed")
            conn = None
            if (
                type(connector).connect is _BASE_CONNECT
                and not self._tracer.enabled
                and not connector._closed
            ):
                # What connect() does first, minus its coroutine: a pooled connection.
                conn = connector._get(req.connection_key)
            if conn is None:
                try:
                    conn = await connector.connect(req, traces=self._tracer, timeout=timeout)
                except asyncio.TimeoutError as exc:
                    raise ConnectionTimeoutError(f"Connection timeout to host {req.url}") from exc
            protocol = conn._protocol  # the property, minus a call (hot path)
            assert protocol is not None
            try:
                protocol.expect_response(
                    req.method,
                    self._timer,
                    timeout.sock_read,
                    connector._timeout_ceil_threshold,
                    settings["read_until_eof"],
                    settings["auto_decompress"],
                    settings["read_bufsize"],
                    settings["limits"],
                )
                resp = await send_request(
                    req,
                    conn,
                    loop=session._loop,
                    force_close=connector._force_close,
                    timer=self._timer,
                    tracer=self._tracer,
                    session=session,
                )
                try:
                    await resp.start(conn)
                except BaseException:
                    resp.close()
                    raise
            except (ServerDisconnectedError, ClientOSError):
                conn.close()
                if may_retry and conn.reused and req.method in IDEMPOTENT and req.body_reusable():
                    # A stale pooled connection: its idle siblings are as old, drop them too.
                    may_retry = False
                    connector._drop_idle(req.connection_key)
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            return resp
