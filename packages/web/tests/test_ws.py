"""WebSocketResponse without a socket: the handshake, its refusals, state before prepare, and
the lazy import of the ``websocket`` extra."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import aioloom.websocket
from aioloom.web import _ws
from aioloom.web._exceptions import (
    HTTPBadRequest,
    HTTPMethodNotAllowed,
    HTTPUpgradeRequired,
)
from aioloom.web._ws import WebSocketReady, WebSocketResponse
from aioloom.websocket import ws_accept

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3's example key


def upgrade(
    *extra: str, method: str = "GET", version: str = "1.1", key: str = KEY, ws_version: str = "13"
) -> bytes:
    lines = [
        f"{method} /ws HTTP/{version}",
        "Host: example.com",
        "Upgrade: websocket",
        "Connection: keep-alive, Upgrade",
        f"Sec-WebSocket-Key: {key}",
        f"Sec-WebSocket-Version: {ws_version}",
        *extra,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def head_of(request: Any) -> str:
    written: bytes = request.protocol.transport.data()
    return written.split(b"\r\n\r\n", 1)[0].decode("latin-1")


# -- can_prepare / prepare --------------------------------------------------------------------


async def test_prepare_sends_101_and_takes_the_connection(make_request: Any) -> None:
    request = make_request(upgrade())
    ws = WebSocketResponse()
    assert ws.can_prepare(request) == WebSocketReady(True, None)
    writer = await ws.prepare(request)
    assert writer is not None
    head = head_of(request)
    assert head.startswith("HTTP/1.1 101 Switching Protocols\r\n")
    assert f"Sec-WebSocket-Accept: {ws_accept(KEY)}" in head
    assert "Upgrade: websocket" in head
    assert "Connection: upgrade" in head
    assert "Sec-WebSocket-Extensions" not in head  # nothing offered
    assert "Content-Type" not in head and "Transfer-Encoding" not in head
    assert ws.prepared
    assert not ws.closed
    assert ws.close_code is None
    assert ws.compress == 0
    assert request.protocol._upgrade_parser is ws._conn  # the server's upgrade seam
    assert await ws.prepare(request) is writer  # a second prepare changes nothing
    with pytest.raises(RuntimeError, match="Already started"):
        ws.can_prepare(request)
    assert ws.get_extra_info("peername") == ("127.0.0.1", 40000)


async def test_subprotocol_is_the_clients_first_known_one(make_request: Any) -> None:
    request = make_request(upgrade("Sec-WebSocket-Protocol: chat.v2, chat.v1"))
    ws = WebSocketResponse(protocols=("chat.v1", "chat.v2"))
    assert ws.can_prepare(request) == WebSocketReady(True, "chat.v2")
    await ws.prepare(request)
    assert ws.ws_protocol == "chat.v2"
    assert "Sec-WebSocket-Protocol: chat.v2" in head_of(request)


async def test_no_common_subprotocol_is_logged_and_accepted(
    make_request: Any, caplog: pytest.LogCaptureFixture
) -> None:
    request = make_request(upgrade("Sec-WebSocket-Protocol: other"))
    ws = WebSocketResponse(protocols=("chat",))
    with caplog.at_level(logging.WARNING, logger="aioloom.web.websocket"):
        await ws.prepare(request)
    assert ws.ws_protocol is None
    assert "don't overlap" in caplog.text


@pytest.mark.parametrize(
    ("compress", "offer", "bits", "answer"),
    [
        (True, "permessage-deflate; client_max_window_bits", 15, "permessage-deflate"),
        (True, "permessage-deflate; server_max_window_bits=10", 10, "server_max_window_bits=10"),
        (False, "permessage-deflate", 0, None),
        (True, "x-unknown", 0, None),
    ],
)
async def test_compression_is_negotiated(
    make_request: Any, compress: bool, offer: str, bits: int, answer: str | None
) -> None:
    request = make_request(upgrade(f"Sec-WebSocket-Extensions: {offer}"))
    ws = WebSocketResponse(compress=compress)
    assert ws.compress is compress
    await ws.prepare(request)
    assert ws.compress == bits
    head = head_of(request)
    if answer is None:
        assert "Sec-WebSocket-Extensions" not in head
    else:
        assert answer in head


# -- refused handshakes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "error", "status"),
    [
        (upgrade(method="POST"), HTTPMethodNotAllowed, 405),
        (upgrade(ws_version="8"), HTTPUpgradeRequired, 426),
        (upgrade(key="short"), HTTPBadRequest, 400),
        (upgrade(version="1.0"), HTTPBadRequest, 400),
        (b"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n", HTTPBadRequest, 400),
        (
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: close\r\n\r\n",
            HTTPBadRequest,
            400,
        ),
    ],
    ids=["post", "version-8", "bad-key", "http-1.0", "no-upgrade", "no-connection-upgrade"],
)
async def test_refused_upgrades_raise_the_http_answer(
    make_request: Any, raw: bytes, error: type[Exception], status: int
) -> None:
    request = make_request(raw)
    ws = WebSocketResponse()
    assert ws.can_prepare(request) == WebSocketReady(False, None)
    assert not ws.can_prepare(request)
    with pytest.raises(error) as info:
        await ws.prepare(request)
    exc: Any = info.value
    assert exc.status == status
    if status == 405:
        assert exc.headers["Allow"] == "GET"
    if status == 426:
        assert exc.headers["Sec-WebSocket-Version"] == "13"  # RFC 6455 §4.4
    assert not ws.prepared
    assert request.protocol.transport.data() == b""


# -- before prepare ---------------------------------------------------------------------------


async def test_everything_needs_prepare_first() -> None:
    ws = WebSocketResponse()
    assert not ws.closed
    assert ws.close_code is None
    assert ws.exception() is None
    assert ws.ws_protocol is None
    assert ws.get_extra_info("peername", "none") == "none"
    for call in (
        ws.ping(),
        ws.pong(),
        ws.send_str("x"),
        ws.send_bytes(b"x"),
        ws.send_json({}),
        ws.send_frame(b"x", 1),
        ws.receive(),
        ws.receive_str(),
        ws.receive_bytes(),
        ws.receive_json(),
        ws.close(),
    ):
        with pytest.raises(RuntimeError, match=r"Call \.prepare\(\) first"):
            await call
    with pytest.raises(RuntimeError, match="Response has not been started"):
        await ws.write_eof()


async def test_write_is_not_for_websockets(make_request: Any) -> None:
    ws = WebSocketResponse()
    await ws.prepare(make_request(upgrade()))
    with pytest.raises(RuntimeError, match=r"Cannot call \.write\(\) for websocket"):
        await ws.write(b"x")


async def test_send_checks_types(make_request: Any) -> None:
    ws = WebSocketResponse()
    await ws.prepare(make_request(upgrade()))
    with pytest.raises(TypeError, match="must be str"):
        await ws.send_str(b"x")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be byte-ish"):
        await ws.send_bytes("x")  # type: ignore[arg-type]


def test_websocket_ready_is_truthy_only_when_ok() -> None:
    assert WebSocketReady(True, None)
    assert not WebSocketReady(False, None)
    assert WebSocketReady(True, "p").protocol == "p"


def test_codec_names_are_served_lazily() -> None:
    assert _ws.WSMsgType is aioloom.websocket.WSMsgType
    assert _ws.WSCloseCode is aioloom.websocket.WSCloseCode
    assert _ws.WSMessage is aioloom.websocket.WSMessage
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ws.nothing  # noqa: B018


# -- without the extra --------------------------------------------------------------------------

_WITHOUT_EXTRA = textwrap.dedent(
    """
    import asyncio, sys
    sys.modules["aioloom.websocket"] = None  # the extra is not installed
    from aioloom.web._ws import WebSocketResponse, WebSocketReady  # the import itself works
    assert "aioloom.websocket.aio" not in sys.modules

    async def main():
        ws = WebSocketResponse(heartbeat=5.0)
        for call in (lambda: ws.prepare(object()), lambda: ws.can_prepare(object())):
            try:
                result = call()
                if asyncio.iscoroutine(result):
                    await result
            except ImportError as exc:
                print("ImportError:", exc)
            else:
                print("no error")
        try:
            from aioloom.web._ws import WSMsgType
        except ImportError as exc:
            print("ImportError:", exc)

    asyncio.run(main())
    """
)


def test_without_the_extra_only_websockets_fail_and_name_the_pip_line() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", _WITHOUT_EXTRA],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = result.stdout.splitlines()
    expected = (
        "ImportError: WebSocketResponse needs aioloom.websocket: "
        'pip install "aioloom-web[websocket]"'
    )
    assert lines == [expected] * 3, result.stdout + result.stderr
