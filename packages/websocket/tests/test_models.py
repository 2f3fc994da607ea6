from __future__ import annotations

import json
import pickle

import pytest
from multidict import CIMultiDict

from aioloom.http._exceptions import HttpProcessingError
from aioloom.websocket._models import (
    DEFAULT_MAX_MSG_SIZE,
    WS_CLOSED_MESSAGE,
    WS_CLOSING_MESSAGE,
    WS_KEY,
    WebSocketError,
    WSCloseCode,
    WSHandshakeError,
    WSMessage,
    WSMessageTypeError,
    WSMsgType,
)


def test_msg_type_values_match_aiohttp() -> None:
    assert {member.name: member.value for member in WSMsgType} == {
        "CONTINUATION": 0x0,
        "TEXT": 0x1,
        "BINARY": 0x2,
        "PING": 0x9,
        "PONG": 0xA,
        "CLOSE": 0x8,
        "CLOSING": 0x100,
        "CLOSED": 0x101,
        "ERROR": 0x102,
    }


@pytest.mark.parametrize(
    ("alias", "member"),
    [
        ("text", WSMsgType.TEXT),
        ("binary", WSMsgType.BINARY),
        ("ping", WSMsgType.PING),
        ("pong", WSMsgType.PONG),
        ("close", WSMsgType.CLOSE),
        ("closing", WSMsgType.CLOSING),
        ("closed", WSMsgType.CLOSED),
        ("error", WSMsgType.ERROR),
    ],
)
def test_msg_type_lowercase_aliases(alias: str, member: WSMsgType) -> None:
    assert getattr(WSMsgType, alias) is member


def test_close_code_members_match_aiohttp() -> None:
    assert {member.name: member.value for member in WSCloseCode} == {
        "OK": 1000,
        "GOING_AWAY": 1001,
        "PROTOCOL_ERROR": 1002,
        "UNSUPPORTED_DATA": 1003,
        "ABNORMAL_CLOSURE": 1006,
        "INVALID_TEXT": 1007,
        "POLICY_VIOLATION": 1008,
        "MESSAGE_TOO_BIG": 1009,
        "MANDATORY_EXTENSION": 1010,
        "INTERNAL_ERROR": 1011,
        "SERVICE_RESTART": 1012,
        "TRY_AGAIN_LATER": 1013,
        "BAD_GATEWAY": 1014,
    }


def test_constants() -> None:
    assert WS_KEY == b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
    assert DEFAULT_MAX_MSG_SIZE == 4 * 1024 * 1024
    assert WS_CLOSED_MESSAGE == (WSMsgType.CLOSED, None, None)
    assert WS_CLOSING_MESSAGE == (WSMsgType.CLOSING, None, None)


def test_message_is_a_named_tuple() -> None:
    message = WSMessage(WSMsgType.TEXT, "hi", "")
    kind, data, extra = message
    assert (kind, data, extra) == (WSMsgType.TEXT, "hi", "")
    assert message.type is WSMsgType.TEXT
    assert message._fields == ("type", "data", "extra")


def test_message_json() -> None:
    assert WSMessage(WSMsgType.TEXT, '{"a": [1, 2]}', "").json() == {"a": [1, 2]}
    assert WSMessage(WSMsgType.BINARY, b"[1]", "").json() == [1]


def test_message_json_custom_loads() -> None:
    seen: list[object] = []

    def loads(data: object) -> object:
        seen.append(data)
        return "decoded"

    assert WSMessage(WSMsgType.TEXT, "x", "").json(loads=loads) == "decoded"
    assert seen == ["x"]


def test_message_json_malformed() -> None:
    with pytest.raises(json.JSONDecodeError):
        WSMessage(WSMsgType.TEXT, "{not json", "").json()


def test_websocket_error() -> None:
    exc = WebSocketError(WSCloseCode.PROTOCOL_ERROR, "bad frame")
    assert exc.code == 1002
    assert str(exc) == "bad frame"
    assert exc.args == (1002, "bad frame")


def test_websocket_error_pickles() -> None:
    exc = pickle.loads(pickle.dumps(WebSocketError(1009, "too big")))
    assert isinstance(exc, WebSocketError)
    assert exc.code == 1009
    assert str(exc) == "too big"


def test_handshake_error_carries_status_and_headers() -> None:
    exc = WSHandshakeError("wrong version", code=426, headers=CIMultiDict(a="b"))
    assert isinstance(exc, HttpProcessingError)
    assert exc.code == 426
    assert exc.headers == {"a": "b"}
    assert exc.args == ("wrong version",)
    assert str(exc) == "wrong version"
    assert WSHandshakeError("x").code == 400


def test_handshake_error_pickles() -> None:
    exc = pickle.loads(pickle.dumps(WSHandshakeError("no", code=426, headers=CIMultiDict(a="b"))))
    assert isinstance(exc, WSHandshakeError)
    assert (exc.code, exc.message) == (426, "no")
    assert exc.headers == {"a": "b"}


def test_message_type_error_is_type_error() -> None:
    assert issubclass(WSMessageTypeError, TypeError)
