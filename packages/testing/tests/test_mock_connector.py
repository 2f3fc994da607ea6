"""MockConnector: a real ClientSession served by a real application, with no socket."""

from __future__ import annotations

import asyncio
import hashlib
import zlib
from collections.abc import AsyncIterator, Callable

import pytest

from aioloom.client._exceptions import ClientPayloadError, ServerTimeoutError
from aioloom.client._session import ClientSession
from aioloom.client._timeouts import ClientTimeout
from aioloom.testing import MockConnector
from aioloom.web._app import Application
from aioloom.web._request import BaseRequest, Request
from aioloom.web._response import Response
from aioloom.web._server import Server
from aioloom.web._stream_response import StreamResponse

MakeApp = Callable[[], Application]


async def test_requests_reach_the_application(make_app: MakeApp) -> None:
    async with ClientSession(connector=MockConnector(make_app())) as session:
        async with session.get("http://api.example/hello/memory") as resp:
            assert resp.status == 200
            assert await resp.text() == "hello memory"
        async with session.post("http://api.example:8080/echo?q=1", data=b"payload") as resp:
            assert await resp.read() == b"payload"
            assert resp.headers["X-Method"] == "POST"
            assert resp.headers["X-Path"] == "/echo?q=1"
            assert resp.headers["X-Host"] == "api.example:8080"
            assert resp.headers["X-Remote"] == "127.0.0.1"
            assert resp.headers["X-Secure"] == "False"


async def test_https_urls_reach_the_server_as_secure_requests(make_app: MakeApp) -> None:
    async with ClientSession(connector=MockConnector(make_app())) as session:
        async with session.get("https://secure.example/echo") as resp:
            assert resp.headers["X-Secure"] == "True"
            assert resp.url.scheme == "https"


async def test_a_bare_handler_and_a_low_level_server_are_served_too() -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        return Response(text=f"raw {request.path}")

    for target in (handler, Server(handler)):
        async with ClientSession(connector=MockConnector(target)) as session:
            async with session.get("http://h/x") as resp:
                assert await resp.text() == "raw /x"


async def test_keep_alive_reuses_one_in_memory_connection(make_app: MakeApp) -> None:
    connector = MockConnector(make_app())
    async with ClientSession(connector=connector) as session:
        for _ in range(5):
            async with session.get("http://h/hello") as resp:
                await resp.read()
        assert connector.connections_made == 1
        assert connector.server is not None
        assert connector.server.requests_count == 5


async def test_force_close_opens_a_connection_per_request(make_app: MakeApp) -> None:
    connector = MockConnector(make_app(), force_close=True)
    async with ClientSession(connector=connector) as session:
        for _ in range(3):
            async with session.get("http://h/hello") as resp:
                await resp.read()
    assert connector.connections_made == 3


async def test_concurrent_requests_respect_the_pool_limit(make_app: MakeApp) -> None:
    connector = MockConnector(make_app(), limit=2)
    async with ClientSession(connector=connector) as session:

        async def one(index: int) -> str:
            async with session.get(f"http://h/hello/{index}") as resp:
                return await resp.text()

        texts = await asyncio.gather(*(one(i) for i in range(10)))
    assert texts == [f"hello {i}" for i in range(10)]
    assert connector.connections_made <= 2


async def test_the_application_starts_once_and_cleans_up_on_close(make_app: MakeApp) -> None:
    app = make_app()
    events: list[str] = []

    async def on_startup(app: Application) -> None:
        events.append("startup")

    async def on_cleanup(app: Application) -> None:
        events.append("cleanup")

    app.on_startup.append(on_startup)
    app.on_cleanup.append(on_cleanup)
    connector = MockConnector(app)
    assert connector.server is None  # nothing starts before it is needed
    async with ClientSession(connector=connector) as session:

        async def fetch() -> str:
            async with session.get("http://h/hello") as resp:
                return await resp.text()

        assert list(await asyncio.gather(fetch(), fetch(), fetch())) == ["hello world"] * 3
        assert events == ["startup"]
    assert events == ["startup", "cleanup"]
    assert connector.closed and connector.server is None
    with pytest.raises(RuntimeError, match="closed"):
        await connector.start()


async def test_a_startup_failure_reaches_the_request(make_app: MakeApp) -> None:
    app = make_app()

    async def fail(app: Application) -> None:
        raise RuntimeError("startup failed")

    app.on_startup.append(fail)
    async with ClientSession(connector=MockConnector(app)) as session:
        with pytest.raises(RuntimeError, match="startup failed"):
            await session.get("http://h/hello")


async def test_a_failing_handler_is_a_500(make_app: MakeApp) -> None:
    async with ClientSession(connector=MockConnector(make_app())) as session:
        async with session.get("http://h/fail") as resp:
            assert resp.status == 500


async def test_redirects_and_cookies_work_as_over_tcp(make_app: MakeApp) -> None:
    async with ClientSession(connector=MockConnector(make_app())) as session:
        async with session.get("http://site.example/redirect") as resp:
            assert await resp.text() == "hello redirected"
            assert resp.history[0].status == 302
        async with session.get("http://site.example/set-cookie?value=spelt") as resp:
            await resp.read()
        async with session.get("http://site.example/cookies") as resp:
            assert await resp.json() == {"flavour": "spelt"}


async def test_large_bodies_stream_both_ways_with_flow_control() -> None:
    async def digest(request: Request[object]) -> StreamResponse:
        hasher = hashlib.sha256()
        async for chunk in request.content.iter_chunked(65536):
            hasher.update(chunk)
        resp = StreamResponse(headers={"X-Digest": hasher.hexdigest()})
        await resp.prepare(request)
        for _ in range(64):
            await resp.write(b"y" * 65536)
        await resp.write_eof()
        return resp

    app = Application()
    app.router.add_post("/digest", digest)
    body = bytes(range(256)) * 8192  # 2 MiB

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), 100_000):
            yield body[start : start + 100_000]

    async with ClientSession(connector=MockConnector(app)) as session:
        async with session.post("http://h/digest", data=chunks()) as resp:
            assert resp.headers["X-Digest"] == hashlib.sha256(body).hexdigest()
            received = 0
            async for chunk in resp.content.iter_chunked(4096):
                received += len(chunk)
    assert received == 64 * 65536


async def test_compressed_responses_are_decoded() -> None:
    async def compressed(request: BaseRequest) -> StreamResponse:
        return Response(body=zlib.compress(b"z" * 1000), headers={"Content-Encoding": "deflate"})

    async with ClientSession(connector=MockConnector(compressed)) as session:
        async with session.get("http://h/") as resp:
            assert await resp.read() == b"z" * 1000


async def test_client_timeouts_apply() -> None:
    async def stuck(request: BaseRequest) -> StreamResponse:
        await asyncio.sleep(3600)
        return Response()

    timeout = ClientTimeout(sock_read=0.2)
    async with ClientSession(connector=MockConnector(stuck), timeout=timeout) as session:
        with pytest.raises(ServerTimeoutError):
            await session.get("http://h/")


async def test_a_truncated_body_is_a_payload_error() -> None:
    async def truncated(request: BaseRequest) -> StreamResponse:
        resp = StreamResponse(headers={"Content-Length": "100"})
        await resp.prepare(request)
        await resp.write(b"only ten b")
        assert request.transport is not None
        request.transport.close()
        return resp

    async with ClientSession(connector=MockConnector(truncated)) as session:
        async with session.get("http://h/") as resp:
            with pytest.raises(ClientPayloadError):
                await resp.read()


async def test_server_options_reach_the_protocol() -> None:
    async def handler(request: BaseRequest) -> StreamResponse:
        return Response(text="ok")

    connector = MockConnector(handler, server_kwargs={"max_line_size": 100})
    async with ClientSession(connector=connector) as session:
        async with session.get("http://h/" + "a" * 200) as resp:
            assert resp.status == 400  # the server's LineTooLong answer
            assert "when reading the request line" in await resp.text()
        async with session.get("http://h/short") as resp:
            assert resp.status == 200


async def test_closing_twice_is_harmless(make_app: MakeApp) -> None:
    connector = MockConnector(make_app())
    await connector.start()
    await connector.close()
    await connector.close()
    assert connector.closed and connector.server is None


async def test_start_can_be_called_early(make_app: MakeApp) -> None:
    connector = MockConnector(make_app())
    try:
        server = await connector.start()
        assert isinstance(server, Server)
        assert await connector.start() is server
    finally:
        await connector.close()


async def test_targets_that_are_not_callable_are_refused() -> None:
    with pytest.raises(TypeError, match="serves an Application, a Server or a handler"):
        MockConnector("http://example.com")  # type: ignore[arg-type]


def test_a_connector_needs_a_running_loop(make_app: MakeApp) -> None:
    with pytest.raises(RuntimeError):
        MockConnector(make_app())
