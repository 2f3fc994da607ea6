from __future__ import annotations

import os
import tracemalloc
import zlib
from collections.abc import Iterator

import pytest

from aioloom.http import set_zlib_backend
from aioloom.websocket._deflate import (
    DeflateOffer,
    DeflateParams,
    PerMessageDeflate,
    accept_deflate_response,
    negotiate_deflate,
    parse_extension_header,
)
from aioloom.websocket._models import WebSocketError, WSCloseCode, WSHandshakeError

MIB = 1024 * 1024

# -- Sec-WebSocket-Extensions grammar (RFC 6455 §9.1) --------------------------------------


def test_parse_extension_header() -> None:
    value = 'permessage-deflate; client_max_window_bits, x-foo;a=1; b="tok"  ,permessage-deflate'
    assert parse_extension_header(value) == [
        ("permessage-deflate", [("client_max_window_bits", None)]),
        ("x-foo", [("a", "1"), ("b", "tok")]),
        ("permessage-deflate", []),
    ]


def test_parse_extension_header_lowers_names_and_skips_empty_elements() -> None:
    assert parse_extension_header(" , Permessage-Deflate; Server_No_Context_Takeover,") == [
        ("permessage-deflate", [("server_no_context_takeover", None)])
    ]


def test_parse_extension_header_unquotes() -> None:
    assert parse_extension_header(r'e; a="1\0"') == [("e", [("a", "10")])]


@pytest.mark.parametrize(
    "value",
    [
        "permessage-deflate; =1",
        "perm essage",
        'e; a="b c"',  # unquoted, not a token
        'e; a="unterminated',
        "e;",
        "e; a=",
        "e; a=b=c",
        ";a",
        "e; a=(b)",
    ],
)
def test_parse_extension_header_rejects_malformed_values(value: str) -> None:
    with pytest.raises(ValueError):
        parse_extension_header(value)


# -- server side negotiation ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("offer", "params", "response"),
    [
        ("permessage-deflate", DeflateParams(), "permessage-deflate"),
        ("permessage-deflate; client_max_window_bits", DeflateParams(), "permessage-deflate"),
        (
            "permessage-deflate; server_no_context_takeover",
            DeflateParams(server_no_context_takeover=True),
            "permessage-deflate; server_no_context_takeover",
        ),
        (
            "permessage-deflate; client_no_context_takeover",
            DeflateParams(client_no_context_takeover=True),
            "permessage-deflate; client_no_context_takeover",
        ),
        (
            "permessage-deflate; server_max_window_bits=10",
            DeflateParams(server_max_window_bits=10),
            "permessage-deflate; server_max_window_bits=10",
        ),
        (
            "permessage-deflate; server_max_window_bits=15",
            DeflateParams(),
            "permessage-deflate; server_max_window_bits=15",
        ),
        (
            "permessage-deflate; client_max_window_bits=9",
            DeflateParams(client_max_window_bits=9),
            "permessage-deflate",
        ),
        (
            "permessage-deflate; client_max_window_bits=8",
            DeflateParams(client_max_window_bits=8),
            "permessage-deflate",
        ),
        (
            'permessage-deflate; server_max_window_bits="9"; client_no_context_takeover;'
            " server_no_context_takeover; client_max_window_bits",
            DeflateParams(True, True, 9, 15),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
            " server_max_window_bits=9",
        ),
        # aiohttp: an offer asking for a window zlib cannot compress with is declined...
        ("permessage-deflate; server_max_window_bits=8", None, None),
        # ... and the next offer is considered.
        (
            "permessage-deflate; server_max_window_bits=8, permessage-deflate",
            DeflateParams(),
            "permessage-deflate",
        ),
        # Other extensions are ignored.
        ("x-webkit-deflate-frame, permessage-deflate", DeflateParams(), "permessage-deflate"),
        ("x-webkit-deflate-frame", None, None),
    ],
)
def test_negotiate(offer: str, params: DeflateParams | None, response: str | None) -> None:
    result = negotiate_deflate(offer)
    if params is None:
        assert result is None
    else:
        assert result == (params, response)


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; foo",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=yes",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=abc",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=1; client_max_window_bits=1",
    ],
)
def test_invalid_offers_are_declined(offer: str) -> None:
    assert negotiate_deflate(offer) is None
    # ... without hiding a valid offer that follows.
    assert negotiate_deflate(offer + ", permessage-deflate") == (
        DeflateParams(),
        "permessage-deflate",
    )


@pytest.mark.parametrize("header", [None, "", 'permessage-deflate; a="', "a b"])
def test_no_or_malformed_offer(header: str | None) -> None:
    assert negotiate_deflate(header) is None


def test_server_policy() -> None:
    agreed = negotiate_deflate(
        "permessage-deflate",
        server_no_context_takeover=True,
        client_no_context_takeover=True,
        server_max_window_bits=12,
    )
    assert agreed == (
        DeflateParams(True, True, 12, 15),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover;"
        " server_max_window_bits=12",
    )
    # The smaller of the offer and the policy wins.
    smaller = negotiate_deflate(
        "permessage-deflate; server_max_window_bits=10", server_max_window_bits=12
    )
    assert smaller is not None
    assert smaller[0].server_max_window_bits == 10


@pytest.mark.parametrize("bits", [8, 16, 0])
def test_server_policy_rejects_windows_zlib_cannot_use(bits: int) -> None:
    with pytest.raises(ValueError):
        negotiate_deflate("permessage-deflate", server_max_window_bits=bits)


# -- client side ---------------------------------------------------------------------------


def test_offers() -> None:
    assert DeflateOffer().header_value() == "permessage-deflate; client_max_window_bits"
    assert (
        DeflateOffer(
            server_no_context_takeover=True,
            client_no_context_takeover=True,
            server_max_window_bits=10,
            client_max_window_bits=12,
        ).header_value()
        == "permessage-deflate; client_max_window_bits=12; server_max_window_bits=10;"
        " server_no_context_takeover; client_no_context_takeover"
    )
    assert DeflateOffer(client_max_window_bits=False).header_value() == "permessage-deflate"


@pytest.mark.parametrize(
    "kwargs",
    [
        {"server_max_window_bits": 8},
        {"server_max_window_bits": 16},
        {"client_max_window_bits": 8},
        {"client_max_window_bits": 16},
    ],
)
def test_offer_rejects_windows_zlib_cannot_use(kwargs: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="between 9 and 15"):
        DeflateOffer(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("offer", "response", "params"),
    [
        (DeflateOffer(), "permessage-deflate", DeflateParams()),
        (
            DeflateOffer(),
            "permessage-deflate; server_no_context_takeover",
            DeflateParams(server_no_context_takeover=True),
        ),
        (
            DeflateOffer(),
            "permessage-deflate; client_no_context_takeover",
            DeflateParams(client_no_context_takeover=True),
        ),
        (
            DeflateOffer(),
            "permessage-deflate; client_max_window_bits=10",
            DeflateParams(client_max_window_bits=10),
        ),
        (
            DeflateOffer(),
            "permessage-deflate; server_max_window_bits=8",
            DeflateParams(server_max_window_bits=8),
        ),
        (
            DeflateOffer(server_max_window_bits=10),
            "permessage-deflate; server_max_window_bits=9",
            DeflateParams(server_max_window_bits=9),
        ),
        (
            DeflateOffer(client_max_window_bits=11),
            "permessage-deflate",
            DeflateParams(client_max_window_bits=11),
        ),
        (
            DeflateOffer(client_max_window_bits=11),
            "permessage-deflate; client_max_window_bits=10",
            DeflateParams(client_max_window_bits=10),
        ),
        (
            DeflateOffer(client_no_context_takeover=True),
            "permessage-deflate",
            DeflateParams(client_no_context_takeover=True),
        ),
        (
            DeflateOffer(server_no_context_takeover=True),
            "permessage-deflate; server_no_context_takeover",
            DeflateParams(server_no_context_takeover=True),
        ),
        (DeflateOffer(), None, None),
        (DeflateOffer(), "", None),
        (DeflateOffer(), " , ", None),
        (None, None, None),
    ],
)
def test_accept_response(
    offer: DeflateOffer | None, response: str | None, params: DeflateParams | None
) -> None:
    assert accept_deflate_response(response, offer) == params


@pytest.mark.parametrize(
    ("offer", "response", "message"),
    [
        (None, "permessage-deflate", "not supported"),
        (DeflateOffer(), "x-foo", "not supported"),
        (DeflateOffer(), "permessage-deflate, permessage-deflate", "not supported"),
        (DeflateOffer(), "permessage-deflate; foo", "Unknown parameter"),
        (DeflateOffer(), "permessage-deflate; a=b=c", "Invalid Sec-WebSocket-Extensions"),
        (
            DeflateOffer(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "Duplicate",
        ),
        (DeflateOffer(), "permessage-deflate; client_max_window_bits", "needs a value"),
        (DeflateOffer(), "permessage-deflate; client_max_window_bits=8", "Invalid window size"),
        (DeflateOffer(), "permessage-deflate; client_max_window_bits=16", "Invalid"),
        (DeflateOffer(), "permessage-deflate; server_max_window_bits=99", "Invalid"),
        (
            DeflateOffer(client_max_window_bits=False),
            "permessage-deflate; client_max_window_bits=10",
            "not offered",
        ),
        (
            DeflateOffer(client_max_window_bits=10),
            "permessage-deflate; client_max_window_bits=11",
            "exceeds the offer",
        ),
        (
            DeflateOffer(server_max_window_bits=10),
            "permessage-deflate",
            "does not meet the offer",
        ),
        (
            DeflateOffer(server_max_window_bits=10),
            "permessage-deflate; server_max_window_bits=11",
            "does not meet the offer",
        ),
        (
            DeflateOffer(server_no_context_takeover=True),
            "permessage-deflate",
            "not granted",
        ),
    ],
)
def test_invalid_responses(offer: DeflateOffer | None, response: str, message: str) -> None:
    with pytest.raises(WSHandshakeError, match=message) as info:
        accept_deflate_response(response, offer)
    assert info.value.code == 0


@pytest.mark.parametrize("bits", [7, 16])
def test_params_range(bits: int) -> None:
    with pytest.raises(ValueError):
        DeflateParams(server_max_window_bits=bits)
    with pytest.raises(ValueError):
        DeflateParams(client_max_window_bits=bits)


# -- compression ---------------------------------------------------------------------------

PARAM_SETS = [
    DeflateParams(),
    DeflateParams(server_no_context_takeover=True),
    DeflateParams(client_no_context_takeover=True),
    DeflateParams(True, True, 15, 15),
    DeflateParams(server_max_window_bits=9, client_max_window_bits=9),
    DeflateParams(True, True, 9, 9),
    DeflateParams(False, False, 12, 10),
]


def codecs_for(params: DeflateParams) -> tuple[PerMessageDeflate, PerMessageDeflate]:
    return (
        PerMessageDeflate(params, is_client=True),
        PerMessageDeflate(params, is_client=False),
    )


def messages() -> list[bytes]:
    text = b"The quick brown fox jumps over the lazy dog. " * 50
    return [b"", b"Hello", text, text, os.urandom(3000), bytes(100_000), b"Hello"]


@pytest.mark.parametrize("params", PARAM_SETS)
def test_round_trip_both_ways(params: DeflateParams) -> None:
    client, server = codecs_for(params)
    for message in messages():
        assert server.decompress(client.compress(message), final=True, limit=None) == message
        assert client.decompress(server.compress(message), final=True, limit=None) == message


@pytest.mark.parametrize("params", PARAM_SETS)
@pytest.mark.parametrize("pieces", [2, 3, 17])
def test_fragmented_round_trip(params: DeflateParams, pieces: int) -> None:
    client, server = codecs_for(params)
    for message in messages():
        payload = client.compress(message)
        step = max(1, len(payload) // pieces)
        fragments = [payload[i : i + step] for i in range(0, len(payload), step)] or [b""]
        out = b"".join(
            server.decompress(fragment, final=i == len(fragments) - 1, limit=None)
            for i, fragment in enumerate(fragments)
        )
        assert out == message


def test_context_takeover_shrinks_repeated_messages() -> None:
    client, _ = codecs_for(DeflateParams())
    message = b"The quick brown fox jumps over the lazy dog. " * 20
    first = client.compress(message)
    second = client.compress(message)
    assert len(second) < len(first) // 4


@pytest.mark.parametrize(
    "params",
    [DeflateParams(client_no_context_takeover=True), DeflateParams(True, True, 15, 15)],
)
def test_no_context_takeover_makes_messages_independent(params: DeflateParams) -> None:
    client, _ = codecs_for(params)
    message = b"The quick brown fox jumps over the lazy dog. " * 20
    first = client.compress(message)
    second = client.compress(message)
    assert first == second
    # Each one inflates on its own, without the previous message in the window.
    for payload in (first, second):
        inflater = zlib.decompressobj(-15)
        assert inflater.decompress(payload + b"\x00\x00\xff\xff") == message


def test_window_bits_are_honoured() -> None:
    # A 9-bit window never refers back further than 512 bytes, so a raw inflater limited
    # to 9 bits reads the stream.
    client, _ = codecs_for(DeflateParams(client_max_window_bits=9))
    message = os.urandom(600) * 20
    payload = client.compress(message)
    assert zlib.decompressobj(-9).decompress(payload + b"\x00\x00\xff\xff") == message


def test_rfc7692_examples() -> None:
    # RFC 7692 §7.2.3.1: "Hello" compressed.
    client, server = codecs_for(DeflateParams())
    assert client.compress(b"Hello") == bytes.fromhex("f248cdc9c90700")
    # §7.2.3.2: the same message again, sharing the window.
    assert server.decompress(bytes.fromhex("f248cdc9c90700"), final=True, limit=None) == b"Hello"
    assert server.decompress(bytes.fromhex("f200110000"), final=True, limit=None) == b"Hello"
    # §7.2.3.3: a stored (uncompressed) block.
    stored = bytes.fromhex("000500faff48656c6c6f00")
    assert server.decompress(stored, final=True, limit=None) == b"Hello"
    # §7.2.3.4: a block with BFINAL set ends the stream; the next message starts afresh.
    assert server.decompress(bytes.fromhex("f348cdc9c90700"), final=True, limit=None) == b"Hello"
    assert server.decompress(bytes.fromhex("f248cdc9c90700"), final=True, limit=None) == b"Hello"


def test_empty_message() -> None:
    # RFC 7692 §7.2.3.6: an empty message compresses to a single 0x00 byte.
    client, server = codecs_for(DeflateParams())
    assert client.compress(b"") == b"\x00"
    assert server.decompress(b"\x00", final=True, limit=None) == b""
    assert server.decompress(b"", final=True, limit=0) == b""


def test_limit_exactly_reached() -> None:
    client, server = codecs_for(DeflateParams())
    assert server.decompress(client.compress(bytes(1000)), final=True, limit=1000) == bytes(1000)


def test_limit_exceeded_by_one_byte() -> None:
    client, server = codecs_for(DeflateParams())
    with pytest.raises(WebSocketError) as info:
        server.decompress(client.compress(bytes(1001)), final=True, limit=1000)
    assert info.value.code == WSCloseCode.MESSAGE_TOO_BIG


def test_decompression_bomb_is_stopped_early() -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(MIB)
    bomb = b"".join(compressor.compress(chunk) for _ in range(64))  # 64 MiB of zeros
    bomb += compressor.flush(zlib.Z_SYNC_FLUSH)[:-4]
    assert len(bomb) < MIB // 2
    _, server = codecs_for(DeflateParams())
    tracemalloc.start()
    try:
        with pytest.raises(WebSocketError) as info:
            server.decompress(bomb, final=True, limit=MIB)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.value.code == WSCloseCode.MESSAGE_TOO_BIG
    # At most the bound plus one byte was produced, never the 64 MiB.
    assert peak < 4 * MIB


def test_corrupt_data() -> None:
    _, server = codecs_for(DeflateParams())
    with pytest.raises(WebSocketError) as info:
        server.decompress(b"\xff\xff\xff\xff", final=True, limit=None)
    assert info.value.code == WSCloseCode.PROTOCOL_ERROR
    # The inflater starts afresh afterwards.
    assert server.decompress(bytes.fromhex("f248cdc9c90700"), final=True, limit=None) == b"Hello"


@pytest.mark.parametrize(
    ("params", "is_client"),
    [
        (DeflateParams(server_max_window_bits=8), False),
        (DeflateParams(client_max_window_bits=8), True),
    ],
)
def test_codec_refuses_an_8_bit_window_for_its_own_side(
    params: DeflateParams, is_client: bool
) -> None:
    with pytest.raises(ValueError, match="zlib does not support 8"):
        PerMessageDeflate(params, is_client=is_client)
    # The other side may use 8 bits: this side only inflates what it sends.
    PerMessageDeflate(params, is_client=not is_client)


# -- the swappable zlib backend (aioloom.http.set_zlib_backend) --------------------------------


class _RecordingZlib:
    """A zlib-compatible backend that records what it creates and raises its own error."""

    class error(Exception):  # zlib's name for it
        pass

    MAX_WBITS = zlib.MAX_WBITS
    Z_BEST_SPEED = zlib.Z_BEST_SPEED
    Z_SYNC_FLUSH = zlib.Z_SYNC_FLUSH
    Z_FULL_FLUSH = zlib.Z_FULL_FLUSH
    Z_FINISH = zlib.Z_FINISH

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []

    def compressobj(
        self,
        level: int = -1,
        method: int = zlib.DEFLATED,
        wbits: int = zlib.MAX_WBITS,
        memLevel: int = zlib.DEF_MEM_LEVEL,
        strategy: int = zlib.Z_DEFAULT_STRATEGY,
        zdict: bytes | bytearray | memoryview | None = None,
    ) -> zlib._Compress:
        self.calls.append(("compressobj", wbits))
        if zdict is None:
            return zlib.compressobj(level, method, wbits, memLevel, strategy)
        return zlib.compressobj(level, method, wbits, memLevel, strategy, zdict)

    def decompressobj(
        self, wbits: int = zlib.MAX_WBITS, zdict: bytes | bytearray | memoryview = b""
    ) -> _RecordingInflater:
        self.calls.append(("decompressobj", wbits))
        return _RecordingInflater(self, zlib.decompressobj(wbits, zdict))


class _RecordingInflater:
    def __init__(self, backend: _RecordingZlib, inner: zlib._Decompress) -> None:
        self._backend, self._inner = backend, inner

    @property
    def eof(self) -> bool:
        return self._inner.eof

    @property
    def unconsumed_tail(self) -> bytes:
        return self._inner.unconsumed_tail

    @property
    def unused_data(self) -> bytes:
        return self._inner.unused_data

    def flush(self, length: int = zlib.DEF_BUF_SIZE, /) -> bytes:
        return self._inner.flush(length)

    def decompress(self, data: bytes | bytearray | memoryview, /, max_length: int = 0) -> bytes:
        try:
            return self._inner.decompress(data, max_length)
        except zlib.error as exc:
            raise self._backend.error(str(exc)) from None


@pytest.fixture
def recording_zlib() -> Iterator[_RecordingZlib]:
    backend = _RecordingZlib()
    set_zlib_backend(backend)
    try:
        yield backend
    finally:
        set_zlib_backend(zlib)


def test_new_objects_use_the_swapped_backend(recording_zlib: _RecordingZlib) -> None:
    params = DeflateParams(server_max_window_bits=10)
    server = PerMessageDeflate(params, is_client=False)
    client = PerMessageDeflate(params, is_client=True)
    message = b"swapped backend " * 100
    assert client.decompress(server.compress(message), final=True, limit=None) == message
    # The server compresses with its 10-bit window; inflating always uses a 15-bit one.
    assert recording_zlib.calls == [("compressobj", -10), ("decompressobj", -15)]


def test_a_swap_leaves_existing_objects_on_their_backend() -> None:
    before = PerMessageDeflate(DeflateParams(), is_client=False)
    backend = _RecordingZlib()
    set_zlib_backend(backend)
    try:
        after = PerMessageDeflate(DeflateParams(), is_client=True)
    finally:
        set_zlib_backend(zlib)
    # Created before the swap: the stdlib's zlib, even for compressors made later.
    assert after.decompress(before.compress(b"x" * 50), final=True, limit=None) == b"x" * 50
    assert backend.calls == [("decompressobj", -15)]


def test_the_backends_error_is_a_protocol_error(recording_zlib: _RecordingZlib) -> None:
    inflater = PerMessageDeflate(DeflateParams(), is_client=True)
    with pytest.raises(WebSocketError) as info:
        inflater.decompress(b"\xff\xff\xff garbage", final=True, limit=None)
    assert info.value.code == WSCloseCode.PROTOCOL_ERROR
