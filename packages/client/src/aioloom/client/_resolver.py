"""Host name resolution: the resolvers and the connector's DNS cache.

* :class:`ThreadedResolver` (the default, :data:`DefaultResolver`) uses
  ``loop.getaddrinfo``, i.e. the system resolver in a thread.
* :class:`AsyncResolver` uses ``aiodns`` (c-ares), imported only when the resolver is
  created: without it, creating one raises an :class:`ImportError` naming
  ``pip install "aioloom-client[speedups]"``.
* :class:`DNSCache` keeps resolved addresses for ``ttl`` seconds and hands them out in
  rotating order, so successive connections spread over the addresses (round robin).

Resolvers return aiohttp's :class:`ResolveResult` dicts; a failed lookup raises
:class:`OSError` (``socket.gaierror`` for the threaded resolver), which the connector turns
into :class:`ClientConnectorDNSError`.
"""

from __future__ import annotations

import asyncio
import importlib
import socket
import time
from abc import ABC, abstractmethod
from typing import Any, Final, TypedDict

__all__ = (
    "AbstractResolver",
    "AsyncResolver",
    "DNSCache",
    "DefaultResolver",
    "ResolveResult",
    "ThreadedResolver",
)

_NUMERIC: Final = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
_AIODNS_HINT: Final = 'AsyncResolver needs aiodns: pip install "aioloom-client[speedups]"'


class ResolveResult(TypedDict):
    """One resolved address (aiohttp's ``ResolveResult``)."""

    hostname: str
    host: str
    port: int
    family: int
    proto: int
    flags: int


class AbstractResolver(ABC):
    """The resolver interface (aiohttp's ``AbstractResolver``)."""

    @abstractmethod
    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Resolve ``host`` to its addresses.

        Raises:
            OSError: the lookup failed.
        """

    @abstractmethod
    async def close(self) -> None:
        """Release the resolver's resources."""


class ThreadedResolver(AbstractResolver):
    """Resolves with ``loop.getaddrinfo`` (the system resolver, in the default executor)."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        infos = await self._loop.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, family=family, flags=socket.AI_ADDRCONFIG
        )
        hosts: list[ResolveResult] = []
        for info_family, _, proto, _, address in infos:
            if info_family == socket.AF_INET6:
                if len(address) < 3:
                    continue  # an interpreter built without IPv6 support
                if address[3]:
                    # A link-local address: keep its zone (RFC 6874), e.g. fe80::1%eth0.
                    resolved, port_text = await self._loop.getnameinfo(address, _NUMERIC)
                    resolved_port = int(port_text)
                else:
                    resolved, resolved_port = str(address[0]), int(address[1])
            else:
                resolved, resolved_port = str(address[0]), int(address[1])
            hosts.append(
                ResolveResult(
                    hostname=host,
                    host=resolved,
                    port=resolved_port,
                    family=int(info_family),
                    proto=proto,
                    flags=_NUMERIC,
                )
            )
        return hosts

    async def close(self) -> None:
        """Nothing to release."""


def _import_aiodns() -> Any:
    try:
        return importlib.import_module("aiodns")
    except ModuleNotFoundError as exc:
        raise ImportError(_AIODNS_HINT) from exc


class AsyncResolver(AbstractResolver):
    """Resolves with ``aiodns`` (c-ares); arguments go to ``aiodns.DNSResolver``.

    Raises:
        ImportError: aiodns is not installed (the message names the pip command).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._aiodns = _import_aiodns()
        self._resolver = self._aiodns.DNSResolver(*args, **kwargs)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            response = await self._resolver.getaddrinfo(
                host, port=port, type=socket.SOCK_STREAM, family=family, flags=socket.AI_ADDRCONFIG
            )
        except self._aiodns.error.DNSError as exc:
            message = exc.args[1] if len(exc.args) > 1 else "DNS lookup failed"
            raise OSError(None, message) from exc
        hosts: list[ResolveResult] = []
        for node in response.nodes:
            address = node.addr
            resolved = address[0].decode("ascii")
            resolved_port = int(address[1])
            if node.family == socket.AF_INET6 and len(address) > 3 and address[3]:
                name = await self._resolver.getnameinfo((resolved, *address[1:]), _NUMERIC)
                resolved = name.node
            hosts.append(
                ResolveResult(
                    hostname=host,
                    host=resolved,
                    port=resolved_port,
                    family=int(node.family),
                    proto=0,
                    flags=_NUMERIC,
                )
            )
        if not hosts:
            raise OSError(None, "DNS lookup failed")
        return hosts

    async def close(self) -> None:
        """Cancel the queries in flight."""
        self._resolver.cancel()


DefaultResolver = ThreadedResolver

_CacheKey = tuple[str, int]


class DNSCache:
    """Resolved addresses per ``(host, port)``, kept for ``ttl`` seconds (None: forever).

    :meth:`next_addrs` rotates the list on every call (round robin between connections).
    """

    __slots__ = ("_addrs", "_stamps", "_ttl")

    def __init__(self, ttl: float | None = None) -> None:
        self._addrs: dict[_CacheKey, list[ResolveResult]] = {}
        self._stamps: dict[_CacheKey, float] = {}
        self._ttl = ttl

    def __contains__(self, key: object) -> bool:
        return key in self._addrs

    def add(self, key: _CacheKey, addrs: list[ResolveResult]) -> None:
        """Store the addresses of ``key``."""
        self._addrs[key] = list(addrs)
        if self._ttl is not None:
            self._stamps[key] = time.monotonic()

    def remove(self, key: _CacheKey) -> None:
        """Forget ``key``."""
        self._addrs.pop(key, None)
        self._stamps.pop(key, None)

    def clear(self) -> None:
        """Forget everything."""
        self._addrs.clear()
        self._stamps.clear()

    def next_addrs(self, key: _CacheKey) -> list[ResolveResult]:
        """The addresses of ``key``, starting one further than last time."""
        addrs = self._addrs[key]
        result = list(addrs)
        if len(addrs) > 1:
            addrs.append(addrs.pop(0))
        return result

    def expired(self, key: _CacheKey) -> bool:
        """True when ``key`` was stored more than ``ttl`` seconds ago."""
        if self._ttl is None:
            return False
        return self._stamps[key] + self._ttl < time.monotonic()
