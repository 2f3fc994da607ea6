"""make_mocked_request and make_mocked_coro: handlers tested without a server."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import h11
import pytest
from multidict import CIMultiDict

from aioloom.http._messages import HttpVersion, HttpVersion10, HttpVersion11
from aioloom.http.aio._streams import EMPTY_PAYLOAD
from aioloom.testing import RecordingTransport, make_mocked_coro, make_mocked_request
from aioloom.web._app import Application
from aioloom.web._exceptions import HTTPRequestEntityTooLarge
from aioloom.web._keys import AppKey
from aioloom.web._request import Request
from aioloom.web._response import Response, json_response

GREETING = AppKey("greeting", str)


def parse_response(data: bytes) -> tuple[h11.Response, bytes]:
    """Read the bytes a response wrote with h11, an independent HTTP/1.1 implementation."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "t")]))
    conn.receive_data(data)
    head = conn.next_event()
    assert isinstance(head, h11.Response)
    body = b""
    while True:
        event = conn.next_event()
        if isinstance(event, h11.Data):
            body += event.data
        else:
            assert isinstance(event, h11.EndOfMessage)
            return head, body


def test_the_head_fields() -> None:
    req = make_mocked_request("POST", "/a/b?x=1&x=2", {"X-Thing": "yes", "Host": "site"})
    assert isinstance(req, Request)
    assert (req.method, req.path, req.path_qs) == ("POST", "/a/b", "/a/b?x=1&x=2")
    assert req.query.getall("x") == ["1", "2"]
    assert req.headers["x-thing"] == "yes"
    assert req.raw_headers == ((b"X-Thing", b"yes"), (b"Host", b"site"))
    assert req.host == "site"
    assert req.version == HttpVersion11
    assert req.keep_alive
    assert req.remote is None and req.scheme == "http" and not req.secure


def test_headers_in_any_multidict_form_keep_repeats() -> None:
    headers = CIMultiDict([("Accept", "a"), ("Accept", "b")])
    req = make_mocked_request("GET", "/", headers)
    assert req.headers.getall("Accept") == ["a", "b"]
    req = make_mocked_request("GET", "/", [("Cookie", "k=v")])
    assert req.cookies == {"k": "v"}


def test_http_10_and_closing_requests_are_not_kept_alive() -> None:
    assert not make_mocked_request("GET", "/", version=HttpVersion10).keep_alive
    assert not make_mocked_request("GET", "/", closing=True).keep_alive
    assert make_mocked_request("GET", "/", version=HttpVersion(1, 1)).message.should_close is False


def test_chunked_is_read_from_transfer_encoding() -> None:
    assert make_mocked_request("POST", "/", {"Transfer-Encoding": "gzip, Chunked"}).message.chunked
    assert not make_mocked_request("POST", "/").message.chunked


def test_match_info_and_the_default_app() -> None:
    req = make_mocked_request("GET", "/users/7", match_info={"id": "7"})
    assert req.match_info == {"id": "7"}
    assert isinstance(req.app, Application)
    assert req.match_info.apps == (req.app,)
    assert make_mocked_request("GET", "/").match_info == {}


def test_a_given_app_is_the_request_app() -> None:
    app = Application()
    app[GREETING] = "hi"
    req = make_mocked_request("GET", "/", app=app)
    assert req.app is app
    assert req.config_dict[GREETING] == "hi"


def test_sslcontext_makes_the_request_secure() -> None:
    context = ssl.create_default_context()
    req = make_mocked_request("GET", "/s", {"Host": "h"}, sslcontext=context)
    assert req.secure and req.scheme == "https"
    assert str(req.url) == "https://h/s"
    assert req.transport is not None
    assert req.transport.get_extra_info("sslcontext") is context


async def test_a_response_is_written_to_the_recording_transport() -> None:
    req = make_mocked_request("GET", "/")
    resp = json_response({"ok": True}, headers={"X-Extra": "1"})
    await resp.prepare(req)
    await resp.write_eof()
    transport = req.transport
    assert isinstance(transport, RecordingTransport)
    head, body = parse_response(bytes(transport.output))
    assert head.status_code == 200
    assert (b"x-extra", b"1") in head.headers
    assert body == b'{"ok": true}'


async def test_on_response_prepare_runs_for_a_frozen_app() -> None:
    app = Application()
    seen: list[str] = []

    async def on_prepare(request: Request, response: Any) -> None:
        seen.append(request.path)

    app.on_response_prepare.append(on_prepare)
    app.freeze()
    req = make_mocked_request("GET", "/hooked", app=app)
    await Response(text="x").prepare(req)
    assert seen == ["/hooked"]


async def test_a_bytes_payload_is_the_body() -> None:
    req = make_mocked_request("POST", "/", payload=b'{"a": 1}')
    assert req.body_exists
    assert await req.json() == {"a": 1}


async def test_a_stream_payload_is_used_as_is() -> None:
    req = make_mocked_request("POST", "/")
    assert req.content is EMPTY_PAYLOAD
    stream = make_mocked_request("POST", "/", payload=b"abc").content
    req = make_mocked_request("POST", "/", payload=stream)
    assert req.content is stream
    assert await req.read() == b"abc"


async def test_client_max_size_is_enforced() -> None:
    req = make_mocked_request("POST", "/", payload=b"x" * 11, client_max_size=10)
    with pytest.raises(HTTPRequestEntityTooLarge) as info:
        await req.read()
    assert info.value.status == 413


async def test_expect_continue_is_answered_on_the_transport() -> None:
    req = make_mocked_request("POST", "/", {"Expect": "100-continue"})
    req._send_continue()
    assert isinstance(req.transport, RecordingTransport)
    assert bytes(req.transport.output) == b"HTTP/1.1 100 Continue\r\n\r\n"


async def test_the_running_loop_is_used() -> None:
    req = make_mocked_request("GET", "/")
    assert req._loop is asyncio.get_running_loop()


def test_outside_a_loop_the_head_still_works() -> None:
    req = make_mocked_request("GET", "/x?y=1", {"Host": "h"})
    assert str(req.url) == "http://h/x?y=1"
    assert req.query["y"] == "1"


async def test_given_transport_writer_and_protocol_are_used() -> None:
    transport = RecordingTransport(peername=("10.0.0.1", 1234))
    req = make_mocked_request("GET", "/", transport=transport)
    assert req.transport is transport
    assert req.remote == "10.0.0.1"
    writer = req.writer
    other = make_mocked_request("GET", "/", writer=writer, protocol=req.protocol)
    assert other.writer is writer and other.protocol is req.protocol
    assert other.transport is req.protocol.transport


def test_a_payload_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError):
        make_mocked_request("POST", "/", payload="text")  # type: ignore[arg-type]


def test_an_invalid_path_is_refused() -> None:
    with pytest.raises(ValueError):
        make_mocked_request("GET", "http://[bad")


def test_recording_transport_basics() -> None:
    transport = RecordingTransport()
    transport.write(b"ab")
    transport.writelines([b"c", bytearray(b"d")])
    transport.write_eof()
    assert bytes(transport.output) == b"abcd"
    assert transport.eof_written and transport.can_write_eof()
    assert transport.get_write_buffer_size() == 0
    transport.pause_reading()
    transport.resume_reading()
    assert not transport.is_closing()
    transport.close()
    assert transport.is_closing()
    other = RecordingTransport()
    other.abort()
    assert other.is_closing()


async def test_mocked_coro_returns_and_records() -> None:
    coro = make_mocked_coro(42)
    assert await coro(1, key="v") == 42
    coro.assert_called_once_with(1, key="v")


async def test_mocked_coro_raises_an_instance_or_a_class() -> None:
    with pytest.raises(ValueError, match="boom"):
        await make_mocked_coro(raise_exception=ValueError("boom"))()
    with pytest.raises(KeyError):
        await make_mocked_coro(raise_exception=KeyError)()


async def test_mocked_coro_awaits_an_awaitable_return_value() -> None:
    future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    future.set_result("later")
    assert await make_mocked_coro(future)() == "later"
    assert await make_mocked_coro()() is None
