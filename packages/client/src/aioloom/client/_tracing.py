"""Client request tracing: aiohttp's ``TraceConfig``, its ``Trace*Params`` and the signals.

Public (aiohttp 3.14 names): :class:`TraceConfig`, whose properties are the signals. Each
signal is a :class:`Signal` (aiohttp uses ``aiosignal.Signal``; aioloom's single
implementation lives in :mod:`aioloom.http._signals`, shared with aioloom.web). The frozen
parameter class of each signal (``TraceRequestStartParams`` ...
``TraceRequestHeadersSentParams``) is in :mod:`aioloom.client._trace_params`.

Internal, for the client core: :class:`Trace` binds one ``TraceConfig`` to one request (the
session, the config and the per-request ``trace_config_ctx``). :func:`build_tracer`
(``build_tracer(session, trace_configs, trace_request_ctx)``) makes one per configured
``TraceConfig`` for a request and returns them as a :class:`TraceGroup`, whose methods fan
out to every trace in configuration order. The core awaits, at the matching moment, one of
these methods; each calls every handler of the signal, in order, as
``await handler(session, ctx, params)``:

* ``send_request_start(method, url, headers)`` -> ``on_request_start``
* ``send_request_chunk_sent(method, url, chunk)`` -> ``on_request_chunk_sent``
* ``send_response_chunk_received(method, url, chunk)`` -> ``on_response_chunk_received``
* ``send_request_end(method, url, headers, response)`` -> ``on_request_end``
* ``send_request_exception(method, url, headers, exception)`` -> ``on_request_exception``
* ``send_request_redirect(method, url, headers, response)`` -> ``on_request_redirect``
* ``send_connection_queued_start()`` / ``send_connection_queued_end()`` ->
  ``on_connection_queued_start`` / ``on_connection_queued_end``
* ``send_connection_create_start()`` / ``send_connection_create_end()`` ->
  ``on_connection_create_start`` / ``on_connection_create_end``
* ``send_connection_reuseconn()`` -> ``on_connection_reuseconn``
* ``send_dns_resolvehost_start(host)`` / ``send_dns_resolvehost_end(host)`` ->
  ``on_dns_resolvehost_start`` / ``on_dns_resolvehost_end``
* ``send_dns_cache_hit(host)`` / ``send_dns_cache_miss(host)`` ->
  ``on_dns_cache_hit`` / ``on_dns_cache_miss``
* ``send_request_headers(method, url, headers)`` -> ``on_request_headers_sent``
  (aiohttp's method name; ``send_request_headers_sent`` is the same method)

Each ``params`` is the matching frozen ``Trace*Params`` instance. A handler's exception
propagates to the caller of ``send_*`` (the remaining handlers are skipped).

Signals only fire once frozen: ``ClientSession`` calls :meth:`TraceConfig.freeze` when it
takes the config, after which adding or removing handlers raises ``RuntimeError``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import SimpleNamespace
from typing import Any, Generic, Protocol, TypeVar, overload

from multidict import CIMultiDict
from yarl import URL

from aioloom.http._signals import Signal

from ._trace_params import (
    TraceConnectionCreateEndParams,
    TraceConnectionCreateStartParams,
    TraceConnectionQueuedEndParams,
    TraceConnectionQueuedStartParams,
    TraceConnectionReuseconnParams,
    TraceDnsCacheHitParams,
    TraceDnsCacheMissParams,
    TraceDnsResolveHostEndParams,
    TraceDnsResolveHostStartParams,
    TraceRequestChunkSentParams,
    TraceRequestEndParams,
    TraceRequestExceptionParams,
    TraceRequestHeadersSentParams,
    TraceRequestRedirectParams,
    TraceRequestStartParams,
    TraceResponseChunkReceivedParams,
)

__all__ = ("Signal", "Trace", "TraceConfig", "TraceGroup", "build_tracer")

_T = TypeVar("_T", covariant=True)

# Each signal of a TraceConfig is a Signal[[Any, Any, Trace...Params]]: its handlers are awaited
# as ``handler(session, trace_config_ctx, params)``. The session (a ClientSession) and the context
# (what the TraceConfig's factory made) are typed Any so that handlers annotated with the
# concrete classes type-check. (The types are spelled out, not a generic alias: CPython cannot
# subscript an alias whose type variable sits inside a ParamSpec's list, which would break
# typing.get_type_hints() and the documentation's signatures.)


class _Factory(Protocol[_T]):
    def __call__(self, *, trace_request_ctx: Any) -> _T: ...


class TraceConfig(Generic[_T]):
    """Handlers for the tracing signals of the requests a ``ClientSession`` makes.

    Args:
        trace_config_ctx_factory: called as ``factory(trace_request_ctx=...)`` once per
            request to make the context object handed to every handler of that request.
    """

    @overload
    def __init__(self: TraceConfig[SimpleNamespace]) -> None: ...
    @overload
    def __init__(self, trace_config_ctx_factory: _Factory[_T]) -> None: ...
    def __init__(self, trace_config_ctx_factory: _Factory[Any] = SimpleNamespace) -> None:
        self._trace_config_ctx_factory: _Factory[_T] = trace_config_ctx_factory
        self._on_request_start: Signal[[Any, Any, TraceRequestStartParams]] = Signal(self)
        self._on_request_chunk_sent: Signal[[Any, Any, TraceRequestChunkSentParams]] = Signal(self)
        self._on_response_chunk_received: Signal[[Any, Any, TraceResponseChunkReceivedParams]] = (
            Signal(self)
        )
        self._on_request_end: Signal[[Any, Any, TraceRequestEndParams]] = Signal(self)
        self._on_request_exception: Signal[[Any, Any, TraceRequestExceptionParams]] = Signal(self)
        self._on_request_redirect: Signal[[Any, Any, TraceRequestRedirectParams]] = Signal(self)
        self._on_connection_queued_start: Signal[[Any, Any, TraceConnectionQueuedStartParams]] = (
            Signal(self)
        )
        self._on_connection_queued_end: Signal[[Any, Any, TraceConnectionQueuedEndParams]] = Signal(
            self
        )
        self._on_connection_create_start: Signal[[Any, Any, TraceConnectionCreateStartParams]] = (
            Signal(self)
        )
        self._on_connection_create_end: Signal[[Any, Any, TraceConnectionCreateEndParams]] = Signal(
            self
        )
        self._on_connection_reuseconn: Signal[[Any, Any, TraceConnectionReuseconnParams]] = Signal(
            self
        )
        self._on_dns_resolvehost_start: Signal[[Any, Any, TraceDnsResolveHostStartParams]] = Signal(
            self
        )
        self._on_dns_resolvehost_end: Signal[[Any, Any, TraceDnsResolveHostEndParams]] = Signal(
            self
        )
        self._on_dns_cache_hit: Signal[[Any, Any, TraceDnsCacheHitParams]] = Signal(self)
        self._on_dns_cache_miss: Signal[[Any, Any, TraceDnsCacheMissParams]] = Signal(self)
        self._on_request_headers_sent: Signal[[Any, Any, TraceRequestHeadersSentParams]] = Signal(
            self
        )

    def trace_config_ctx(self, trace_request_ctx: Any = None) -> _T:
        """Make the context for one request.

        Args:
            trace_request_ctx: the ``trace_request_ctx`` given to ``session.request()``.

        Returns:
            ``trace_config_ctx_factory(trace_request_ctx=trace_request_ctx)``.
        """
        return self._trace_config_ctx_factory(trace_request_ctx=trace_request_ctx)

    def _signals(self) -> tuple[Signal[Any], ...]:
        return (
            self._on_request_start,
            self._on_request_chunk_sent,
            self._on_response_chunk_received,
            self._on_request_end,
            self._on_request_exception,
            self._on_request_redirect,
            self._on_connection_queued_start,
            self._on_connection_queued_end,
            self._on_connection_create_start,
            self._on_connection_create_end,
            self._on_connection_reuseconn,
            self._on_dns_resolvehost_start,
            self._on_dns_resolvehost_end,
            self._on_dns_cache_hit,
            self._on_dns_cache_miss,
            self._on_request_headers_sent,
        )

    def freeze(self) -> None:
        """Freeze every signal: handlers can no longer be added or removed."""
        for signal in self._signals():
            signal.freeze()

    @property
    def on_request_start(self) -> Signal[[Any, Any, TraceRequestStartParams]]:
        """Sent before the request is prepared and sent."""
        return self._on_request_start

    @property
    def on_request_chunk_sent(self) -> Signal[[Any, Any, TraceRequestChunkSentParams]]:
        """Sent for every chunk of the request body written."""
        return self._on_request_chunk_sent

    @property
    def on_response_chunk_received(
        self,
    ) -> Signal[[Any, Any, TraceResponseChunkReceivedParams]]:
        """Sent for every chunk of the response body read."""
        return self._on_response_chunk_received

    @property
    def on_request_end(self) -> Signal[[Any, Any, TraceRequestEndParams]]:
        """Sent when the response head has been received."""
        return self._on_request_end

    @property
    def on_request_exception(self) -> Signal[[Any, Any, TraceRequestExceptionParams]]:
        """Sent when the request fails with an exception."""
        return self._on_request_exception

    @property
    def on_request_redirect(self) -> Signal[[Any, Any, TraceRequestRedirectParams]]:
        """Sent when a redirect response is followed."""
        return self._on_request_redirect

    @property
    def on_connection_queued_start(
        self,
    ) -> Signal[[Any, Any, TraceConnectionQueuedStartParams]]:
        """Sent when the request starts waiting for a free connection (pool limit hit)."""
        return self._on_connection_queued_start

    @property
    def on_connection_queued_end(
        self,
    ) -> Signal[[Any, Any, TraceConnectionQueuedEndParams]]:
        """Sent when the request stops waiting for a free connection."""
        return self._on_connection_queued_end

    @property
    def on_connection_create_start(
        self,
    ) -> Signal[[Any, Any, TraceConnectionCreateStartParams]]:
        """Sent before a new connection is opened."""
        return self._on_connection_create_start

    @property
    def on_connection_create_end(
        self,
    ) -> Signal[[Any, Any, TraceConnectionCreateEndParams]]:
        """Sent when a new connection is open."""
        return self._on_connection_create_end

    @property
    def on_connection_reuseconn(
        self,
    ) -> Signal[[Any, Any, TraceConnectionReuseconnParams]]:
        """Sent when a pooled connection is reused."""
        return self._on_connection_reuseconn

    @property
    def on_dns_resolvehost_start(
        self,
    ) -> Signal[[Any, Any, TraceDnsResolveHostStartParams]]:
        """Sent before a host name is resolved."""
        return self._on_dns_resolvehost_start

    @property
    def on_dns_resolvehost_end(
        self,
    ) -> Signal[[Any, Any, TraceDnsResolveHostEndParams]]:
        """Sent when a host name has been resolved."""
        return self._on_dns_resolvehost_end

    @property
    def on_dns_cache_hit(self) -> Signal[[Any, Any, TraceDnsCacheHitParams]]:
        """Sent when a host name is found in the DNS cache."""
        return self._on_dns_cache_hit

    @property
    def on_dns_cache_miss(self) -> Signal[[Any, Any, TraceDnsCacheMissParams]]:
        """Sent when a host name is not in the DNS cache."""
        return self._on_dns_cache_miss

    @property
    def on_request_headers_sent(
        self,
    ) -> Signal[[Any, Any, TraceRequestHeadersSentParams]]:
        """Sent when the request head has been written."""
        return self._on_request_headers_sent


class Trace:
    """One ``TraceConfig`` bound to one request: what the client core calls (internal).

    Args:
        session: the ``ClientSession`` making the request (passed to every handler).
        trace_config: the configuration whose signals are sent.
        trace_config_ctx: the context made by ``trace_config.trace_config_ctx()``.
    """

    __slots__ = ("_ctx", "_session", "_trace_config")

    def __init__(
        self, session: object, trace_config: TraceConfig[object], trace_config_ctx: object
    ) -> None:
        self._session = session
        self._trace_config = trace_config
        self._ctx = trace_config_ctx

    async def send_request_start(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        """Send ``on_request_start``."""
        await self._trace_config.on_request_start.send(
            self._session, self._ctx, TraceRequestStartParams(method, url, headers)
        )

    async def send_request_chunk_sent(self, method: str, url: URL, chunk: bytes) -> None:
        """Send ``on_request_chunk_sent``."""
        await self._trace_config.on_request_chunk_sent.send(
            self._session, self._ctx, TraceRequestChunkSentParams(method, url, chunk)
        )

    async def send_response_chunk_received(self, method: str, url: URL, chunk: bytes) -> None:
        """Send ``on_response_chunk_received``."""
        await self._trace_config.on_response_chunk_received.send(
            self._session, self._ctx, TraceResponseChunkReceivedParams(method, url, chunk)
        )

    async def send_request_end(
        self, method: str, url: URL, headers: CIMultiDict[str], response: object
    ) -> None:
        """Send ``on_request_end``."""
        await self._trace_config.on_request_end.send(
            self._session, self._ctx, TraceRequestEndParams(method, url, headers, response)
        )

    async def send_request_exception(
        self, method: str, url: URL, headers: CIMultiDict[str], exception: BaseException
    ) -> None:
        """Send ``on_request_exception``."""
        await self._trace_config.on_request_exception.send(
            self._session,
            self._ctx,
            TraceRequestExceptionParams(method, url, headers, exception),
        )

    async def send_request_redirect(
        self, method: str, url: URL, headers: CIMultiDict[str], response: object
    ) -> None:
        """Send ``on_request_redirect``."""
        await self._trace_config.on_request_redirect.send(
            self._session, self._ctx, TraceRequestRedirectParams(method, url, headers, response)
        )

    async def send_connection_queued_start(self) -> None:
        """Send ``on_connection_queued_start``."""
        await self._trace_config.on_connection_queued_start.send(
            self._session, self._ctx, TraceConnectionQueuedStartParams()
        )

    async def send_connection_queued_end(self) -> None:
        """Send ``on_connection_queued_end``."""
        await self._trace_config.on_connection_queued_end.send(
            self._session, self._ctx, TraceConnectionQueuedEndParams()
        )

    async def send_connection_create_start(self) -> None:
        """Send ``on_connection_create_start``."""
        await self._trace_config.on_connection_create_start.send(
            self._session, self._ctx, TraceConnectionCreateStartParams()
        )

    async def send_connection_create_end(self) -> None:
        """Send ``on_connection_create_end``."""
        await self._trace_config.on_connection_create_end.send(
            self._session, self._ctx, TraceConnectionCreateEndParams()
        )

    async def send_connection_reuseconn(self) -> None:
        """Send ``on_connection_reuseconn``."""
        await self._trace_config.on_connection_reuseconn.send(
            self._session, self._ctx, TraceConnectionReuseconnParams()
        )

    async def send_dns_resolvehost_start(self, host: str) -> None:
        """Send ``on_dns_resolvehost_start``."""
        await self._trace_config.on_dns_resolvehost_start.send(
            self._session, self._ctx, TraceDnsResolveHostStartParams(host)
        )

    async def send_dns_resolvehost_end(self, host: str) -> None:
        """Send ``on_dns_resolvehost_end``."""
        await self._trace_config.on_dns_resolvehost_end.send(
            self._session, self._ctx, TraceDnsResolveHostEndParams(host)
        )

    async def send_dns_cache_hit(self, host: str) -> None:
        """Send ``on_dns_cache_hit``."""
        await self._trace_config.on_dns_cache_hit.send(
            self._session, self._ctx, TraceDnsCacheHitParams(host)
        )

    async def send_dns_cache_miss(self, host: str) -> None:
        """Send ``on_dns_cache_miss``."""
        await self._trace_config.on_dns_cache_miss.send(
            self._session, self._ctx, TraceDnsCacheMissParams(host)
        )

    async def send_request_headers(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        """Send ``on_request_headers_sent`` (aiohttp's name for this method)."""
        await self._trace_config.on_request_headers_sent.send(
            self._session, self._ctx, TraceRequestHeadersSentParams(method, url, headers)
        )

    send_request_headers_sent = send_request_headers


class TraceGroup:
    """The traces of one request, one per ``TraceConfig``: what ``build_tracer`` returns.

    It has every ``send_*`` method of :class:`Trace`; each awaits that method on every trace
    in configuration order. ``enabled`` is always ``True`` (the client core skips the
    hooks of a tracer whose ``enabled`` is false).
    """

    __slots__ = ("traces",)

    enabled = True

    def __init__(self, traces: Sequence[Trace]) -> None:
        self.traces = tuple(traces)

    async def _each(self, method: str, *args: Any) -> None:
        for trace in self.traces:
            await getattr(trace, method)(*args)

    async def send_request_start(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        """Send ``on_request_start`` on every trace."""
        await self._each("send_request_start", method, url, headers)

    async def send_request_chunk_sent(self, method: str, url: URL, chunk: bytes) -> None:
        """Send ``on_request_chunk_sent`` on every trace."""
        await self._each("send_request_chunk_sent", method, url, chunk)

    async def send_response_chunk_received(self, method: str, url: URL, chunk: bytes) -> None:
        """Send ``on_response_chunk_received`` on every trace."""
        await self._each("send_response_chunk_received", method, url, chunk)

    async def send_request_end(
        self, method: str, url: URL, headers: CIMultiDict[str], response: object
    ) -> None:
        """Send ``on_request_end`` on every trace."""
        await self._each("send_request_end", method, url, headers, response)

    async def send_request_exception(
        self, method: str, url: URL, headers: CIMultiDict[str], exception: BaseException
    ) -> None:
        """Send ``on_request_exception`` on every trace."""
        await self._each("send_request_exception", method, url, headers, exception)

    async def send_request_redirect(
        self, method: str, url: URL, headers: CIMultiDict[str], response: object
    ) -> None:
        """Send ``on_request_redirect`` on every trace."""
        await self._each("send_request_redirect", method, url, headers, response)

    async def send_request_headers(self, method: str, url: URL, headers: CIMultiDict[str]) -> None:
        """Send ``on_request_headers_sent`` on every trace."""
        await self._each("send_request_headers", method, url, headers)

    send_request_headers_sent = send_request_headers

    async def send_connection_queued_start(self) -> None:
        """Send ``on_connection_queued_start`` on every trace."""
        await self._each("send_connection_queued_start")

    async def send_connection_queued_end(self) -> None:
        """Send ``on_connection_queued_end`` on every trace."""
        await self._each("send_connection_queued_end")

    async def send_connection_create_start(self) -> None:
        """Send ``on_connection_create_start`` on every trace."""
        await self._each("send_connection_create_start")

    async def send_connection_create_end(self) -> None:
        """Send ``on_connection_create_end`` on every trace."""
        await self._each("send_connection_create_end")

    async def send_connection_reuseconn(self) -> None:
        """Send ``on_connection_reuseconn`` on every trace."""
        await self._each("send_connection_reuseconn")

    async def send_dns_resolvehost_start(self, host: str) -> None:
        """Send ``on_dns_resolvehost_start`` on every trace."""
        await self._each("send_dns_resolvehost_start", host)

    async def send_dns_resolvehost_end(self, host: str) -> None:
        """Send ``on_dns_resolvehost_end`` on every trace."""
        await self._each("send_dns_resolvehost_end", host)

    async def send_dns_cache_hit(self, host: str) -> None:
        """Send ``on_dns_cache_hit`` on every trace."""
        await self._each("send_dns_cache_hit", host)

    async def send_dns_cache_miss(self, host: str) -> None:
        """Send ``on_dns_cache_miss`` on every trace."""
        await self._each("send_dns_cache_miss", host)


def build_tracer(
    session: object, trace_configs: Iterable[TraceConfig[Any]], trace_request_ctx: object
) -> TraceGroup:
    """Make the tracer of one request (the entry point ``_tracer.make_tracer`` imports).

    Args:
        session: the ``ClientSession`` sending the request.
        trace_configs: the session's (frozen) trace configurations.
        trace_request_ctx: the request's ``trace_request_ctx`` argument.

    Returns:
        One :class:`Trace` per configuration, each with a fresh ``trace_config_ctx``.
    """
    return TraceGroup(
        [
            Trace(session, config, config.trace_config_ctx(trace_request_ctx=trace_request_ctx))
            for config in trace_configs
        ]
    )
