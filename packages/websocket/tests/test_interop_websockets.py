"""Cross-checks against an independent implementation: the ``websockets`` library's sans-I/O
layer (frames, ``ServerProtocol``, ``ClientProtocol`` and its permessage-deflate).

Both directions are exercised: frames serialized here are parsed there and the reverse; our
client handshakes with their server and their client with ours, negotiating permessage-deflate
with each parameter, then messages travel both ways, compressed, and the connection closes.
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import CIMultiDict

from aioloom.http._messages import HttpVersion11
from aioloom.websocket._deflate import DeflateOffer, DeflateParams
from aioloom.websocket._frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    Frame,
    FrameReader,
    serialize_frame,
)
from aioloom.websocket._handshake import (
    client_handshake_headers,
    server_handshake,
    validate_upgrade_response,
    ws_key,
)
from aioloom.websocket._models import WSMessage, WSMsgType
from aioloom.websocket._protocol import Role, WebSocketProtocol

websockets = pytest.importorskip(
    "websockets", reason="the websockets library is the test-only interop peer"
)
from websockets.client import ClientProtocol  # noqa: E402
from websockets.extensions.permessage_deflate import (  # noqa: E402
    ClientPerMessageDeflateFactory,
    ServerPerMessageDeflateFactory,
)
from websockets.frames import Frame as TheirFrame  # noqa: E402
from websockets.frames import Opcode  # noqa: E402
from websockets.protocol import State  # noqa: E402
from websockets.server import ServerProtocol  # noqa: E402
from websockets.streams import StreamReader  # noqa: E402
from websockets.uri import parse_uri  # noqa: E402

WORDS = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod. "
MESSAGES: list[tuple[int, bytes]] = [
    (OP_TEXT, "Hello, κόσμε! 😀".encode()),
    (OP_TEXT, b""),
    (OP_BINARY, b""),
    (OP_TEXT, (WORDS * 3000).encode()),  # 220 KB, compressible
    (OP_TEXT, (WORDS * 3000).encode()),  # again: context takeover pays off
    (OP_BINARY, os.urandom(70_000)),
    (OP_BINARY, bytes(100_000)),
    (OP_BINARY, b"\x00\xff" * 10),
]


def parse_their_frame(data: bytes, *, mask: bool) -> Any:
    reader = StreamReader()
    reader.feed_data(data)
    parser = TheirFrame.parse(reader.read_exact, mask=mask)
    with pytest.raises(StopIteration) as done:
        next(parser)
    return done.value.value


def split_head(data: bytes) -> tuple[str, CIMultiDict[str], bytes]:
    head, _, rest = data.partition(b"\r\n\r\n")
    start, *lines = head.decode("latin-1").split("\r\n")
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines:
        name, _, value = line.partition(":")
        headers.add(name.strip(), value.strip())
    return start, headers, rest


def serialize_head(start: str, headers: CIMultiDict[str]) -> bytes:
    lines = [start, *(f"{name}: {value}" for name, value in headers.items()), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def their_events(peer: Any, data: bytes) -> list[Any]:
    peer.receive_data(data)
    return list(peer.events_received())


def their_output(peer: Any) -> bytes:
    return b"".join(peer.data_to_send())


# -- frames --------------------------------------------------------------------------------

sizes = st.sampled_from([0, 1, 125, 126, 65535, 65536]) | st.integers(0, 2000)


@given(
    opcode=st.sampled_from([OP_TEXT, OP_BINARY]),
    size=sizes,
    fin=st.booleans(),
    mask=st.booleans(),
)
def test_our_frames_parse_there(opcode: int, size: int, fin: bool, mask: bool) -> None:
    payload = os.urandom(size)
    theirs = parse_their_frame(serialize_frame(opcode, payload, fin=fin, mask=mask), mask=mask)
    assert (theirs.opcode, theirs.data, theirs.fin, theirs.rsv1) == (opcode, payload, fin, False)


@given(
    opcode=st.sampled_from([Opcode.TEXT, Opcode.BINARY]),
    size=sizes,
    fin=st.booleans(),
    mask=st.booleans(),
)
def test_their_frames_parse_here(opcode: Opcode, size: int, fin: bool, mask: bool) -> None:
    payload = os.urandom(size)
    data = TheirFrame(opcode, payload, fin=fin).serialize(mask=mask)
    assert FrameReader(is_client=not mask).feed_data(data) == [
        Frame(fin, int(opcode), payload, False)
    ]


@pytest.mark.parametrize(
    ("ours", "theirs", "payload"),
    [
        (OP_PING, Opcode.PING, b"ping"),
        (OP_PONG, Opcode.PONG, b""),
        (OP_CLOSE, Opcode.CLOSE, b"\x03\xe8bye"),
        (OP_PING, Opcode.PING, b"x" * 125),
    ],
)
@pytest.mark.parametrize("mask", [True, False])
def test_control_frames_both_ways(ours: int, theirs: Opcode, payload: bytes, mask: bool) -> None:
    parsed = parse_their_frame(serialize_frame(ours, payload, mask=mask), mask=mask)
    assert (parsed.opcode, parsed.data) == (theirs, payload)
    data = TheirFrame(theirs, payload).serialize(mask=mask)
    assert FrameReader(is_client=not mask).feed_data(data) == [Frame(True, ours, payload)]


# -- our client, their server --------------------------------------------------------------


def connect_to_their_server(
    offer: DeflateOffer | None, factory: dict[str, Any] | None
) -> tuple[WebSocketProtocol, Any, DeflateParams | None]:
    extensions = None if factory is None else [ServerPerMessageDeflateFactory(**factory)]
    server = ServerProtocol(extensions=extensions, max_size=None)
    key = ws_key()
    headers = CIMultiDict({"Host": "example.com"})
    headers.extend(client_handshake_headers(key, deflate=offer))
    (request,) = their_events(server, serialize_head("GET /chat HTTP/1.1", headers))
    server.send_response(server.accept(request))
    start, response_headers, rest = split_head(their_output(server))
    assert start.startswith("HTTP/1.1 101 ")
    assert rest == b""
    result = validate_upgrade_response(101, response_headers, key=key, deflate=offer)
    client = WebSocketProtocol(Role.CLIENT, compress=result.deflate, max_msg_size=0)
    return client, server, result.deflate


SERVER_FACTORIES: list[dict[str, Any]] = [
    {},
    {"server_no_context_takeover": True},
    {"client_no_context_takeover": True},
    {"server_max_window_bits": 10},
    {"client_max_window_bits": 10},
    {"server_no_context_takeover": True, "client_no_context_takeover": True},
    {"server_max_window_bits": 9, "client_max_window_bits": 9},
]

OFFERS: list[DeflateOffer] = [
    DeflateOffer(),
    DeflateOffer(server_no_context_takeover=True),
    DeflateOffer(client_no_context_takeover=True),
    DeflateOffer(server_max_window_bits=11),
    DeflateOffer(client_max_window_bits=12),
    DeflateOffer(True, True, 9, 9),
]


def exchange_as_client(client: WebSocketProtocol, server: Any, compressed: bool) -> None:
    for opcode, payload in MESSAGES:
        data = client.send_frame(payload, opcode)
        assert bool(data[0] & 0x40) is compressed
        (event,) = their_events(server, data)
        assert (event.opcode, event.data, event.fin) == (opcode, payload, True)
        server.send_frame(TheirFrame(Opcode(opcode), payload))
        wire = their_output(server)
        assert bool(wire[0] & 0x40) is compressed
        (message,) = client.receive_data(wire)
        assert message.data == (payload.decode() if opcode == OP_TEXT else payload)


def close_from_client(client: WebSocketProtocol, server: Any) -> None:
    (ping,) = their_events(server, client.ping(b"are you there"))
    assert ping.opcode is Opcode.PING
    assert client.receive_data(their_output(server)) == [
        WSMessage(WSMsgType.PONG, b"are you there", "")
    ]
    their_events(server, client.close(1001, "going away"))
    assert (server.close_rcvd.code, server.close_rcvd.reason) == (1001, "going away")
    reply = their_output(server)  # their Close frame, then end of stream
    assert client.receive_data(reply) == [WSMessage(WSMsgType.CLOSE, 1001, "going away")]
    assert client.close_code == 1001


@pytest.mark.parametrize("factory", SERVER_FACTORIES)
def test_our_client_their_server_params(factory: dict[str, Any]) -> None:
    client, server, agreed = connect_to_their_server(DeflateOffer(), factory)
    assert agreed is not None
    assert agreed.server_no_context_takeover == factory.get("server_no_context_takeover", False)
    assert agreed.client_no_context_takeover == factory.get("client_no_context_takeover", False)
    assert agreed.server_max_window_bits == factory.get("server_max_window_bits", 15)
    assert agreed.client_max_window_bits == factory.get("client_max_window_bits", 15)
    exchange_as_client(client, server, compressed=True)
    close_from_client(client, server)


@pytest.mark.parametrize("offer", OFFERS)
def test_our_client_offers(offer: DeflateOffer) -> None:
    client, server, agreed = connect_to_their_server(offer, {})
    assert agreed is not None
    assert agreed.server_no_context_takeover is offer.server_no_context_takeover
    exchange_as_client(client, server, compressed=True)
    close_from_client(client, server)


@pytest.mark.parametrize(("offer", "factory"), [(None, {}), (DeflateOffer(), None), (None, None)])
def test_our_client_without_compression(
    offer: DeflateOffer | None, factory: dict[str, Any] | None
) -> None:
    client, server, agreed = connect_to_their_server(offer, factory)
    assert agreed is None
    exchange_as_client(client, server, compressed=False)
    close_from_client(client, server)


# -- their client, our server --------------------------------------------------------------


def connect_their_client(
    factory: dict[str, Any] | None, **policy: Any
) -> tuple[Any, WebSocketProtocol, DeflateParams | None]:
    extensions = None if factory is None else [ClientPerMessageDeflateFactory(**factory)]
    client = ClientProtocol(
        parse_uri("ws://example.com/chat"), extensions=extensions, max_size=None
    )
    client.send_request(client.connect())
    start, headers, rest = split_head(their_output(client))
    method, _, version = start.split(" ")
    assert (version, rest) == ("HTTP/1.1", b"")
    accepted = server_handshake(method, HttpVersion11, headers, **policy)
    response = serialize_head("HTTP/1.1 101 Switching Protocols", accepted.headers)
    assert their_events(client, response)[0].status_code == 101
    assert client.handshake_exc is None
    assert client.state is State.OPEN
    server = WebSocketProtocol(Role.SERVER, compress=accepted.deflate, max_msg_size=0)
    return client, server, accepted.deflate


def exchange_as_server(client: Any, server: WebSocketProtocol, compressed: bool) -> None:
    for opcode, payload in MESSAGES:
        client.send_frame(TheirFrame(Opcode(opcode), payload))
        wire = their_output(client)
        assert bool(wire[0] & 0x40) is compressed
        (message,) = server.receive_data(wire)
        assert message.data == (payload.decode() if opcode == OP_TEXT else payload)
        data = server.send_frame(payload, opcode)
        assert bool(data[0] & 0x40) is compressed
        (event,) = their_events(client, data)
        assert (event.opcode, event.data) == (opcode, payload)


def close_from_server(client: Any, server: WebSocketProtocol) -> None:
    their_events(client, server.close(4000, "done"))
    assert (client.close_rcvd.code, client.close_rcvd.reason) == (4000, "done")
    assert server.receive_data(their_output(client)) == [WSMessage(WSMsgType.CLOSE, 4000, "done")]


CLIENT_FACTORIES: list[dict[str, Any]] = [
    {},
    {"server_no_context_takeover": True},
    {"client_no_context_takeover": True},
    {"server_max_window_bits": 10},
    {"client_max_window_bits": 10},
    {"client_max_window_bits": None},
    {"server_no_context_takeover": True, "client_no_context_takeover": True},
    {"server_max_window_bits": 9, "client_max_window_bits": 9},
]


@pytest.mark.parametrize("factory", CLIENT_FACTORIES)
def test_their_client_our_server_params(factory: dict[str, Any]) -> None:
    client, server, agreed = connect_their_client(factory)
    assert agreed is not None
    assert agreed.server_no_context_takeover == factory.get("server_no_context_takeover", False)
    assert agreed.server_max_window_bits == factory.get("server_max_window_bits", 15)
    exchange_as_server(client, server, compressed=True)
    close_from_server(client, server)


@pytest.mark.parametrize(
    "policy",
    [
        {"server_no_context_takeover": True},
        {"client_no_context_takeover": True},
        {"server_max_window_bits": 11},
        {"server_no_context_takeover": True, "client_no_context_takeover": True},
    ],
)
def test_their_client_our_server_policies(policy: dict[str, Any]) -> None:
    client, server, agreed = connect_their_client({}, **policy)
    assert agreed is not None
    exchange_as_server(client, server, compressed=True)
    close_from_server(client, server)


@pytest.mark.parametrize(
    ("factory", "policy"),
    [
        (None, {}),
        ({}, {"compress": False}),
        ({"server_max_window_bits": 8}, {}),  # declined, as aiohttp does
    ],
)
def test_their_client_without_compression(
    factory: dict[str, Any] | None, policy: dict[str, Any]
) -> None:
    client, server, agreed = connect_their_client(factory, **policy)
    assert agreed is None
    exchange_as_server(client, server, compressed=False)
    close_from_server(client, server)


def test_their_client_sees_our_protocol_errors() -> None:
    client, server, _ = connect_their_client({})
    # A Close frame with an invalid code: we fail with 1002 and they read it.
    client.send_frame(TheirFrame(Opcode.CLOSE, b"\x03\xed"))
    (error,) = server.receive_data(their_output(client))
    assert error.type is WSMsgType.ERROR
    their_events(client, server.close(server.close_code or 1000))
    assert client.close_rcvd.code == 1002
