"""Content-Disposition: aiohttp-compatible writer, RFC 6266 reader, filename extraction."""

from __future__ import annotations

import warnings
from typing import Literal
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioloom.http._content_disposition import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    content_disposition_filename,
    content_disposition_header,
    parse_content_disposition,
)

NO_SURROGATES: tuple[Literal["Cs"]] = ("Cs",)
PARAM_NAMES = st.from_regex(r"[a-eg-z][a-z0-9-]{0,8}", fullmatch=True)  # never "filename"
TEXT = st.text(alphabet=st.characters(blacklist_categories=NO_SURROGATES))
SAFE_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=NO_SURROGATES, blacklist_characters="\r\n\x00")
)

# --- content_disposition_header --------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, "attachment"),
        ({"foo": "bar"}, 'attachment; foo="bar"'),
        ({"foo": "bar[]"}, 'attachment; foo="bar[]"'),
        ({"foo": ' "\\'}, 'attachment; foo="\\ \\"\\\\"'),  # 7-bit quoted-pairs, as aiohttp
        ({"foo": "a\tb"}, 'attachment; foo="a\\\tb"'),
        ({"foo": "bär"}, "attachment; foo*=utf-8''b%C3%A4r"),  # RFC 8187 when not ASCII
        ({"foo": "a\r\nb"}, "attachment; foo*=utf-8''a%0D%0Ab"),
        ({"filename": "bär"}, 'attachment; filename="b%C3%A4r"'),
        ({"filename": 'a "b".txt'}, 'attachment; filename="a%20%22b%22.txt"'),
        ({"filename": "a\r\nb"}, 'attachment; filename="a%0D%0Ab"'),
        ({"FileName": "x y"}, 'attachment; FileName="x%20y"'),
        ({"name": "f", "filename": "a.txt"}, 'attachment; name="f"; filename="a.txt"'),
    ],
)
def test_header_quoted(kwargs: dict[str, str], expected: str) -> None:
    assert content_disposition_header("attachment", True, **kwargs) == expected


def test_header_charset() -> None:
    header = content_disposition_header("attachment", _charset="latin-1", filename="bär", x="ä")
    assert header == "attachment; filename=\"b%E4r\"; x*=latin-1''%E4"


def test_header_charset_cannot_encode() -> None:
    with pytest.raises(UnicodeEncodeError):
        content_disposition_header("attachment", _charset="latin-1", filename="€")


@pytest.mark.parametrize("charset", ["utf 8", "utf8;", "", "a\r\nb"])
def test_header_bad_charset(charset: str) -> None:
    with pytest.raises(ValueError, match="bad charset"):
        content_disposition_header("attachment", _charset=charset, x="y")


def test_header_unquoted_fields() -> None:
    header = content_disposition_header("attachment", False, foo='bär "\\', filename="bär")
    assert header == 'attachment; foo="bär \\"\\\\"; filename="bär"'
    # The charset only matters when quoting.
    header = content_disposition_header("attachment", False, "latin-1", foo='bär "\\')
    assert header == 'attachment; foo="bär \\"\\\\"'


@pytest.mark.parametrize("value", ["a\r\nContent-Type: x", "a\nb", "a\rb", "a\x00b"])
@pytest.mark.parametrize("key", ["filename", "name"])
def test_header_unquoted_rejects_injection(key: str, value: str) -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        content_disposition_header("form-data", False, **{key: value})


@pytest.mark.parametrize("disptype", ["", "foo bar", "form-data;", '"inline"', "a\r\n", "ä"])
def test_header_bad_disptype(disptype: str) -> None:
    with pytest.raises(ValueError, match="bad content disposition type"):
        content_disposition_header(disptype, x="y")


@pytest.mark.parametrize("key", ["foo bar", "a;b", "a=b", "é"])
def test_header_bad_param_name(key: str) -> None:
    with pytest.raises(ValueError, match="bad content disposition parameter"):
        content_disposition_header("attachment", True, **{key: "x"})


# --- parse_content_disposition ---------------------------------------------------------------


def _parse_quietly(header: str | None) -> tuple[str | None, dict[str, str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return parse_content_disposition(header)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("inline", ("inline", {})),
        ("foobar", ("foobar", {})),
        ("INLINE", ("inline", {})),
        ('inline; filename="foo.html"', ("inline", {"filename": "foo.html"})),
        ('INLINE; FILENAME= "an example.html"', ("inline", {"filename": "an example.html"})),
        ("attachment; filename=foo.html", ("attachment", {"filename": "foo.html"})),
        ("attachment; filename='foo.bar'", ("attachment", {"filename": "'foo.bar'"})),
        ('attachment; filename="foo-ä.html"', ("attachment", {"filename": "foo-ä.html"})),
        ('attachment; filename="foo-%41.html"', ("attachment", {"filename": "foo-%41.html"})),
        ('attachment; filename="50%.html"', ("attachment", {"filename": "50%.html"})),
        ('attachment; filename="f\\oo.html"', ("attachment", {"filename": "foo.html"})),
        (
            'attachment; filename="\\"quoting\\" tested.html"',
            ("attachment", {"filename": '"quoting" tested.html'}),
        ),
        (
            'attachment; filename="Here\'s a semicolon;.html"',
            ("attachment", {"filename": "Here's a semicolon;.html"}),
        ),
        (
            'attachment; foo="\\"\\\\";filename="foo.html"',
            ("attachment", {"foo": '"\\', "filename": "foo.html"}),
        ),
        ('attachment; filename="/foo.html"', ("attachment", {"filename": "foo.html"})),
        ('attachment; filename="\\\\foo.html"', ("attachment", {"filename": "foo.html"})),
        ('attachment; name="/x"', ("attachment", {"name": "/x"})),
        ("attachment; xfilename=foo.html", ("attachment", {"xfilename": "foo.html"})),
        (
            'attachment; example="filename=example.txt"',
            ("attachment", {"example": "filename=example.txt"}),
        ),
        (
            'attachment; creation-date="Wed, 12 Feb 1997 16:29:51 -0500"',
            ("attachment", {"creation-date": "Wed, 12 Feb 1997 16:29:51 -0500"}),
        ),
        (
            'attachment; filename="=?ISO-8859-1?Q?foo-=E4.html?="',
            ("attachment", {"filename": "=?ISO-8859-1?Q?foo-=E4.html?="}),
        ),
        (
            "attachment; filename*=iso-8859-1''foo-%E4.html",
            ("attachment", {"filename*": "foo-ä.html"}),
        ),
        (
            "attachment; filename*=UTF-8''foo-%c3%a4-%e2%82%ac.html",
            ("attachment", {"filename*": "foo-ä-€.html"}),
        ),
        (
            "attachment; filename*=''foo-%c3%a4-%e2%82%ac.html",
            ("attachment", {"filename*": "foo-ä-€.html"}),
        ),
        (
            "attachment; filename*=UTF-8'en'foo-%c3%a4.html",
            ("attachment", {"filename*": "foo-ä.html"}),
        ),
        (
            "attachment; filename*= UTF-8''foo-%c3%a4.html",
            ("attachment", {"filename*": "foo-ä.html"}),
        ),
        (
            "attachment; filename* =UTF-8''foo-%c3%a4.html",
            ("attachment", {"filename*": "foo-ä.html"}),
        ),
        ("attachment; filename*=UTF-8''foo%", ("attachment", {"filename*": "foo%"})),
        ("attachment; filename*=UTF-8''f%oo.html", ("attachment", {"filename*": "f%oo.html"})),
        ("attachment; filename*=UTF-8''A-%2541.html", ("attachment", {"filename*": "A-%41.html"})),
        ("attachment; filename*=UTF-8''%5cfoo.html", ("attachment", {"filename*": "\\foo.html"})),
        (
            'attachment; filename*0="foo."; filename*1="html"',
            ("attachment", {"filename*0": "foo.", "filename*1": "html"}),
        ),
        (
            'attachment; filename*0="foo"; filename*1="\\b\\a\\r.html"',
            ("attachment", {"filename*0": "foo", "filename*1": "bar.html"}),
        ),
        (
            "attachment; filename*0*=UTF-8''foo-%c3%a4; filename*1=\".html\"",
            ("attachment", {"filename*0*": "UTF-8''foo-%c3%a4", "filename*1": ".html"}),
        ),
        (
            'attachment; filename*0=foo; filename*01="bar"',
            ("attachment", {"filename*0": "foo", "filename*01": "bar"}),
        ),
        (
            "attachment; filename=\"foo-ae.html\"; filename*=UTF-8''foo-%c3%a4.html",
            ("attachment", {"filename": "foo-ae.html", "filename*": "foo-ä.html"}),
        ),
        ("attachment; filename=foo.html ;", ("attachment", {"filename": "foo.html"})),
        ("attachment; ;filename=foo.html", ("attachment", {"filename": "foo.html"})),
    ],
)
def test_parse(header: str, expected: tuple[str, dict[str, str]]) -> None:
    assert _parse_quietly(header) == expected


@pytest.mark.parametrize("header", [None, ""])
def test_parse_absent(header: str | None) -> None:
    assert _parse_quietly(header) == (None, {})


@pytest.mark.parametrize(
    "header",
    [
        '"inline"',
        "inline foo",
        "filename=foo.html",
        "filename=foo.html; attachment",
        'attachment; filename="foo.html".txt',
        'attachment; filename="bar',
        'attachment; filename=foo"bar;baz"qux',
        "attachment; filename=foo,bar.html",
        "attachment; filename=foo bar.html",
        "attachment; filename=foo-ä.html",
        "attachment; filename=foo.html, attachment; filename=bar.html",
        "attachment; foo=foo filename=bar",
        "attachment; filename=bar foo=foo",
        "attachment filename=bar",
        'attachment; filename="foo.html"; filename="bar.html"',
        "attachment; FILENAME=a; filename=b",
        "attachment; filename",
        "attachment; filename=",
        "attachment; filename==?ISO-8859-1?Q?foo-=E4.html?=",
        ";",
    ],
)
def test_parse_bad_header(header: str) -> None:
    with pytest.warns(BadContentDispositionHeader):
        assert parse_content_disposition(header) == (None, {})


@pytest.mark.parametrize("header", ["attachment;", "attachment; ", "attachment;;"])
def test_parse_empty_parameters_ignored(header: str) -> None:
    assert _parse_quietly(header) == ("attachment", {})


@pytest.mark.parametrize(
    "header",
    [
        "attachment; filename *=UTF-8''foo-%c3%a4.html",
        "attachment; filename*=\"UTF-8''foo-%c3%a4.html\"",
        'attachment; filename*="foo%20bar.html"',
        "attachment; filename*=UTF-8'foo-%c3%a4.html",
        "attachment; filename*=UTF-8''foo'bar",
        "attachment; filename*=UTF-8''foo bar",
        "attachment; filename*=utf-8''%e4",  # not UTF-8
        "attachment; filename*=no-such-charset''%41",
        "attachment; filename*0=foo bar",
        'attachment; filename*0="foo',
    ],
)
def test_parse_bad_param(header: str) -> None:
    with pytest.warns(BadContentDispositionParam):
        assert parse_content_disposition(header) == ("attachment", {})


def test_parse_bad_param_keeps_others() -> None:
    with pytest.warns(BadContentDispositionParam):
        result = parse_content_disposition("form-data; name=x; a b=1; filename*=bad")
    assert result == ("form-data", {"name": "x"})


def test_warnings_are_runtime_warnings() -> None:
    assert issubclass(BadContentDispositionHeader, RuntimeWarning)
    assert issubclass(BadContentDispositionParam, RuntimeWarning)


# --- content_disposition_filename ------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, None),
        ({"foo": "bar"}, None),
        ({"filename": "foo.html"}, "foo.html"),
        ({"filename*": "foo.html"}, "foo.html"),
        ({"filename": "foo-ae.html", "filename*": "foo-ä.html"}, "foo-ä.html"),
        ({"filename*0": "foo.", "filename*1": "html"}, "foo.html"),
        ({"filename*1": "html", "filename*0": "foo."}, "foo.html"),
        ({"filename*0": "foo", "filename*2": "bar"}, "foo"),  # stops at the gap
        ({"filename*1": "bar"}, None),  # no first segment
        ({"filename*0": "foo", "filename*01": "bar"}, "foo"),  # leading zero: not a segment
        ({"filename*0*": "UTF-8''foo-%c3%a4", "filename*1": ".html"}, "foo-ä.html"),
        ({"filename*0*": "ISO-8859-15''euro-sign%3d%a4"}, "euro-sign=€"),
        (
            {"filename*0*": "ISO-8859-15''euro-sign%3d%a4", "filename*": "currency-sign=¤"},
            "currency-sign=¤",
        ),
        ({"filename*0": "100%", "filename*1*": "%41"}, "100%A"),  # literal segments stay literal
        ({"filename*0*": "utf-8''%c3", "filename*1*": "%a4"}, "ä"),  # split inside a character
        ({"filename*0*": "utf-8''%e4"}, None),  # not UTF-8
        ({"filename*0*": "nope''abc"}, None),  # unknown charset
    ],
)
def test_filename(params: dict[str, str], expected: str | None) -> None:
    assert content_disposition_filename(params) == expected


def test_filename_in_numeric_order() -> None:
    params = {f"filename*{i}": chr(ord("a") + i) for i in range(12)}
    assert content_disposition_filename(params) == "abcdefghijkl"


def test_filename_other_name() -> None:
    params = {"name*": "ä", "filename": "x"}
    assert content_disposition_filename(params, "name") == "ä"
    assert content_disposition_filename({"name*0": "a", "name*1": "b"}, "name") == "ab"


def test_filename_from_parsed_header() -> None:
    _, params = _parse_quietly("attachment; filename*0*=UTF-8''foo-%c3%a4; filename*1=\".html\"")
    assert content_disposition_filename(params) == "foo-ä.html"


# --- round trips -----------------------------------------------------------------------------


@given(st.dictionaries(PARAM_NAMES, TEXT, max_size=5))
def test_round_trip_quoted(params: dict[str, str]) -> None:
    disptype, parsed = _parse_quietly(content_disposition_header("form-data", True, **params))
    assert disptype == "form-data"
    for key, value in params.items():
        assert content_disposition_filename(parsed, key) == value


@given(st.dictionaries(PARAM_NAMES, SAFE_TEXT, max_size=5))
def test_round_trip_unquoted(params: dict[str, str]) -> None:
    header = content_disposition_header("form-data", False, **params)
    assert _parse_quietly(header) == ("form-data", params)


@given(name=TEXT, filename=TEXT)
def test_round_trip_filename(name: str, filename: str) -> None:
    header = content_disposition_header("form-data", name=name, filename=filename)
    _, parsed = _parse_quietly(header)
    assert content_disposition_filename(parsed, "name") == name
    assert unquote(parsed["filename"]) == filename
