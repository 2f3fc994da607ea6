"""Structured request headers: Forwarded (RFC 7239), preconditions (RFC 9110 §13), Range."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioloom.http._etag import ETag
from aioloom.web._conditional import parse_etag_list, parse_range
from aioloom.web._forwarded import parse_forwarded
from aioloom.web._keys import AppKey, RequestKey, ResponseKey

MODULE_KEY = AppKey("module-level", str)


def _req(make_request: Any, *headers: str) -> Any:
    lines = "".join(f"{h}\r\n" for h in headers)
    return make_request(f"GET / HTTP/1.1\r\nHost: x\r\n{lines}\r\n".encode())


# -- Forwarded -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], ()),
        (
            ["for=192.0.2.60;proto=http;by=203.0.113.43"],
            ({"for": "192.0.2.60", "proto": "http", "by": "203.0.113.43"},),
        ),
        (['For="[2001:db8:cafe::17]:4711"'], ({"for": "[2001:db8:cafe::17]:4711"},)),
        (["for=192.0.2.43, for=198.51.100.17"], ({"for": "192.0.2.43"}, {"for": "198.51.100.17"})),
        (["for=a", "for=b;host=h"], ({"for": "a"}, {"for": "b", "host": "h"})),
        (['for="\\"quoted\\" \\\\ x"'], ({"for": '"quoted" \\ x'},)),
        (["for=1.2.3.4:8080"], ({"for": "1.2.3.4:8080"},)),  # aiohttp's leniency
        (["for = a"], ({},)),  # no spaces around "=" (RFC 7239 §4)
        (["for=a;;proto=https ; by=b"], ({"for": "a", "proto": "https", "by": "b"},)),
        (["for=a proto=b, for=c"], ({"for": "a"}, {"for": "c"})),  # bad: skip to the comma
        (["garbage, for=c"], ({}, {"for": "c"})),
        (['for="unterminated'], ({},)),
        (["for=a, , for=b"], ({"for": "a"}, {}, {"for": "b"})),
        (["for=a;for=b"], ({"for": "b"},)),  # a repeated name: the last wins (aiohttp)
        (["for=é"], ({},)),
    ],
)
def test_parse_forwarded(values: list[str], expected: tuple[dict[str, str], ...]) -> None:
    parsed = parse_forwarded(values)
    assert tuple(dict(elem) for elem in parsed) == expected


def test_forwarded_is_read_only(make_request: Any) -> None:
    req = _req(make_request, "Forwarded: for=1.2.3.4;proto=https", "Forwarded: by=x")
    assert [dict(e) for e in req.forwarded] == [{"for": "1.2.3.4", "proto": "https"}, {"by": "x"}]
    with pytest.raises(TypeError):
        req.forwarded[0]["for"] = "spoofed"
    assert req.scheme == "http"  # Forwarded never changes the scheme by itself (aiohttp 2.3+)


@given(st.text(max_size=60))
def test_forwarded_never_raises(value: str) -> None:
    for elem in parse_forwarded([value]):
        assert all(isinstance(k, str) and k == k.lower() for k in elem)


# -- preconditions ----------------------------------------------------------------------------


def test_dates(make_request: Any) -> None:
    when = datetime.datetime(2015, 10, 21, 7, 28, tzinfo=datetime.timezone.utc)
    req = _req(
        make_request,
        "If-Modified-Since: Wed, 21 Oct 2015 07:28:00 GMT",
        "If-Unmodified-Since: Wednesday, 21-Oct-15 07:28:00 GMT",
        "If-Range: Wed Oct 21 07:28:00 2015",
    )
    assert req.if_modified_since == when
    assert req.if_unmodified_since == when
    assert req.if_range == when


def test_invalid_or_absent_dates_are_none(make_request: Any) -> None:
    req = _req(make_request, "If-Modified-Since: yesterday", 'If-Range: "etag"')
    assert req.if_modified_since is None
    assert req.if_unmodified_since is None
    assert req.if_range is None


def test_etag_headers(make_request: Any) -> None:
    req = _req(make_request, 'If-Match: "a", W/"b"', "If-None-Match: *")
    assert req.if_match == (ETag("a"), ETag("b", is_weak=True))
    assert req.if_none_match == (ETag("*"),)
    bare = _req(make_request)
    assert bare.if_match is None and bare.if_none_match is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ('"x"', (ETag("x"),)),
        ('"x",,"y"', (ETag("x"), ETag("y"))),
        ("*", (ETag("*"),)),
        ("unquoted", ()),
        ('"x", garbage', ()),
    ],
)
def test_parse_etag_list(value: str | None, expected: tuple[ETag, ...] | None) -> None:
    assert parse_etag_list(value) == expected


# -- Range --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, slice(None, None, 1)),
        ("bytes=0-499", slice(0, 500, 1)),
        ("bytes=500-", slice(500, None, 1)),
        ("bytes=-500", slice(-500, None, 1)),
        ("bytes=7-7", slice(7, 8, 1)),
    ],
)
def test_parse_range(value: str | None, expected: slice) -> None:
    assert parse_range(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bytes=5-1", "start cannot be after end"),
        ("bytes=-", "No start or end"),
        ("items=0-1", "not in acceptable format"),
        ("bytes=0-1,3-4", "not in acceptable format"),
        ("bytes=a-b", "not in acceptable format"),
        ("bytes=٠-١", "not in acceptable format"),  # non-ASCII digits
    ],
)
def test_parse_range_errors(value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_range(value)


def test_http_range_on_request(make_request: Any) -> None:
    data = bytes(range(100))
    req = _req(make_request, "Range: bytes=10-19")
    assert data[req.http_range] == bytes(range(10, 20))
    bad = _req(make_request, "Range: bytes=9-1")
    with pytest.raises(ValueError):
        bad.http_range  # noqa: B018


# -- typed keys ------------------------------------------------------------------------------------


def test_keys() -> None:
    app_key = AppKey("db", int)
    req_key = RequestKey("user", str)
    resp_key: ResponseKey[list[int]] = ResponseKey("items")
    assert app_key.name.endswith(".db")
    assert MODULE_KEY.name == f"{__name__}.module-level"  # prefixed with the defining module
    assert repr(app_key) == f"<AppKey({app_key.name}, type=int)>"
    assert repr(req_key) == f"<RequestKey({req_key.name}, type=str)>"
    assert repr(resp_key) == f"<ResponseKey({resp_key.name}, type=<<Unknown>>)>"
    typed = AppKey[datetime.datetime]("when")
    assert repr(typed).endswith("type=datetime.datetime)>")
    assert sorted([AppKey("b"), "plain", AppKey("a")], key=lambda k: (isinstance(k, str), k))
    assert AppKey("a") < AppKey("b") and AppKey("z") < "a"
    assert AppKey("same") != AppKey("same")  # identity, as aiohttp
