"""AioHTTPTestCase: unittest-style tests with a server and a client per test method."""

from __future__ import annotations

import unittest

from aioloom.testing import AioHTTPTestCase, TestClient, TestServer
from aioloom.web._app import Application
from aioloom.web._request import Request
from aioloom.web._response import Response
from aioloom.web._stream_response import StreamResponse

EVENTS: list[str] = []


async def hello(request: Request[object]) -> StreamResponse:
    return Response(text="hello from unittest")


class TestHello(AioHTTPTestCase):
    """Collected and run by pytest like any unittest case."""

    async def get_application(self) -> Application:
        app = Application()
        app.router.add_get("/", hello)
        return app

    async def test_the_client_reaches_the_application(self) -> None:
        self.assertIsInstance(self.server, TestServer)
        self.assertIsInstance(self.client, TestClient)
        self.assertIs(self.client.app, self.app)
        async with self.client.get("/") as resp:
            self.assertEqual(resp.status, 200)
            self.assertEqual(await resp.text(), "hello from unittest")


def run_case(case: type[unittest.TestCase], name: str) -> unittest.TestResult:
    result = unittest.TestResult()
    case(name).run(result)
    return result


class Tracked(AioHTTPTestCase):
    __test__ = False  # run by the test below, not collected

    async def get_application(self) -> Application:
        app = Application()
        app.router.add_get("/", hello)
        return app

    async def get_server(self, app: Application) -> TestServer:
        server = await super().get_server(app)
        EVENTS.append("server")
        return server

    async def tearDownAsync(self) -> None:
        await super().tearDownAsync()
        EVENTS.append(f"closed={self.client.closed and self.server.closed}")

    async def test_fails(self) -> None:
        EVENTS.append("test")
        self.fail("on purpose")


def test_teardown_closes_client_and_server_after_a_failure() -> None:
    EVENTS.clear()
    result = run_case(Tracked, "test_fails")
    assert len(result.failures) == 1 and not result.errors
    assert EVENTS == ["server", "test", "closed=True"]


class Forgotten(AioHTTPTestCase):
    __test__ = False  # run by the test below, not collected

    async def test_anything(self) -> None:
        raise AssertionError("never runs")


def test_a_missing_get_application_is_reported() -> None:
    result = run_case(Forgotten, "test_anything")
    assert len(result.errors) == 1
    assert "Did you forget to define get_application()?" in result.errors[0][1]


class SyncApp(AioHTTPTestCase):
    __test__ = False  # run by the test below, not collected

    def get_app(self) -> Application:
        app = Application()
        app.router.add_get("/", hello)
        return app

    async def test_sync_factory(self) -> None:
        async with self.client.get("/") as resp:
            self.assertEqual(resp.status, 200)


def test_the_older_get_app_hook_works() -> None:
    result = run_case(SyncApp, "test_sync_factory")
    assert result.wasSuccessful(), result.errors + result.failures


class BrokenStartup(AioHTTPTestCase):
    __test__ = False  # run by the test below, not collected

    async def get_application(self) -> Application:
        app = Application()

        async def fail(app: Application) -> None:
            raise RuntimeError("startup failed")

        app.on_startup.append(fail)
        return app

    async def get_client(self, server: TestServer) -> TestClient:
        client = await super().get_client(server)
        EVENTS.append("client")
        self.made = client
        return client

    async def test_never_runs(self) -> None:
        raise AssertionError("never runs")


def test_a_failed_start_closes_what_setup_opened() -> None:
    EVENTS.clear()
    case = BrokenStartup("test_never_runs")
    result = unittest.TestResult()
    case.run(result)
    assert len(result.errors) == 1 and "startup failed" in result.errors[0][1]
    assert EVENTS == ["client"]
    assert case.made.closed and case.made.session.closed
