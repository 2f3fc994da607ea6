"""The seam between the client and request tracing (aiohttp's ``TraceConfig`` signals).

The session, the connector and the request writer report what happens through one
:class:`_Tracer` object per request. The base class does nothing, so a session without
``trace_configs`` pays one attribute check per hook site (``tracer.enabled``) and nothing
else. With trace configs, :func:`make_tracer` asks ``aioloom.client._tracing`` (the module
that implements ``TraceConfig`` and its ``Trace*Params``) for a tracer that forwards each
hook to the configs' signals; the hook names are aiohttp's ``Trace.send_*`` names.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

if TYPE_CHECKING:
    from ._response import ClientResponse

__all__ = ("NO_TRACER", "make_tracer")

_Headers = CIMultiDict[str] | CIMultiDictProxy[str]


class _Tracer:
    """The tracing hooks of one request; every hook is a no-op here."""

    __slots__ = ()

    enabled: bool = False

    async def send_request_start(self, method: str, url: URL, headers: _Headers) -> None:
        """The request is about to be sent (once per request, before redirects)."""

    async def send_request_chunk_sent(self, method: str, url: URL, chunk: bytes) -> None:
        """A piece of the request body was written."""

    async def send_response_chunk_received(self, method: str, url: URL, chunk: bytes) -> None:
        """A piece of the response body was read."""

    async def send_request_end(
        self, method: str, url: URL, headers: _Headers, response: ClientResponse
    ) -> None:
        """The final response's head arrived."""

    async def send_request_exception(
        self, method: str, url: URL, headers: _Headers, exception: BaseException
    ) -> None:
        """The request failed."""

    async def send_request_redirect(
        self, method: str, url: URL, headers: _Headers, response: ClientResponse
    ) -> None:
        """A redirect is being followed."""

    async def send_request_headers(self, method: str, url: URL, headers: _Headers) -> None:
        """The request head was written."""

    async def send_connection_queued_start(self) -> None:
        """The request waits for a free connection slot."""

    async def send_connection_queued_end(self) -> None:
        """The wait for a connection slot is over."""

    async def send_connection_create_start(self) -> None:
        """A new connection is being opened."""

    async def send_connection_create_end(self) -> None:
        """The new connection is open."""

    async def send_connection_reuseconn(self) -> None:
        """A pooled connection is reused."""

    async def send_dns_resolvehost_start(self, host: str) -> None:
        """A host name is being resolved."""

    async def send_dns_resolvehost_end(self, host: str) -> None:
        """The host name was resolved."""

    async def send_dns_cache_hit(self, host: str) -> None:
        """The host name was found in the DNS cache."""

    async def send_dns_cache_miss(self, host: str) -> None:
        """The host name was not in the DNS cache."""


NO_TRACER: _Tracer = _Tracer()


def make_tracer(
    session: object, trace_configs: Sequence[Any], trace_request_ctx: object
) -> _Tracer:
    """The tracer of one request: :data:`NO_TRACER` without trace configs.

    Raises:
        RuntimeError: trace configs were given but the tracing module is not available.
    """
    if not trace_configs:
        return NO_TRACER
    module = load_tracing()
    tracer: _Tracer = module.build_tracer(session, trace_configs, trace_request_ctx)
    return tracer


def load_tracing() -> Any:
    """Import ``aioloom.client._tracing`` (which provides ``build_tracer``).

    Raises:
        RuntimeError: the module is not part of this installation.
    """
    try:
        return importlib.import_module("aioloom.client._tracing")
    except ModuleNotFoundError as exc:
        raise RuntimeError(
            "trace_configs need request tracing (aioloom.client._tracing), which this "
            "version of aioloom-client does not include"
        ) from exc
