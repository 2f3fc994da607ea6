"""The ``Trace*Params`` classes: what each ``TraceConfig`` signal hands its handlers.

One frozen, slotted dataclass per signal of :class:`~aioloom.client.TraceConfig`, with
aiohttp 3.14's names and fields (``aiohttp.tracing``). A handler receives one as its third
argument, ``await handler(session, trace_config_ctx, params)``; ``on_request_start`` gets a
:class:`TraceRequestStartParams`, and so on. Signals about the connection pool carry no fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from multidict import CIMultiDict
from yarl import URL

__all__ = (
    "TraceConnectionCreateEndParams",
    "TraceConnectionCreateStartParams",
    "TraceConnectionQueuedEndParams",
    "TraceConnectionQueuedStartParams",
    "TraceConnectionReuseconnParams",
    "TraceDnsCacheHitParams",
    "TraceDnsCacheMissParams",
    "TraceDnsResolveHostEndParams",
    "TraceDnsResolveHostStartParams",
    "TraceRequestChunkSentParams",
    "TraceRequestEndParams",
    "TraceRequestExceptionParams",
    "TraceRequestHeadersSentParams",
    "TraceRequestRedirectParams",
    "TraceRequestStartParams",
    "TraceResponseChunkReceivedParams",
)


@dataclass(frozen=True, slots=True)
class TraceRequestStartParams:
    """Parameters sent by the ``on_request_start`` signal."""

    method: str
    url: URL
    headers: CIMultiDict[str]


@dataclass(frozen=True, slots=True)
class TraceRequestChunkSentParams:
    """Parameters sent by the ``on_request_chunk_sent`` signal."""

    method: str
    url: URL
    chunk: bytes


@dataclass(frozen=True, slots=True)
class TraceResponseChunkReceivedParams:
    """Parameters sent by the ``on_response_chunk_received`` signal."""

    method: str
    url: URL
    chunk: bytes


@dataclass(frozen=True, slots=True)
class TraceRequestEndParams:
    """Parameters sent by the ``on_request_end`` signal (``response``: the ClientResponse)."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    response: Any


@dataclass(frozen=True, slots=True)
class TraceRequestExceptionParams:
    """Parameters sent by the ``on_request_exception`` signal."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    exception: BaseException


@dataclass(frozen=True, slots=True)
class TraceRequestRedirectParams:
    """Parameters sent by the ``on_request_redirect`` signal (``response``: the redirect)."""

    method: str
    url: URL
    headers: CIMultiDict[str]
    response: Any


@dataclass(frozen=True, slots=True)
class TraceConnectionQueuedStartParams:
    """Parameters sent by the ``on_connection_queued_start`` signal (none)."""


@dataclass(frozen=True, slots=True)
class TraceConnectionQueuedEndParams:
    """Parameters sent by the ``on_connection_queued_end`` signal (none)."""


@dataclass(frozen=True, slots=True)
class TraceConnectionCreateStartParams:
    """Parameters sent by the ``on_connection_create_start`` signal (none)."""


@dataclass(frozen=True, slots=True)
class TraceConnectionCreateEndParams:
    """Parameters sent by the ``on_connection_create_end`` signal (none)."""


@dataclass(frozen=True, slots=True)
class TraceConnectionReuseconnParams:
    """Parameters sent by the ``on_connection_reuseconn`` signal (none)."""


@dataclass(frozen=True, slots=True)
class TraceDnsResolveHostStartParams:
    """Parameters sent by the ``on_dns_resolvehost_start`` signal."""

    host: str


@dataclass(frozen=True, slots=True)
class TraceDnsResolveHostEndParams:
    """Parameters sent by the ``on_dns_resolvehost_end`` signal."""

    host: str


@dataclass(frozen=True, slots=True)
class TraceDnsCacheHitParams:
    """Parameters sent by the ``on_dns_cache_hit`` signal."""

    host: str


@dataclass(frozen=True, slots=True)
class TraceDnsCacheMissParams:
    """Parameters sent by the ``on_dns_cache_miss`` signal."""

    host: str


@dataclass(frozen=True, slots=True)
class TraceRequestHeadersSentParams:
    """Parameters sent by the ``on_request_headers_sent`` signal."""

    method: str
    url: URL
    headers: CIMultiDict[str]
