"""``BaseConnector``: the connection pool shared by every connector.

Connections are pooled by :class:`ConnectionKey` (host, port, TLS settings, proxy). A
connection goes back to the pool only when its last response was read to the end and
allows persistence (:attr:`ResponseHandler.should_close`); otherwise it is closed. Idle
connections expire after ``keepalive_timeout`` seconds (one timer for the whole pool),
and one that the peer closed while idle is dropped when next looked at.

Limits: at most ``limit`` connections in use at once (0: no limit), and at most
``limit_per_host`` per key (0: no limit). A request that finds no free slot waits in one
FIFO queue; when a slot frees up, the oldest waiter that can use it is woken with the slot
already reserved for it, so a newcomer cannot overtake it.
"""

from __future__ import annotations

import asyncio
import traceback
import warnings
import weakref
from abc import ABC, abstractmethod
from collections import defaultdict, deque
from typing import TYPE_CHECKING, Any, Final

from ._connection import Connection, ResponseHandler
from ._exceptions import ClientConnectionError
from ._reqrep_info import ConnectionKey
from ._timeouts import ClientTimeout, TimeoutScope, deadline_at
from ._tracer import NO_TRACER, _Tracer

if TYPE_CHECKING:
    from ._request import ClientRequest

__all__ = ("BaseConnector",)

_DEFAULT_KEEPALIVE: Final = 15.0
# How long close() waits for the transports to report their end (TLS close_notify
# exchanges included) before aborting the rest.
_CLOSE_WAIT: Final = 2.0


class _Sentinel:
    pass


_SENTINEL: Final = _Sentinel()


def _run_cleanup(ref: weakref.ReferenceType[BaseConnector]) -> None:
    connector = ref()
    if connector is not None:
        connector._cleanup()


class _Slot:
    """A connection slot reserved before its connection exists."""

    __slots__ = ()


_Acquired = ResponseHandler | _Slot


class BaseConnector(ABC):
    """The connection pool (aiohttp's ``BaseConnector``).

    Args:
        keepalive_timeout: seconds an idle connection is kept (15 by default).
        force_close: close every connection after its request (no pooling).
        limit: the most connections in use at once; 0 for no limit.
        limit_per_host: the most per :class:`ConnectionKey`; 0 for no limit.
        enable_cleanup_closed: abort TLS transports 2 s after closing them, for servers
            that never finish the TLS shutdown.
        timeout_ceil_threshold: see :class:`ClientTimeout`.

    Raises:
        ValueError: ``keepalive_timeout`` together with ``force_close``.
        RuntimeError: created outside a running event loop.
    """

    _closed = True
    _source_traceback: traceback.StackSummary | None = None

    def __init__(
        self,
        *,
        keepalive_timeout: float | None | _Sentinel = _SENTINEL,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        timeout_ceil_threshold: float = 5,
    ) -> None:
        if force_close:
            if keepalive_timeout is not None and keepalive_timeout is not _SENTINEL:
                raise ValueError("keepalive_timeout cannot be set if force_close is True")
            keepalive: float | None = None
        elif isinstance(keepalive_timeout, _Sentinel):
            keepalive = _DEFAULT_KEEPALIVE
        else:
            keepalive = keepalive_timeout
        loop = asyncio.get_running_loop()
        self._loop = loop
        self._closed = False
        if loop.get_debug():
            self._source_traceback = traceback.extract_stack(limit=16)
        self._keepalive_timeout = keepalive
        self._force_close = force_close
        self._limit = limit
        self._limit_per_host = limit_per_host
        self._cleanup_closed = enable_cleanup_closed
        self._timeout_ceil_threshold = timeout_ceil_threshold
        self._conns: dict[ConnectionKey, deque[tuple[ResponseHandler, float]]] = {}
        self._acquired: set[_Acquired] = set()
        self._acquired_per_host: defaultdict[ConnectionKey, set[_Acquired]] = defaultdict(set)
        self._waiters: deque[tuple[ConnectionKey, asyncio.Future[_Slot]]] = deque()
        self._cleanup_handle: asyncio.TimerHandle | None = None
        self._closing: list[ResponseHandler] = []

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._closed or not self._conns:
            return
        conns = [repr(proto) for entries in self._conns.values() for proto, _ in entries]
        self._close_transports()
        _warnings.warn(f"Unclosed connector {self!r}", ResourceWarning, source=self)
        context: dict[str, object] = {
            "connector": self,
            "connections": conns,
            "message": "Unclosed connector",
        }
        if self._source_traceback is not None:
            context["source_traceback"] = self._source_traceback
        self._loop.call_exception_handler(context)

    async def __aenter__(self) -> BaseConnector:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- properties -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    @property
    def force_close(self) -> bool:
        """True when connections are never reused."""
        return self._force_close

    @property
    def limit(self) -> int:
        """The most connections in use at once (0: no limit)."""
        return self._limit

    @property
    def limit_per_host(self) -> int:
        """The most connections in use per key (0: no limit)."""
        return self._limit_per_host

    # -- closing ---------------------------------------------------------------------------

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close every connection, pooled or in use, and fail the waiting requests.

        Args:
            abort_ssl: abort TLS connections instead of closing them gracefully (no
                close_notify exchange, for peers that would never answer it).
        """
        waiters = self._close_transports(abort_ssl=abort_ssl)
        if not waiters:
            return
        _, pending = await asyncio.wait(waiters, timeout=_CLOSE_WAIT)
        if pending:
            for proto in self._closing:
                proto.abort()
        self._closing = []

    def _close_transports(self, *, abort_ssl: bool = False) -> list[asyncio.Future[None]]:
        if self._closed:
            return []
        self._closed = True
        if self._cleanup_handle is not None:
            self._cleanup_handle.cancel()
            self._cleanup_handle = None
        protocols = [proto for entries in self._conns.values() for proto, _ in entries]
        protocols += [proto for proto in self._acquired if isinstance(proto, ResponseHandler)]
        self._conns.clear()
        self._acquired.clear()
        self._acquired_per_host.clear()
        for _, waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(ClientConnectionError("Connector is closed."))
        self._waiters.clear()
        closing = []
        for proto in protocols:
            if not proto.is_connected():
                continue
            transport = proto.transport
            if abort_ssl and transport is not None and transport.get_extra_info("sslcontext"):
                proto.abort()
            else:
                proto.close()
            closing.append(proto)
        self._closing = closing
        if self._loop.is_closed():
            return []
        return [proto.closed for proto in closing if not proto.closed.done()]

    # -- acquiring ----------------------------------------------------------------------------

    def _available_connections(self, key: ConnectionKey) -> int:
        """How many more connections ``key`` may use now (a large number: no limit)."""
        available = self._limit - len(self._acquired) if self._limit else 1 << 30
        if self._limit_per_host:
            per_host = self._limit_per_host - len(self._acquired_per_host.get(key, ()))
            available = min(available, per_host)
        return available

    def _acquire(self, key: ConnectionKey, item: _Acquired) -> None:
        self._acquired.add(item)
        self._acquired_per_host[key].add(item)

    def _drop(self, key: ConnectionKey, item: _Acquired) -> None:
        self._acquired.discard(item)
        per_host = self._acquired_per_host.get(key)
        if per_host is not None:
            per_host.discard(item)
            if not per_host:
                del self._acquired_per_host[key]

    async def connect(
        self,
        req: ClientRequest,
        traces: _Tracer | None = None,
        timeout: ClientTimeout | None = None,
    ) -> Connection:
        """Get a connection for ``req``: a pooled one, or a new one within the limits.

        Raises:
            asyncio.TimeoutError: ``timeout.connect`` passed (the session turns it into
                :class:`ConnectionTimeoutError`), or ``sock_connect`` did.
            ClientConnectorError: the connection could not be opened (and subclasses).
            ClientConnectionError: the connector is closed.
        """
        tracer = traces if traces is not None else NO_TRACER
        timeout = timeout if timeout is not None else ClientTimeout()
        if self._closed:
            raise ClientConnectionError("Connector is closed.")
        key = req.connection_key
        conn = self._get(key)
        if conn is not None:
            if tracer.enabled:
                await tracer.send_connection_reuseconn()
            return conn
        with TimeoutScope(self._loop, timeout.connect, timeout.ceil_threshold):
            slot = _Slot()
            if self._available_connections(key) > 0:
                self._acquire(key, slot)
            else:
                slot = await self._wait_for_slot(key, tracer)
                conn = self._get(key)
                if conn is not None:
                    self._drop(key, slot)
                    if tracer.enabled:
                        await tracer.send_connection_reuseconn()
                    return conn
            proto = await self._open(req, key, slot, tracer, timeout)
        return Connection(self, key, proto, self._loop)

    async def _open(
        self,
        req: ClientRequest,
        key: ConnectionKey,
        slot: _Slot,
        tracer: _Tracer,
        timeout: ClientTimeout,
    ) -> ResponseHandler:
        try:
            if tracer.enabled:
                await tracer.send_connection_create_start()
            proto = await self._create_connection(req, tracer, timeout)
            if self._closed:
                proto.close()
                raise ClientConnectionError("Connector is closed.")
        except BaseException:
            self._drop(key, slot)
            self._release_waiter()
            raise
        self._drop(key, slot)
        self._acquire(key, proto)
        if tracer.enabled:
            await tracer.send_connection_create_end()
        return proto

    async def _wait_for_slot(self, key: ConnectionKey, tracer: _Tracer) -> _Slot:
        waiter: asyncio.Future[_Slot] = self._loop.create_future()
        entry = (key, waiter)
        self._waiters.append(entry)
        if tracer.enabled:
            await tracer.send_connection_queued_start()
        try:
            slot = await waiter
        except BaseException:
            if entry in self._waiters:
                self._waiters.remove(entry)
            elif waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                # We were handed a slot but are leaving: pass it on.
                self._drop(key, waiter.result())
                self._release_waiter()
            raise
        if tracer.enabled:
            await tracer.send_connection_queued_end()
        return slot

    def _release_waiter(self) -> None:
        """Hand free slots to the oldest waiters that can use them (FIFO)."""
        if not self._waiters or self._closed:
            return
        for entry in list(self._waiters):
            key, waiter = entry
            if waiter.done():
                self._waiters.remove(entry)
                continue
            if self._available_connections(key) <= 0:
                continue
            self._waiters.remove(entry)
            slot = _Slot()
            self._acquire(key, slot)
            waiter.set_result(slot)
            if self._limit and len(self._acquired) >= self._limit:
                return

    def _get(self, key: ConnectionKey) -> Connection | None:
        """A live, unexpired pooled connection for ``key``, most recently used first."""
        entries = self._conns.get(key)
        if not entries:
            return None
        now = self._loop.time()
        keepalive = self._keepalive_timeout
        while entries:
            proto, since = entries.pop()
            transport = proto.transport  # is_connected(), inlined
            if transport is not None and not transport.is_closing() and not proto.should_close:
                if keepalive is None or since + keepalive > now:
                    self._acquired.add(proto)  # _acquire, inlined
                    self._acquired_per_host[key].add(proto)
                    if not entries:
                        del self._conns[key]
                    return Connection(self, key, proto, self._loop, reused=True)
            self._close_protocol(proto)
        del self._conns[key]
        return None

    def _drop_idle(self, key: ConnectionKey) -> None:
        """Close the idle connections of ``key`` (they are suspected dead)."""
        for proto, _ in self._conns.pop(key, ()):
            self._close_protocol(proto)

    # -- releasing ----------------------------------------------------------------------------

    def _release(
        self, key: ConnectionKey, protocol: ResponseHandler, *, should_close: bool = False
    ) -> None:
        """Take a connection back: pooled when reusable, closed otherwise."""
        if self._closed:
            protocol.close()
            return
        self._acquired.discard(protocol)  # _drop, inlined: every request passes here
        per_host = self._acquired_per_host.get(key)
        if per_host is not None:
            per_host.discard(protocol)
            if not per_host:
                del self._acquired_per_host[key]
        reusable = not (should_close or self._force_close or protocol.should_close)
        if not reusable or not self._keepalive_timeout:
            self._close_protocol(protocol)
        else:
            self._conns.setdefault(key, deque()).append((protocol, self._loop.time()))
            if self._cleanup_handle is None:
                self._schedule_cleanup()
        if self._waiters:
            self._release_waiter()

    def _close_protocol(self, protocol: ResponseHandler) -> None:
        transport = protocol.transport
        protocol.close()
        if (
            self._cleanup_closed
            and transport is not None
            and transport.get_extra_info("sslcontext") is not None
        ):
            # Some TLS servers never answer close_notify; do not wait for them forever.
            self._loop.call_later(2.0, transport.abort)

    def _schedule_cleanup(self, delay: float | None = None) -> None:
        if self._cleanup_handle is not None or self._keepalive_timeout is None:
            return
        delay = self._keepalive_timeout if delay is None else delay
        when = deadline_at(self._loop, max(delay, 0.001), self._timeout_ceil_threshold)
        if when is not None:
            # A weak reference: a pending cleanup must not keep a forgotten connector alive
            # (its __del__ is what reports it unclosed).
            self._cleanup_handle = self._loop.call_at(when, _run_cleanup, weakref.ref(self))

    def _cleanup(self) -> None:
        """Close idle connections that expired or that the peer closed."""
        self._cleanup_handle = None
        keepalive = self._keepalive_timeout
        if keepalive is None:
            return
        now = self._loop.time()
        oldest = now
        for key in list(self._conns):
            alive: deque[tuple[ResponseHandler, float]] = deque()
            for proto, since in self._conns[key]:
                if proto.is_connected() and not proto.should_close and since + keepalive > now:
                    alive.append((proto, since))
                    oldest = min(oldest, since)
                else:
                    self._close_protocol(proto)
            if alive:
                self._conns[key] = alive
            else:
                del self._conns[key]
        if self._conns:
            self._schedule_cleanup(oldest + keepalive - now)

    # -- subclasses ---------------------------------------------------------------------------

    @abstractmethod
    async def _create_connection(
        self, req: ClientRequest, tracer: _Tracer, timeout: ClientTimeout
    ) -> ResponseHandler:
        """Open a new connection for ``req`` (each concrete connector implements it).

        ``BaseConnector`` is abstract for that reason: aiohttp lets it be instantiated and
        fail on first use; here the mistake shows at construction.
        """
