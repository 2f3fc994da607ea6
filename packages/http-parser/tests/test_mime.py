"""Media types (parse_mimetype, parse_content_type) and the RFC 9110 §5.6 quoting primitives."""

from __future__ import annotations

from typing import Literal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import MultiDict, MultiDictProxy

from aioloom.http._mime import DEFAULT_CONTENT_TYPE, MimeType, parse_content_type, parse_mimetype
from aioloom.http._quoting import (
    is_token,
    quote_string,
    split_list,
    split_params,
    unquote_string,
    unquote_string_lenient,
)

NO_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
# Everything a quoted-string can carry: HTAB, SP, VCHAR, obs-text (and beyond, for str).
QUOTABLE = st.text(
    alphabet=st.characters(blacklist_categories=NO_SURROGATES).filter(
        lambda c: c == "\t" or not (c < " " or c == "\x7f")
    )
)


def _mime(type_: str, subtype: str, suffix: str, **params: str) -> MimeType:
    return MimeType(type_, subtype, suffix, MultiDictProxy(MultiDict(params)))


# --- parse_mimetype: aiohttp's forgiving parser --------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", _mime("", "", "")),
        ("*", _mime("*", "*", "")),
        ("application/json", _mime("application", "json", "")),
        ("application/json;  charset=utf-8", _mime("application", "json", "", charset="utf-8")),
        ("application/json; charset=utf-8;", _mime("application", "json", "", charset="utf-8")),
        ('ApPlIcAtIoN/JSON;ChaRseT="UTF-8"', _mime("application", "json", "", charset="UTF-8")),
        ("application/rss+xml", _mime("application", "rss", "xml")),
        ("text/plain;base64", _mime("text", "plain", "", base64="")),
        ("application/ld+json+x", _mime("application", "ld", "json+x")),
        (
            'multipart/form-data; boundary="a;b=c"; charset=x',
            _mime("multipart", "form-data", "", boundary="a;b=c", charset="x"),
        ),
        ('text/plain; q="a\\"b"', _mime("text", "plain", "", q='a"b')),
        ('text/plain; q="unterminated', _mime("text", "plain", "", q="unterminated")),
        ('text/plain; q=b"', _mime("text", "plain", "", q="b")),
        ("text/plain; =x; ;", _mime("text", "plain", "")),  # nameless parameters dropped
        ("text", _mime("text", "", "")),  # malformed: no subtype
        ("/", _mime("", "", "")),
    ],
)
def test_parse_mimetype(value: str, expected: MimeType) -> None:
    assert parse_mimetype(value) == expected


def test_parse_mimetype_repeated_parameters_kept() -> None:
    result = parse_mimetype("text/plain; a=1; A=2")
    assert result.parameters.getall("a") == ["1", "2"]


def test_parse_mimetype_result_is_immutable_and_cached() -> None:
    first = parse_mimetype("text/html; charset=utf-8")
    assert first is parse_mimetype("text/html; charset=utf-8")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        first.type = "image"  # type: ignore[misc]
    with pytest.raises(TypeError):
        first.parameters["charset"] = "x"  # type: ignore[index]


def test_mimetype_parameters_compare_to_dict() -> None:
    assert parse_mimetype("a/b; x=1").parameters == {"x": "1"}


# --- parse_content_type: RFC 9110 §8.3.1 ---------------------------------------------------


@pytest.mark.parametrize(
    ("value", "media_type", "params"),
    [
        ("text/html", "text/html", {}),
        ("Text/HTML;Charset=UTF-8", "text/html", {"charset": "UTF-8"}),  # value kept as sent
        ('text/html; charset="utf-8"', "text/html", {"charset": "utf-8"}),
        ("text/html ; charset=utf-8", "text/html", {"charset": "utf-8"}),
        ('text/plain; a="x;y"; b=2', "text/plain", {"a": "x;y", "b": "2"}),
        ('text/plain; a="q\\"uote\\\\"', "text/plain", {"a": 'q"uote\\'}),
        ('text/plain; a=""', "text/plain", {"a": ""}),
        ("application/vnd.api+json", "application/vnd.api+json", {}),
        ("text/plain;", "text/plain", {}),
        ("  text/plain  ", "text/plain", {}),
        # Malformed parameters are skipped, the rest is kept.
        ("text/plain; a = b; c=d", "text/plain", {"c": "d"}),
        ("text/plain; a; c=d", "text/plain", {"c": "d"}),
        ("text/plain; a=b c; c=d", "text/plain", {"c": "d"}),
        ('text/plain; a="b"c; c=d', "text/plain", {"c": "d"}),
        ('text/plain; a="b; c=d', "text/plain", {}),  # unterminated quote eats the rest
        ("text/plain; =b; c=d", "text/plain", {"c": "d"}),
        ('text/plain; a="\x01"; c=d', "text/plain", {"c": "d"}),
        # A repeated parameter keeps its first value.
        ("text/plain; charset=a; CHARSET=b", "text/plain", {"charset": "a"}),
    ],
)
def test_parse_content_type(value: str, media_type: str, params: dict[str, str]) -> None:
    assert parse_content_type(value) == (media_type, params)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "text",
        "text/",
        "/html",
        "text/html/x",
        "text /html",
        "te xt/html",
        "*",
        "tëxt/html",
        ";",
    ],
)
def test_parse_content_type_malformed_media_type(value: str) -> None:
    assert parse_content_type(value) == (DEFAULT_CONTENT_TYPE, {})
    assert DEFAULT_CONTENT_TYPE == "application/octet-stream"


def test_parse_content_type_parameters_read_only() -> None:
    _, params = parse_content_type("text/plain; charset=utf-8")
    with pytest.raises(TypeError):
        params["charset"] = "x"  # type: ignore[index]


# --- quoting primitives (RFC 9110 §5.6) ----------------------------------------------------


@pytest.mark.parametrize("value", ["gzip", "form-data", "!#$%&'*+-.^_`|~", "A1"])
def test_is_token(value: str) -> None:
    assert is_token(value)


@pytest.mark.parametrize("value", ["", "a b", "a;b", 'a"', "a/b", "é", "a\r\n", "a=b", "(a)"])
def test_is_not_token(value: str) -> None:
    assert not is_token(value)


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        ("", '""'),
        ("abc", '"abc"'),
        ('a"b', '"a\\"b"'),
        ("a\\b", '"a\\\\b"'),
        ("a b\tc", '"a b\tc"'),
        ("é", '"é"'),
    ],
)
def test_quote_string(value: str, quoted: str) -> None:
    assert quote_string(value) == quoted


@pytest.mark.parametrize("value", ["a\r\nb", "\x00", "a\nb", "\x7f", "\x1b[31m"])
def test_quote_string_rejects_controls(value: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        quote_string(value)


@pytest.mark.parametrize(
    ("quoted", "value"),
    [('""', ""), ('"abc"', "abc"), ('"a\\"b"', 'a"b'), ('"\\a\\\\"', "a\\"), ('"é"', "é")],
)
def test_unquote_string(quoted: str, value: str) -> None:
    assert unquote_string(quoted) == value


@pytest.mark.parametrize(
    "quoted",
    ["abc", '"abc', 'abc"', '"a"b"', '"a\\"', '"a\r\nb"', '"\x00"', '"', "", ' "a"', '"a" '],
)
def test_unquote_string_malformed(quoted: str) -> None:
    with pytest.raises(ValueError, match="malformed quoted-string"):
        unquote_string(quoted)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("abc", "abc"), ('"abc"', "abc"), ('"abc', "abc"), ('"a\\"b', 'a"b'), ('"', "")],
)
def test_unquote_string_lenient(value: str, expected: str) -> None:
    assert unquote_string_lenient(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a, b ,c", ["a", "b", "c"]),
        ("a,,b, ,", ["a", "b"]),  # RFC 9110 §5.6.1.2: empty elements ignored
        ('a, "b,c" , d', ["a", '"b,c"', "d"]),
        ('"a\\",b", c', ['"a\\",b"', "c"]),
        ('x="1,2", y', ['x="1,2"', "y"]),
        ('"unterminated, x', ['"unterminated, x']),
        ("", []),
        (" \t ", []),
    ],
)
def test_split_list(value: str, expected: list[str]) -> None:
    assert split_list(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a; b ;c", ["a", "b", "c"]),
        ('a="x;y"; b', ['a="x;y"', "b"]),
        (";;", []),
    ],
)
def test_split_params(value: str, expected: list[str]) -> None:
    assert split_params(value) == expected


@given(QUOTABLE)
def test_quote_unquote_round_trip(value: str) -> None:
    quoted = quote_string(value)
    assert unquote_string(quoted) == value
    assert unquote_string_lenient(quoted) == value


@given(st.lists(QUOTABLE, max_size=5))
def test_split_list_keeps_quoted_elements(values: list[str]) -> None:
    header = ", ".join(quote_string(value) for value in values)
    assert [unquote_string(item) for item in split_list(header)] == values


@given(st.dictionaries(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), QUOTABLE, max_size=5))
def test_content_type_round_trip(params: dict[str, str]) -> None:
    header = "text/plain" + "".join(f"; {k}={quote_string(v)}" for k, v in params.items())
    assert parse_content_type(header) == ("text/plain", params)
