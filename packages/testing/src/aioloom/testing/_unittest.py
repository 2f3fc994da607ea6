"""unittest-style tests: aiohttp's ``AioHTTPTestCase``.

Each test method runs with a started :class:`TestServer` serving the application that
:meth:`AioHTTPTestCase.get_application` returns, and a :class:`TestClient` for it::

    class TestHello(AioHTTPTestCase):
        async def get_application(self) -> web.Application:
            app = web.Application()
            app.router.add_get("/", hello)
            return app

        async def test_hello(self) -> None:
            async with self.client.get("/") as resp:
                self.assertEqual(resp.status, 200)
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING
from unittest import IsolatedAsyncioTestCase

from ._client import TestClient
from ._server import TestServer

if TYPE_CHECKING:
    from aioloom.web import Application

__all__ = ("AioHTTPTestCase",)


class AioHTTPTestCase(IsolatedAsyncioTestCase):
    """A test case with a server and a client for one application per test method.

    Attributes (set before each test method):
        app: the application.
        server: the running :class:`TestServer`.
        client: the :class:`TestClient` (closed, with the server, after the method).
        loop: the test's event loop.
    """

    app: Application
    server: TestServer
    client: TestClient
    loop: asyncio.AbstractEventLoop

    async def get_application(self) -> Application:
        """Return the application to test (override this).

        Raises:
            RuntimeError: not overridden.
        """
        return self.get_app()

    def get_app(self) -> Application:
        """The synchronous variant of :meth:`get_application` (aiohttp's older name).

        Raises:
            RuntimeError: neither this nor :meth:`get_application` is overridden.
        """
        raise RuntimeError("Did you forget to define get_application()?")

    async def get_server(self, app: Application) -> TestServer:
        """The test server for ``app`` (override to pass options)."""
        return TestServer(app)

    async def get_client(self, server: TestServer) -> TestClient:
        """The test client for ``server`` (override to pass session options)."""
        return TestClient(server)

    async def asyncSetUp(self) -> None:
        self.loop = asyncio.get_running_loop()
        await self.setUpAsync()

    async def setUpAsync(self) -> None:
        """Make the application, the server and the client, and start the server."""
        self.app = await self.get_application()
        self.server = await self.get_server(self.app)
        try:
            self.client = await self.get_client(self.server)
        except BaseException:
            await self.server.close()
            raise
        try:
            await self.client.start_server()
        except BaseException:
            # tearDown does not run after a failed setUp: close what was opened here.
            await self.client.close()
            raise

    async def asyncTearDown(self) -> None:
        await self.tearDownAsync()

    async def tearDownAsync(self) -> None:
        """Close the client and the server."""
        await self.client.close()
