"""``MockConnector``: a client connector that serves requests in process, with no socket.

Give a :class:`~aioloom.client.ClientSession` a ``MockConnector(app)`` and every request it
sends is answered by ``app`` (an :class:`~aioloom.web.Application`, a low-level
:class:`~aioloom.web.Server`, or a bare ``async def handler(request)``) over an in-memory
transport pair (:mod:`aioloom.testing._memory`)::

    async with ClientSession(connector=MockConnector(app)) as session:
        async with session.get("http://api.example/users") as resp:
            assert resp.status == 200

Nothing is mocked on either side: the client's real connection protocol parses the
server's real output, so keep-alive, pooling, limits, redirects, cookies, compression,
streaming and timeouts behave as over TCP. Only the socket, the DNS lookup and the TLS
handshake are skipped. The host and port of each URL are kept (the server sees them in
``Host``); an ``https`` URL reaches the server as a secure request (``request.secure``),
with no certificate involved.

The connector is the seam: it is a :class:`~aioloom.client.BaseConnector` whose
``_create_connection`` makes the pair instead of dialing, so the session needs no hook.
The application is started (``on_startup``) on the first request and cleaned up when the
connector closes -- with the session that owns it.
"""

from __future__ import annotations

import asyncio
import itertools
import ssl
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Final

from aioloom.client import BaseConnector
from aioloom.client._connection import ResponseHandler  # the client protocol: not public

from ._memory import memory_transport_pair
from ._server import TEST_SHUTDOWN_TIMEOUT

if TYPE_CHECKING:
    from aioloom.client import ClientRequest, ClientTimeout
    from aioloom.client._tracer import _Tracer  # BaseConnector._create_connection's argument
    from aioloom.web import Application, BaseRequest, BaseRunner, Server, StreamResponse

__all__ = ("MockConnector",)

Handler = Callable[["BaseRequest"], Awaitable["StreamResponse"]]

# The client's end of every in-memory connection has this address (and a fresh port).
_CLIENT_HOST: Final = "127.0.0.1"
_client_ports = itertools.count()


class MockConnector(BaseConnector):
    """Routes a session's requests to an in-process application (see the module doc).

    Create it in a running event loop, like every connector.

    Args:
        target: an :class:`~aioloom.web.Application`, a low-level
            :class:`~aioloom.web.Server`, or an ``async def handler(request)``.
        server_kwargs: options for the runner and the server protocol
            (``shutdown_timeout``, ``keepalive_timeout``, ``max_line_size``...); as
            for test servers, ``handler_cancellation`` is on and ``shutdown_timeout`` is
            :data:`~aioloom.testing.TEST_SHUTDOWN_TIMEOUT` by default.
        **kwargs: :class:`~aioloom.client.BaseConnector`'s (``limit``,
            ``limit_per_host``, ``force_close``, ``keepalive_timeout``).

    Raises:
        TypeError: ``target`` is none of the three.
        RuntimeError: no event loop is running.
    """

    def __init__(
        self,
        target: Application | Server | Handler,
        *,
        server_kwargs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        if not callable(target):
            raise TypeError(
                f"MockConnector serves an Application, a Server or a handler, got {target!r}"
            )
        super().__init__(**kwargs)
        self._target = target
        self._server_kwargs = {
            "handler_cancellation": True,
            "shutdown_timeout": TEST_SHUTDOWN_TIMEOUT,
            **(server_kwargs or {}),
        }
        self._runner: BaseRunner | None = None
        self._starting = asyncio.Lock()
        self._server_tls: ssl.SSLContext | None = None
        self.connections_made = 0

    @property
    def server(self) -> Server | None:
        """The low-level server answering the requests (None until the first request)."""
        return None if self._runner is None else self._runner.server

    def _make_runner(self) -> BaseRunner:
        from aioloom.web import Application, AppRunner, Server, ServerRunner

        target = self._target
        options = dict(self._server_kwargs)
        if isinstance(target, Application):
            return AppRunner(target, **options)
        runner_options = {key: options.pop(key) for key in ("shutdown_timeout",) if key in options}
        if not isinstance(target, Server):
            target = Server(target, **options)
        return ServerRunner(target, **runner_options)

    async def start(self) -> Server:
        """Start the application (its ``on_startup`` signal) if it has not started yet.

        The first request does this by itself; call it to fail early on startup errors.

        Returns:
            The low-level server.

        Raises:
            RuntimeError: the connector is closed.
        """
        async with self._starting:
            if self.closed:
                raise RuntimeError("Connector is closed.")
            if self._runner is None:
                runner = self._make_runner()
                try:
                    await runner.setup()
                except BaseException:
                    await runner.cleanup()  # tears down what started before the failure
                    raise
                self._runner = runner
        server = self._runner.server
        assert server is not None
        return server

    async def close(self, *, abort_ssl: bool = False) -> None:
        """Close the client connections, then shut the application down gracefully.

        Args:
            abort_ssl: passed to :meth:`BaseConnector.close` (no TLS is involved here).
        """
        try:
            await super().close(abort_ssl=abort_ssl)
        finally:
            runner, self._runner = self._runner, None
            if runner is not None:
                await runner.cleanup()

    def _tls_context(self) -> ssl.SSLContext:
        # What the server protocol sees as the connection's TLS context for https URLs
        # (it only checks that there is one); never used for a handshake.
        if self._server_tls is None:
            self._server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        return self._server_tls

    async def _create_connection(
        self, req: ClientRequest, tracer: _Tracer, timeout: ClientTimeout
    ) -> ResponseHandler:
        server = await self.start()
        loop = self._loop
        client = ResponseHandler(loop)
        origin = (req.host, req.port)
        local = (_CLIENT_HOST, 40000 + next(_client_ports) % 20000)
        memory_transport_pair(
            loop,
            client,
            server(),
            first_extra={"peername": origin, "sockname": local},
            second_extra={
                "peername": local,
                "sockname": origin,
                "sslcontext": self._tls_context() if req.is_ssl() else None,
            },
        )
        self.connections_made += 1
        return client
