"""The concrete connectors: :class:`TCPConnector` and :class:`UnixConnector`.

``TCPConnector`` opens a connection in four steps, each mapped to its own error:

1. resolve the host (cached for ``ttl_dns_cache`` seconds, one lookup at a time per host)
   -- :class:`ClientConnectorDNSError`;
2. connect to the addresses with Happy Eyeballs (RFC 8305: the next address is tried
   after ``happy_eyeballs_delay`` seconds, or as soon as the previous one failed;
   address families interleaved) -- :class:`ClientConnectorError`;
3. the TLS handshake for https (verification on by default, ALPN ``http/1.1``) --
   :class:`ClientConnectorCertificateError` / :class:`ClientConnectorSSLError`;
4. certificate pinning when a :class:`Fingerprint` applies -- :class:`ServerFingerprintMismatch`.

``sock_connect`` bounds steps 2 and 3 together. Through a proxy: a plain-HTTP request goes
to the proxy in absolute-form; an https one first opens a tunnel with ``CONNECT``
(RFC 9110 §9.3.6; :class:`ClientHttpProxyError` when refused) and runs the TLS handshake
with the origin inside it (``loop.start_tls``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Callable, Sequence
from typing import Any, Final

from multidict import CIMultiDict, CIMultiDictProxy

from aioloom.http import hdrs
from aioloom.http._exceptions import HttpProcessingError
from aioloom.http._serialize import serialize_head

from ._connection import ResponseHandler
from ._connector import _SENTINEL, BaseConnector, _Sentinel
from ._exceptions import (
    ClientConnectorCertificateError,
    ClientConnectorDNSError,
    ClientConnectorError,
    ClientConnectorSSLError,
    ClientHttpProxyError,
    ClientProxyConnectionError,
    UnixClientConnectorError,
)
from ._fingerprint import SSLArg, check_ssl_arg, fingerprint_of, ssl_context_for
from ._reqrep_info import ConnectionKey, RequestInfo
from ._request import ClientRequest
from ._resolver import AbstractResolver, DefaultResolver, DNSCache, ResolveResult
from ._timeouts import ClientTimeout, TimeoutScope
from ._tracer import _Tracer

__all__ = ("AddrInfoType", "SocketFactoryType", "TCPConnector", "UnixConnector")

AddrInfoType = tuple[int, int, int, str, tuple[Any, ...]]
SocketFactoryType = Callable[[AddrInfoType], socket.socket]

_CERT_ERRORS: Final = (ssl.CertificateError,)
_SSL_ERRORS: Final = (ssl.SSLError,)


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.partition("%")[0])
    except ValueError:
        return False
    return True


def _interleave(infos: list[AddrInfoType], first_family_count: int) -> list[AddrInfoType]:
    """Alternate address families (RFC 8305 §4), ``first_family_count`` of the first first."""
    by_family: dict[int, list[AddrInfoType]] = {}
    for info in infos:
        by_family.setdefault(info[0], []).append(info)
    if len(by_family) < 2:
        return infos
    first, *others = by_family.values()
    result = first[:first_family_count]
    rest = [*others, first[first_family_count:]]  # the other family goes next
    while any(rest):
        for queue in rest:
            if queue:
                result.append(queue.pop(0))
    return result


def _addr_infos(hosts: Sequence[ResolveResult]) -> list[AddrInfoType]:
    infos: list[AddrInfoType] = []
    for host in hosts:
        if host["family"] == socket.AF_INET6:
            address: tuple[Any, ...] = (host["host"], host["port"], 0, 0)
        else:
            address = (host["host"], host["port"])
        infos.append((host["family"], socket.SOCK_STREAM, host["proto"], "", address))
    return infos


class TCPConnector(BaseConnector):
    """Connections over TCP (and TLS), aiohttp's ``TCPConnector``.

    Args:
        ssl: the default TLS setting for https: True (verify), False (do not verify), an
            :class:`ssl.SSLContext`, or a :class:`Fingerprint`.
        use_dns_cache: keep resolved addresses.
        ttl_dns_cache: seconds a resolution is kept (None: forever).
        family: 0 for any, ``socket.AF_INET`` or ``socket.AF_INET6``.
        local_addr: ``(host, port)`` to bind the local end to.
        resolver: an :class:`AbstractResolver`; :data:`DefaultResolver` when None.
        happy_eyeballs_delay: seconds before trying the next address (None: one by one).
        interleave: how many addresses of the first family come before the next family.
        socket_factory: builds each socket from its address info.

    The other arguments are :class:`BaseConnector`'s.
    """

    def __init__(
        self,
        *,
        ssl: SSLArg = True,
        use_dns_cache: bool = True,
        ttl_dns_cache: float | None = 10,
        family: int = socket.AF_UNSPEC,
        local_addr: tuple[str, int] | None = None,
        resolver: AbstractResolver | None = None,
        keepalive_timeout: float | None | _Sentinel = _SENTINEL,
        force_close: bool = False,
        limit: int = 100,
        limit_per_host: int = 0,
        enable_cleanup_closed: bool = False,
        timeout_ceil_threshold: float = 5,
        happy_eyeballs_delay: float | None = 0.25,
        interleave: int | None = None,
        socket_factory: SocketFactoryType | None = None,
    ) -> None:
        super().__init__(
            keepalive_timeout=keepalive_timeout,
            force_close=force_close,
            limit=limit,
            limit_per_host=limit_per_host,
            enable_cleanup_closed=enable_cleanup_closed,
            timeout_ceil_threshold=timeout_ceil_threshold,
        )
        self._ssl = check_ssl_arg(ssl)
        self._resolver_owner = resolver is None
        self._resolver: AbstractResolver = DefaultResolver() if resolver is None else resolver
        self._use_dns_cache = use_dns_cache
        self._cached_hosts = DNSCache(ttl=ttl_dns_cache)
        self._resolving: dict[tuple[str, int], asyncio.Task[list[ResolveResult]]] = {}
        self._family = socket.AddressFamily(family)
        self._local_addr = local_addr
        self._happy_eyeballs_delay = happy_eyeballs_delay
        self._interleave = interleave
        self._socket_factory = socket_factory

    @property
    def family(self) -> int:
        """The address family connections use (0: any)."""
        return self._family

    @property
    def use_dns_cache(self) -> bool:
        """True when resolved addresses are cached."""
        return self._use_dns_cache

    def clear_dns_cache(self, host: str | None = None, port: int | None = None) -> None:
        """Forget the cached addresses of ``(host, port)``, or all of them.

        Raises:
            ValueError: ``host`` without ``port`` or the reverse.
        """
        if host is not None and port is not None:
            self._cached_hosts.remove((host, port))
        elif host is not None or port is not None:
            raise ValueError("either both host and port or none of them are allowed")
        else:
            self._cached_hosts.clear()

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close the connections, cancel pending lookups, close an owned resolver."""
        for task in self._resolving.values():
            task.cancel()
        self._resolving.clear()
        await super().close(abort_ssl=abort_ssl)
        if self._resolver_owner:
            await self._resolver.close()

    # -- resolution ---------------------------------------------------------------------------

    async def _resolve_host(self, host: str, port: int, tracer: _Tracer) -> list[ResolveResult]:
        if _is_ip_address(host):
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            return [
                ResolveResult(hostname=host, host=host, port=port, family=family, proto=0, flags=0)
            ]
        if not self._use_dns_cache:
            return await self._lookup(host, port, tracer)
        key = (host, port)
        if key in self._cached_hosts and not self._cached_hosts.expired(key):
            if tracer.enabled:
                await tracer.send_dns_cache_hit(host)
            return self._cached_hosts.next_addrs(key)
        task = self._resolving.get(key)
        if task is None:
            if tracer.enabled:
                await tracer.send_dns_cache_miss(host)
            # One lookup per host, shared by every request waiting for it; a task, so
            # that cancelling one request does not cancel the others' lookup.
            task = self._loop.create_task(self._lookup_and_cache(key, tracer))
            self._resolving[key] = task
            task.add_done_callback(lambda done: self._lookup_done(key, done))
        return await asyncio.shield(task)

    def _lookup_done(self, key: tuple[str, int], task: asyncio.Task[list[ResolveResult]]) -> None:
        if self._resolving.get(key) is task:
            del self._resolving[key]
        if not task.cancelled():
            task.exception()  # retrieved: the waiters (if any) got it already

    async def _lookup_and_cache(self, key: tuple[str, int], tracer: _Tracer) -> list[ResolveResult]:
        addrs = await self._lookup(key[0], key[1], tracer)
        self._cached_hosts.add(key, addrs)
        return self._cached_hosts.next_addrs(key)

    async def _lookup(self, host: str, port: int, tracer: _Tracer) -> list[ResolveResult]:
        if tracer.enabled:
            await tracer.send_dns_resolvehost_start(host)
        addrs = await self._resolver.resolve(host, port, family=self._family)
        if tracer.enabled:
            await tracer.send_dns_resolvehost_end(host)
        return addrs

    # -- connecting ---------------------------------------------------------------------------

    async def _create_connection(
        self, req: ClientRequest, tracer: _Tracer, timeout: ClientTimeout
    ) -> ResponseHandler:
        if req.proxy is not None:
            return await self._create_proxy_connection(req, tracer, timeout)
        return await self._create_direct_connection(req, tracer, timeout)

    async def _create_direct_connection(
        self,
        req: ClientRequest,
        tracer: _Tracer,
        timeout: ClientTimeout,
        *,
        client_error: type[ClientConnectorError] = ClientConnectorError,
    ) -> ResponseHandler:
        key = req.connection_key
        port = req.port
        assert port is not None
        try:
            hosts = await self._resolve_host(req.host, port, tracer)
        except OSError as exc:
            if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                raise
            raise ClientConnectorDNSError(key, exc) from exc
        infos = _addr_infos(hosts)
        interleave = self._interleave
        if interleave is None and self._happy_eyeballs_delay is not None:
            interleave = 1
        if interleave:
            infos = _interleave(infos, interleave)
        sslcontext = ssl_context_for(req.ssl, self._ssl) if req.is_ssl() else None
        server_hostname = (req.server_hostname or req.host).rstrip(".") if sslcontext else None
        proto = await self._connect(infos, key, timeout, sslcontext, server_hostname, client_error)
        self._check_fingerprint(req, proto)
        return proto

    def _check_fingerprint(self, req: ClientRequest, proto: ResponseHandler) -> None:
        fingerprint = fingerprint_of(req.ssl, self._ssl) if req.is_ssl() else None
        if fingerprint is not None and proto.transport is not None:
            fingerprint.check(proto.transport)

    async def _connect(
        self,
        infos: list[AddrInfoType],
        key: ConnectionKey,
        timeout: ClientTimeout,
        sslcontext: ssl.SSLContext | None,
        server_hostname: str | None,
        client_error: type[ClientConnectorError],
    ) -> ResponseHandler:
        loop = self._loop
        try:
            with TimeoutScope(loop, timeout.sock_connect, timeout.ceil_threshold):
                sock = await self._open_socket(infos)
                _, proto = await loop.create_connection(
                    lambda: ResponseHandler(loop),
                    sock=sock,
                    ssl=sslcontext,
                    server_hostname=server_hostname,
                )
        except _CERT_ERRORS as exc:
            raise ClientConnectorCertificateError(key, exc) from exc
        except _SSL_ERRORS as exc:
            raise ClientConnectorSSLError(key, exc) from exc
        except OSError as exc:
            if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                raise
            raise client_error(key, exc) from exc
        return proto

    async def _open_socket(self, infos: list[AddrInfoType]) -> socket.socket:
        """Connect to the first address that answers (RFC 8305 §5, Happy Eyeballs).

        Raises:
            OSError: every address failed (the last error, or one naming them all).
        """
        if not infos:
            raise OSError("no address to connect to")
        delay = self._happy_eyeballs_delay
        if delay is None or len(infos) == 1:
            errors: list[OSError] = []
            for info in infos:
                try:
                    return await self._connect_one(info)
                except OSError as exc:
                    errors.append(exc)
            raise _combined(errors)
        return await self._race(infos, delay)

    async def _race(self, infos: list[AddrInfoType], delay: float) -> socket.socket:
        pending: set[asyncio.Task[socket.socket]] = set()
        errors: list[OSError] = []
        remaining = iter(infos)
        winner: socket.socket | None = None
        try:
            while winner is None:
                info = next(remaining, None)
                if info is not None:
                    pending.add(self._loop.create_task(self._connect_one(info)))
                if not pending:
                    break
                done, pending = await asyncio.wait(
                    pending,
                    timeout=delay if info is not None else None,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in done:
                    exc = task.exception()
                    if exc is None and winner is None:
                        winner = task.result()
                    elif exc is None:
                        task.result().close()
                    elif isinstance(exc, OSError):
                        errors.append(exc)
                    else:
                        raise exc
        finally:
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
                for task in pending:
                    if not task.cancelled() and task.exception() is None:
                        task.result().close()
        if winner is None:
            raise _combined(errors)
        return winner

    async def _connect_one(self, info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, address = info
        factory = self._socket_factory
        sock = factory(info) if factory is not None else socket.socket(family, type_, proto)
        try:
            sock.setblocking(False)
            if self._local_addr is not None:
                sock.bind(self._local_addr)
            await self._loop.sock_connect(sock, address)
        except BaseException:
            sock.close()
            raise
        return sock

    # -- proxies ------------------------------------------------------------------------------

    async def _create_proxy_connection(
        self, req: ClientRequest, tracer: _Tracer, timeout: ClientTimeout
    ) -> ResponseHandler:
        proxy = req.proxy
        assert proxy is not None
        proxy_req = ClientRequest(hdrs.METH_GET, proxy, loop=self._loop, ssl=req.ssl)
        proto = await self._create_direct_connection(
            proxy_req, tracer, timeout, client_error=ClientProxyConnectionError
        )
        if not req.is_ssl():
            return proto  # the request goes through in absolute-form (RFC 9112 §3.2.2)
        try:
            await self._open_tunnel(req, proto, timeout)
        except BaseException:
            proto.close()
            raise
        return await self._start_tls(req, proto, timeout)

    async def _open_tunnel(
        self, req: ClientRequest, proto: ResponseHandler, timeout: ClientTimeout
    ) -> None:
        """Ask the proxy for a tunnel to the origin (RFC 9110 §9.3.6).

        Raises:
            ClientHttpProxyError: the proxy answered with a status other than 2xx.
        """
        authority = f"{req.url.host_subcomponent}:{req.port}"
        headers: CIMultiDict[str] = CIMultiDict({hdrs.HOST: authority})
        if req.proxy_headers:
            headers.extend(req.proxy_headers)
        if req.proxy_auth is not None:
            headers[hdrs.PROXY_AUTHORIZATION] = req.proxy_auth.encode()
        transport = proto.transport
        assert transport is not None
        proto.set_response_params(
            method=hdrs.METH_CONNECT,
            read_timeout=timeout.sock_read,
            timeout_ceil_threshold=timeout.ceil_threshold,
        )
        transport.write(serialize_head(f"CONNECT {authority} HTTP/1.1", headers))
        info = RequestInfo(req.url, hdrs.METH_CONNECT, CIMultiDictProxy(headers), req.url)
        try:
            message, _ = await proto.read_head()
        except HttpProcessingError as exc:
            raise ClientHttpProxyError(info, (), status=exc.code, message=exc.message) from exc
        if not 200 <= message.code < 300 or not proto.upgraded:
            raise ClientHttpProxyError(
                info, (), status=message.code, message=message.reason, headers=message.headers
            )

    async def _start_tls(
        self, req: ClientRequest, proto: ResponseHandler, timeout: ClientTimeout
    ) -> ResponseHandler:
        """Run the TLS handshake with the origin inside the tunnel."""
        loop = self._loop
        key = req.connection_key
        transport = proto.transport
        assert transport is not None
        sslcontext = ssl_context_for(req.ssl, self._ssl)
        tls_proto = ResponseHandler(loop)
        try:
            with TimeoutScope(loop, timeout.sock_connect, timeout.ceil_threshold):
                tls_transport = await loop.start_tls(
                    transport,
                    tls_proto,
                    sslcontext,
                    server_hostname=(req.server_hostname or req.host).rstrip("."),
                )
        except _CERT_ERRORS as exc:
            transport.close()
            raise ClientConnectorCertificateError(key, exc) from exc
        except _SSL_ERRORS as exc:
            transport.close()
            raise ClientConnectorSSLError(key, exc) from exc
        except OSError as exc:
            transport.close()
            if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                raise
            raise ClientConnectorError(key, exc) from exc
        except BaseException:
            transport.close()
            raise
        if tls_transport is None:  # the loop could not upgrade the transport
            transport.close()
            raise ClientConnectorSSLError(key, ssl.SSLError("start_tls gave no transport"))
        tls_proto.connection_made(tls_transport)
        self._check_fingerprint(req, tls_proto)
        return tls_proto


def _combined(errors: list[OSError]) -> OSError:
    """One error for several failed addresses (the same one when they all agree)."""
    if not errors:
        return OSError("connection failed")
    first = errors[0]
    if len(errors) == 1 or all(str(exc) == str(first) for exc in errors):
        return first
    text = "; ".join(dict.fromkeys(str(exc) for exc in errors))
    return OSError(first.errno, f"Multiple exceptions: {text}")


class UnixConnector(BaseConnector):
    """Connections over a Unix domain socket (every request goes to ``path``).

    Args:
        path: the socket's path.

    The other arguments are :class:`BaseConnector`'s.
    """

    def __init__(
        self,
        path: str,
        force_close: bool = False,
        keepalive_timeout: float | None | _Sentinel = _SENTINEL,
        limit: int = 100,
        limit_per_host: int = 0,
    ) -> None:
        super().__init__(
            force_close=force_close,
            keepalive_timeout=keepalive_timeout,
            limit=limit,
            limit_per_host=limit_per_host,
        )
        self._path = path

    @property
    def path(self) -> str:
        """The socket's path."""
        return self._path

    async def _create_connection(
        self, req: ClientRequest, tracer: _Tracer, timeout: ClientTimeout
    ) -> ResponseHandler:
        loop = self._loop
        try:
            with TimeoutScope(loop, timeout.sock_connect, timeout.ceil_threshold):
                _, proto = await loop.create_unix_connection(
                    lambda: ResponseHandler(loop), self._path
                )
        except OSError as exc:
            if exc.errno is None and isinstance(exc, asyncio.TimeoutError):
                raise
            raise UnixClientConnectorError(self._path, req.connection_key, exc) from exc
        return proto
