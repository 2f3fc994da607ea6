"""The plugin's fixtures, used for real in this very test run against aioloom.web."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import pytest

from aioloom.client._exceptions import ClientResponseError
from aioloom.testing import (
    AioloomClient,
    AioloomRawServer,
    AioloomServer,
    RawTestServer,
    TestClient,
    TestServer,
)
from aioloom.web._app import Application
from aioloom.web._request import BaseRequest
from aioloom.web._response import Response
from aioloom.web._stream_response import StreamResponse

MakeApp = Callable[[], Application]


async def raw_handler(request: BaseRequest) -> StreamResponse:
    return Response(text=f"raw {request.method} {request.path}")


async def test_client_for_an_application(aioloom_client: AioloomClient, make_app: MakeApp) -> None:
    client = await aioloom_client(make_app())
    assert isinstance(client, TestClient)
    assert isinstance(client.server, TestServer)
    async with client.get("/hello/fixture") as resp:
        assert resp.status == 200
        assert await resp.text() == "hello fixture"


async def test_client_for_a_started_server(
    aioloom_client: AioloomClient, aioloom_server: AioloomServer, make_app: MakeApp
) -> None:
    server = await aioloom_server(make_app())
    client = await aioloom_client(server)
    assert client.server is server
    assert client.port == server.port
    async with client.get("/hello") as resp:
        assert await resp.text() == "hello world"


async def test_client_for_a_raw_server(
    aioloom_client: AioloomClient, aioloom_raw_server: AioloomRawServer
) -> None:
    server = await aioloom_raw_server(raw_handler)
    assert isinstance(server, RawTestServer)
    client = await aioloom_client(server)
    async with client.post("/anything") as resp:
        assert await resp.text() == "raw POST /anything"


async def test_server_kwargs_reach_the_server(
    aioloom_client: AioloomClient, make_app: MakeApp
) -> None:
    client = await aioloom_client(make_app(), server_kwargs={"skip_url_asserts": False})
    with pytest.raises(ValueError, match="relative path"):
        client.make_url("http://elsewhere.example/")
    async with client.get("hello") as resp:  # joined to the root (RFC 3986 §5.2)
        assert await resp.text() == "hello world"


async def test_client_kwargs_reach_the_session(
    aioloom_client: AioloomClient, make_app: MakeApp
) -> None:
    client = await aioloom_client(make_app(), raise_for_status=True)
    with pytest.raises(ClientResponseError) as info:
        await client.get("/missing")
    assert info.value.status == 404


async def test_client_refuses_other_arguments(aioloom_client: AioloomClient) -> None:
    with pytest.raises(ValueError, match="Unknown argument type"):
        await aioloom_client(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown argument type"):
        await aioloom_client(raw_handler)  # type: ignore[arg-type]


async def test_server_kwargs_with_an_existing_server_are_refused(
    aioloom_client: AioloomClient, aioloom_raw_server: AioloomRawServer
) -> None:
    server = await aioloom_raw_server(raw_handler)
    with pytest.raises(TypeError, match="server_kwargs"):
        await aioloom_client(server, server_kwargs={"port": 1})


async def test_a_client_whose_server_cannot_start_is_closed(
    aioloom_client: AioloomClient, make_app: MakeApp
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            await aioloom_client(make_app(), server_kwargs={"port": port})


async def test_server_on_a_chosen_port(
    aioloom_server: AioloomServer,
    aioloom_unused_port: Callable[[], int],
    make_app: MakeApp,
) -> None:
    port = aioloom_unused_port()
    server = await aioloom_server(make_app(), port=port)
    assert server.port == port
    assert str(server.make_url("/x")) == f"http://127.0.0.1:{port}/x"


async def test_server_start_options_reach_the_runner(
    aioloom_server: AioloomServer, make_app: MakeApp
) -> None:
    server = await aioloom_server(make_app(), shutdown_timeout=0.25)
    assert server.runner is not None
    assert server.runner.shutdown_timeout == 0.25


def test_unused_port_fixture_gives_a_bindable_port(
    aioloom_unused_port: Callable[[], int],
) -> None:
    port = aioloom_unused_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


class CountingClient(TestClient):
    made = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        CountingClient.made += 1
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def aioloom_client_cls() -> type[TestClient]:
    return CountingClient


async def test_client_class_fixture_can_be_overridden(
    aioloom_client: AioloomClient, make_app: MakeApp
) -> None:
    before = CountingClient.made
    client = await aioloom_client(make_app())
    assert isinstance(client, CountingClient)
    assert CountingClient.made == before + 1


async def test_factories_close_everything_they_made(make_app: MakeApp) -> None:
    servers = AioloomServer()
    raw_servers = AioloomRawServer()
    clients = AioloomClient()
    made = [await servers(make_app()), await raw_servers(raw_handler)]
    client = await clients(make_app())
    for factory in (clients, raw_servers, servers):
        await factory.close()
    assert all(server.closed for server in made)
    assert client.closed and client.session.closed and client.server.closed


async def test_a_failing_close_does_not_stop_the_others(make_app: MakeApp) -> None:
    servers = AioloomServer()
    first = await servers(make_app())
    second = await servers(make_app())

    async def broken_close() -> None:
        raise RuntimeError("close failed")

    second.close = broken_close  # type: ignore[method-assign]
    with pytest.raises(RuntimeError, match="close failed"):
        await servers.close()
    assert first.closed  # closed although the newer one failed first
    await TestServer.close(second)


async def test_loop_fixture_is_the_running_loop(loop: asyncio.AbstractEventLoop) -> None:
    assert asyncio.get_running_loop() is loop
