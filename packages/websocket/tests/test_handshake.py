from __future__ import annotations

import base64

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from aioloom.http._messages import HttpVersion, HttpVersion10, HttpVersion11
from aioloom.websocket._deflate import DeflateOffer, DeflateParams
from aioloom.websocket._handshake import (
    ClientHandshake,
    client_handshake_headers,
    select_protocol,
    server_handshake,
    validate_upgrade_request,
    validate_upgrade_response,
    ws_accept,
    ws_key,
)
from aioloom.websocket._models import WSHandshakeError

# RFC 6455 §1.3 example.
KEY = "dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def request_headers(**overrides: str | None) -> CIMultiDictProxy[str]:
    fields: dict[str, str | None] = {
        "Host": "server.example.com",
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
    }
    fields.update({name.replace("_", "-"): value for name, value in overrides.items()})
    return CIMultiDictProxy(CIMultiDict({k: v for k, v in fields.items() if v is not None}))


def response_headers(**overrides: str | None) -> CIMultiDict[str]:
    fields: dict[str, str | None] = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Accept": ACCEPT,
    }
    fields.update({name.replace("_", "-"): value for name, value in overrides.items()})
    return CIMultiDict({k: v for k, v in fields.items() if v is not None})


# -- keys ----------------------------------------------------------------------------------


def test_ws_accept_rfc_example() -> None:
    assert ws_accept(KEY) == ACCEPT


def test_ws_key() -> None:
    key = ws_key()
    assert len(base64.b64decode(key, validate=True)) == 16
    assert ws_key() != key


# -- server side ---------------------------------------------------------------------------


def test_valid_request() -> None:
    assert validate_upgrade_request("GET", HttpVersion11, request_headers()) == KEY


@pytest.mark.parametrize(
    "overrides",
    [
        {"Upgrade": "WebSocket"},
        {"Upgrade": "h2c, websocket"},
        {"Connection": "keep-alive, Upgrade"},
        {"Connection": "UPGRADE"},
    ],
)
def test_valid_request_variants(overrides: dict[str, str]) -> None:
    assert validate_upgrade_request("GET", HttpVersion11, request_headers(**overrides)) == KEY


def test_tokens_over_several_field_lines() -> None:
    headers = CIMultiDict(request_headers())
    headers.popall("Connection")
    headers.add("Connection", "keep-alive")
    headers.add("Connection", "upgrade")
    assert validate_upgrade_request("GET", HttpVersion11, headers) == KEY


@pytest.mark.parametrize("method", ["POST", "HEAD", "get", "CONNECT"])
def test_wrong_method(method: str) -> None:
    with pytest.raises(WSHandshakeError) as info:
        validate_upgrade_request(method, HttpVersion11, request_headers())
    assert info.value.code == 405
    assert info.value.headers == {"Allow": "GET"}


@pytest.mark.parametrize("version", [HttpVersion10, HttpVersion(2, 0), HttpVersion(0, 9)])
def test_wrong_http_version(version: HttpVersion) -> None:
    with pytest.raises(WSHandshakeError, match="HTTP/1.1") as info:
        validate_upgrade_request("GET", version, request_headers())
    assert info.value.code == 400


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"Upgrade": None}, "UPGRADE"),
        ({"Upgrade": "h2c"}, "UPGRADE"),
        ({"Upgrade": "websocketx"}, "UPGRADE"),
        ({"Connection": None}, "CONNECTION"),
        ({"Connection": "keep-alive"}, "CONNECTION"),
        ({"Connection": "upgraded"}, "CONNECTION"),
        ({"Sec-WebSocket-Key": None}, "Handshake error"),
        ({"Sec-WebSocket-Key": ""}, "Handshake error"),
        ({"Sec-WebSocket-Key": "not base64!"}, "Handshake error"),
        ({"Sec-WebSocket-Key": base64.b64encode(b"x" * 15).decode()}, "Handshake error"),
        ({"Sec-WebSocket-Key": base64.b64encode(b"x" * 17).decode()}, "Handshake error"),
        ({"Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ"}, "Handshake error"),  # no padding
    ],
)
def test_bad_request(overrides: dict[str, str | None], message: str) -> None:
    with pytest.raises(WSHandshakeError, match=message) as info:
        validate_upgrade_request("GET", HttpVersion11, request_headers(**overrides))
    assert info.value.code == 400
    assert info.value.headers is None


def test_two_keys() -> None:
    headers = CIMultiDict(request_headers())
    headers.add("Sec-WebSocket-Key", KEY)
    with pytest.raises(WSHandshakeError, match="2 Sec-WebSocket-Key") as info:
        validate_upgrade_request("GET", HttpVersion11, headers)
    assert info.value.code == 400


@pytest.mark.parametrize("version", [None, "8", "7", "12", "14", "13, 8", ""])
def test_unsupported_websocket_version(version: str | None) -> None:
    # RFC 6455 §4.2.2: answer 426 naming the version the server speaks.
    headers = request_headers(**{"Sec-WebSocket-Version": version})
    with pytest.raises(WSHandshakeError, match="Unsupported version") as info:
        validate_upgrade_request("GET", HttpVersion11, headers)
    assert info.value.code == 426
    assert info.value.headers == {"Sec-WebSocket-Version": "13"}


@pytest.mark.parametrize(
    ("offered", "supported", "chosen"),
    [
        ("chat, superchat", ["superchat", "chat"], "chat"),
        ("chat,superchat", ["superchat"], "superchat"),
        (["a", " b "], ["b"], "b"),
        ("chat", ["other"], None),
        (None, ["chat"], None),
        ("", ["chat"], None),
        ("chat", [], None),
    ],
)
def test_select_protocol(
    offered: str | list[str] | None, supported: list[str], chosen: str | None
) -> None:
    assert select_protocol(offered, supported) == chosen


def test_server_handshake_minimal() -> None:
    result = server_handshake("GET", HttpVersion11, request_headers())
    assert result.protocol is None
    assert result.deflate is None
    assert result.headers == {
        "Upgrade": "websocket",
        "Connection": "upgrade",
        "Sec-WebSocket-Accept": ACCEPT,
    }


def test_server_handshake_with_protocol_and_compression() -> None:
    headers = request_headers(
        **{
            "Sec-WebSocket-Protocol": "chat, superchat",
            "Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
        }
    )
    result = server_handshake("GET", HttpVersion11, headers, protocols=["superchat"])
    assert result.protocol == "superchat"
    assert result.deflate == DeflateParams()
    assert result.headers["Sec-WebSocket-Protocol"] == "superchat"
    assert result.headers["Sec-WebSocket-Extensions"] == "permessage-deflate"


def test_server_handshake_compression_off_or_declined() -> None:
    offer = {"Sec-WebSocket-Extensions": "permessage-deflate"}
    result = server_handshake("GET", HttpVersion11, request_headers(**offer), compress=False)
    assert result.deflate is None
    assert "Sec-WebSocket-Extensions" not in result.headers
    bad = {"Sec-WebSocket-Extensions": "permessage-deflate; server_max_window_bits=8"}
    result = server_handshake("GET", HttpVersion11, request_headers(**bad))
    assert result.deflate is None
    assert "Sec-WebSocket-Extensions" not in result.headers


def test_server_handshake_policy() -> None:
    offer = {"Sec-WebSocket-Extensions": "permessage-deflate"}
    result = server_handshake(
        "GET",
        HttpVersion11,
        request_headers(**offer),
        server_no_context_takeover=True,
        server_max_window_bits=11,
    )
    assert result.deflate == DeflateParams(
        server_no_context_takeover=True, server_max_window_bits=11
    )
    assert result.headers["Sec-WebSocket-Extensions"] == (
        "permessage-deflate; server_no_context_takeover; server_max_window_bits=11"
    )


def test_server_handshake_raises_for_bad_requests() -> None:
    with pytest.raises(WSHandshakeError) as info:
        server_handshake("GET", HttpVersion11, request_headers(Upgrade=None))
    assert info.value.code == 400


# -- client side ---------------------------------------------------------------------------


def test_client_headers() -> None:
    headers = client_handshake_headers(KEY)
    assert headers == {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": KEY,
        "Sec-WebSocket-Version": "13",
    }
    full = client_handshake_headers(KEY, protocols=["chat", "v2"], deflate=DeflateOffer())
    assert full["Sec-WebSocket-Protocol"] == "chat,v2"
    assert full["Sec-WebSocket-Extensions"] == "permessage-deflate; client_max_window_bits"


def test_client_headers_are_accepted_by_the_server_side() -> None:
    key = ws_key()
    headers = client_handshake_headers(key, protocols=["chat"], deflate=DeflateOffer())
    result = server_handshake("GET", HttpVersion11, headers, protocols=["chat"])
    assert result.protocol == "chat"
    assert validate_upgrade_response(
        101, result.headers, key=key, protocols=["chat"], deflate=DeflateOffer()
    ) == ClientHandshake("chat", DeflateParams())


def test_valid_response() -> None:
    assert validate_upgrade_response(101, response_headers(), key=KEY) == (None, None)


def test_response_protocol() -> None:
    headers = response_headers(**{"Sec-WebSocket-Protocol": "chat"})
    assert validate_upgrade_response(101, headers, key=KEY, protocols=["chat"]).protocol == "chat"
    # aiohttp leaves a protocol that was not offered unselected rather than failing.
    assert validate_upgrade_response(101, headers, key=KEY, protocols=["x"]).protocol is None


def test_response_compression() -> None:
    headers = response_headers(
        **{"Sec-WebSocket-Extensions": "permessage-deflate; server_no_context_takeover"}
    )
    result = validate_upgrade_response(101, headers, key=KEY, deflate=DeflateOffer())
    assert result.deflate == DeflateParams(server_no_context_takeover=True)


@pytest.mark.parametrize(
    ("status", "overrides", "message"),
    [
        (200, {}, "Invalid response status"),
        (400, {}, "Invalid response status"),
        (101, {"Upgrade": None}, "Invalid upgrade header"),
        (101, {"Upgrade": "h2c"}, "Invalid upgrade header"),
        (101, {"Connection": None}, "Invalid connection header"),
        (101, {"Connection": "close"}, "Invalid connection header"),
        (101, {"Sec-WebSocket-Accept": None}, "Invalid challenge response"),
        (101, {"Sec-WebSocket-Accept": "wrong"}, "Invalid challenge response"),
        (101, {"Sec-WebSocket-Extensions": "permessage-deflate"}, "not supported"),
    ],
)
def test_invalid_response(status: int, overrides: dict[str, str | None], message: str) -> None:
    with pytest.raises(WSHandshakeError, match=message) as info:
        validate_upgrade_response(status, response_headers(**overrides), key=KEY)
    assert info.value.code == 0


def test_response_with_two_accept_fields() -> None:
    headers = response_headers()
    headers.add("Sec-WebSocket-Accept", ACCEPT)
    with pytest.raises(WSHandshakeError, match="challenge"):
        validate_upgrade_response(101, headers, key=KEY)


def test_response_compression_with_invalid_window() -> None:
    headers = response_headers(
        **{"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits=8"}
    )
    with pytest.raises(WSHandshakeError, match="Invalid window size") as info:
        validate_upgrade_response(101, headers, key=KEY, deflate=DeflateOffer())
    assert info.value.code == 0
