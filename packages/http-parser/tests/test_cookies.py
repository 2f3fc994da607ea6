"""Cookie grammar: Cookie header parsing, Set-Cookie parsing (RFC 6265 §5.2) and writing."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from http.cookies import Morsel, SimpleCookie

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioloom.http._cookies import (
    format_set_cookie,
    parse_cookie_date,
    parse_cookie_header,
    parse_set_cookie,
    parse_set_cookie_headers,
)
from aioloom.http._dates import parse_http_date

UTC = timezone.utc
NAMES = st.from_regex(r"[A-Za-z0-9!#$%&'*+\-.^_`|~]{1,12}", fullmatch=True)
# RFC 6265 §4.1.1 cookie-octet: no CTLs, whitespace, DQUOTE, comma, semicolon, backslash.
OCTETS = st.from_regex(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*", fullmatch=True)


def _morsel(name: str, value: str, **attrs: object) -> Morsel[str]:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    for key, attr in attrs.items():
        cookie[name][key.replace("_", "-")] = attr
    return cookie[name]


# --- parse_cookie_header ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("", {}),
        ("sid=abc", {"sid": "abc"}),
        ("a=1; b=2", {"a": "1", "b": "2"}),
        ("a=1;b=2;  c=3 ", {"a": "1", "b": "2", "c": "3"}),
        ("a=", {"a": ""}),
        ("a=x=y", {"a": "x=y"}),
        ('a="quoted value"', {"a": "quoted value"}),
        ('a=""', {"a": ""}),
        ('a="\\"esc\\""', {"a": '"esc"'}),
        ('a="\\303\\251"', {"a": "Ã©"}),  # http.cookies octal escapes
        ('a="unterminated; b=2', {"a": '"unterminated', "b": "2"}),
        ('g_state={"i_l":0,"i_ll":1}; b=2', {"g_state": '{"i_l":0,"i_ll":1}', "b": "2"}),
        ('test={"key": 1}; MY_COOKIE="gAAA"', {"test": '{"key": 1}', "MY_COOKIE": "gAAA"}),
        # RFC 6265 §5.4: attribute names are ordinary cookie names in a Cookie header.
        (
            "session=abc; path=/api; secure=true",
            {"session": "abc", "path": "/api", "secure": "true"},
        ),
        # Broken pieces are skipped; parsing goes on.
        ("a=1; junk; b=2", {"a": "1", "b": "2"}),
        ("a=1; =2; b=3", {"a": "1", "b": "3"}),
        ("a=1; bad name=2; b=3", {"a": "1", "b": "3"}),
        ('a=1; "q"=2; b=3', {"a": "1", "b": "3"}),
        ("a=1; b\\c=2; d=3", {"a": "1", "d": "3"}),
        ("a[]=1; x.y=2; $Version=1", {"a[]": "1", "x.y": "2", "$Version": "1"}),
        ("é=1; b=2", {"b": "2"}),
        (";;; ;", {}),
        # The first of a repeated name wins (RFC 6265 §5.4: longest path first).
        ("sid=specific; sid=general", {"sid": "specific"}),
        ("a=é", {"a": "é"}),
    ],
)
def test_parse_cookie_header(header: str, expected: dict[str, str]) -> None:
    assert parse_cookie_header(header) == expected


def test_parse_cookie_header_keeps_order() -> None:
    assert list(parse_cookie_header("z=1; a=2; m=3")) == ["z", "a", "m"]


@given(st.dictionaries(NAMES, OCTETS, max_size=6))
def test_cookie_header_round_trip(cookies: dict[str, str]) -> None:
    header = "; ".join(f"{name}={value}" for name, value in cookies.items())
    assert parse_cookie_header(header) == cookies


@given(st.text(max_size=60))
def test_parse_cookie_header_never_raises(header: str) -> None:
    result = parse_cookie_header(header)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.items())


# --- parse_cookie_date (RFC 6265 §5.1.1) ------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "Wed, 21 Oct 2015 07:28:00 GMT",
        "Wednesday, 21-Oct-15 07:28:00 GMT",
        "Wed Oct 21 07:28:00 2015",
        "21 Oct 2015 07:28:00",
        "Wed, 21-Oct-2015 07:28:00 GMT",
        "21 october 2015 7:28:0 GMT",
        "Wed, 21 Oct 2015 07:28:00 -0000",
        "2015 Oct 21 07:28:00",
    ],
)
def test_parse_cookie_date(value: str) -> None:
    assert parse_cookie_date(value) == datetime(2015, 10, 21, 7, 28, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "year"),
    [("1 Jan 70 00:00:00", 1970), ("1 Jan 99 00:00:00", 1999), ("1 Jan 69 00:00:00", 2069)],
)
def test_parse_cookie_date_two_digit_years(value: str, year: int) -> None:
    parsed = parse_cookie_date(value)
    assert parsed is not None
    assert parsed.year == year


@pytest.mark.parametrize(
    "value",
    [
        "",
        "nonsense",
        "Wed, 21 Oct 2015",  # no time
        "21 Oct 07:28:00",  # no year
        "Oct 2015 07:28:00",  # no day
        "21 2015 07:28:00",  # no month
        "Wed, 31 Feb 2015 07:28:00 GMT",
        "Wed, 21 Oct 1600 07:28:00 GMT",  # before 1601
        "Wed, 21 Oct 2015 24:00:00 GMT",
        "Wed, 21 Oct 2015 07:60:00 GMT",
        "Wed, 21 Oct 2015 07:28:60 GMT",
        "Wed, 00 Oct 2015 07:28:00 GMT",
        "Wed, 21 Oct 20155 07:28:00 GMT",
    ],
)
def test_parse_cookie_date_invalid(value: str) -> None:
    assert parse_cookie_date(value) is None


# --- parse_set_cookie ------------------------------------------------------------------------


def test_parse_set_cookie_full() -> None:
    morsel = parse_set_cookie(
        "sid=abc123; Path=/app; Domain=.Example.COM; Max-Age=3600; "
        "Expires=Wed, 21 Oct 2015 07:28:00 GMT; Secure; HttpOnly; SameSite=lax; Partitioned"
    )
    assert morsel is not None
    assert (morsel.key, morsel.value, morsel.coded_value) == ("sid", "abc123", "abc123")
    assert morsel["path"] == "/app"
    assert morsel["domain"] == "example.com"  # RFC 6265 §5.2.3
    assert morsel["max-age"] == "3600"
    assert morsel["expires"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Lax"
    assert morsel["partitioned"] is True


def test_parse_set_cookie_minimal() -> None:
    morsel = parse_set_cookie("a=b")
    assert morsel is not None
    assert (morsel.key, morsel.value) == ("a", "b")
    assert all(value == "" for value in morsel.values())


def test_parse_set_cookie_quoted_value() -> None:
    morsel = parse_set_cookie('a="b c"; Path=/')
    assert morsel is not None
    assert morsel.value == "b c"
    assert morsel.coded_value == '"b c"'  # sent back exactly as received


def test_parse_set_cookie_trims_whitespace() -> None:
    morsel = parse_set_cookie("  a = b  ;  path = /x ; secure ")
    assert morsel is not None
    assert (morsel.key, morsel.value, morsel["path"], morsel["secure"]) == ("a", "b", "/x", True)


def test_parse_set_cookie_last_attribute_wins() -> None:
    morsel = parse_set_cookie("a=b; Path=/one; path=/two; Max-Age=1; max-age=2")
    assert morsel is not None
    assert (morsel["path"], morsel["max-age"]) == ("/two", "2")


def test_parse_set_cookie_flags_ignore_values() -> None:
    morsel = parse_set_cookie("a=b; Secure=false; HttpOnly=0")
    assert morsel is not None
    assert morsel["secure"] is True
    assert morsel["httponly"] is True


def test_parse_set_cookie_tolerant_names() -> None:
    morsel = parse_set_cookie("a[b]=1; path=/")
    assert morsel is not None
    assert morsel.key == "a[b]"


def test_parse_set_cookie_value_with_equals() -> None:
    morsel = parse_set_cookie("token=a=b==; path=/")
    assert morsel is not None
    assert morsel.value == "a=b=="


@pytest.mark.parametrize(
    ("header", "attribute"),
    [
        ("a=b; Expires=not a date", "expires"),
        ("a=b; Expires=", "expires"),
        ("a=b; Max-Age=ten", "max-age"),
        ("a=b; Max-Age=1.5", "max-age"),
        ("a=b; Max-Age=", "max-age"),
        ("a=b; Domain=", "domain"),
        ("a=b; Path=relative", "path"),
        ("a=b; Path=", "path"),
        ("a=b; SameSite=Sometimes", "samesite"),
        ("a=b; SameSite=", "samesite"),
    ],
)
def test_parse_set_cookie_invalid_attribute_ignored(header: str, attribute: str) -> None:
    # RFC 6265 §5.2.1-5.2.4: an invalid attribute value means the attribute is ignored.
    morsel = parse_set_cookie(header)
    assert morsel is not None
    assert morsel[attribute] == ""


def test_parse_set_cookie_negative_max_age_kept() -> None:
    morsel = parse_set_cookie("a=b; Max-Age=-1")
    assert morsel is not None
    assert morsel["max-age"] == "-1"


def test_parse_set_cookie_unknown_attributes_ignored() -> None:
    morsel = parse_set_cookie("a=b; Foo=bar; Priority=High; Comment=hi; Version=1")
    assert morsel is not None
    assert "foo" not in morsel
    assert (morsel["comment"], morsel["version"]) == ("hi", "1")


@pytest.mark.parametrize("header", ["", "novalue", "=b", " =b", "a b=c", '"a"=b', "é=1", ";a=b"])
def test_parse_set_cookie_ignored(header: str) -> None:
    assert parse_set_cookie(header) is None


def test_parse_set_cookie_headers() -> None:
    cookies = parse_set_cookie_headers(["a=1; Path=/", "broken", "b=2; Secure", ""])
    assert [(name, morsel.value) for name, morsel in cookies] == [("a", "1"), ("b", "2")]
    assert cookies[1][1]["secure"] is True


@given(st.text(max_size=60))
def test_parse_set_cookie_never_raises(header: str) -> None:
    morsel = parse_set_cookie(header)
    assert morsel is None or isinstance(morsel, Morsel)


# --- format_set_cookie -----------------------------------------------------------------------


def test_format_matches_morsel_output() -> None:
    morsel = _morsel(
        "sid",
        "é;x",
        path="/",
        domain="example.com",
        max_age=10,
        secure=True,
        httponly=True,
        samesite="Lax",
    )
    assert format_set_cookie(morsel) == morsel.OutputString()
    assert format_set_cookie(morsel) == (
        'sid="\\351\\073x"; Domain=example.com; HttpOnly; Max-Age=10; Path=/; SameSite=Lax; Secure'
    )


def test_format_minimal() -> None:
    assert format_set_cookie(_morsel("a", "b")) == "a=b"


def test_format_partitioned() -> None:
    morsel = parse_set_cookie("a=b; Partitioned; Secure; Path=/")
    assert morsel is not None
    assert format_set_cookie(morsel) == "a=b; Partitioned; Path=/; Secure"


def test_format_false_flags_omitted() -> None:
    assert format_set_cookie(_morsel("a", "b", secure=False, httponly=False)) == "a=b"


def test_format_expires_forms() -> None:
    fixed = _morsel("a", "b", expires="Wed, 21 Oct 2015 07:28:00 GMT")
    assert format_set_cookie(fixed) == "a=b; expires=Wed, 21 Oct 2015 07:28:00 GMT"
    when = datetime(2015, 10, 21, 7, 28, tzinfo=UTC)
    assert format_set_cookie(_morsel("a", "b", expires=when)) == (
        "a=b; expires=Wed, 21 Oct 2015 07:28:00 GMT"
    )
    relative = format_set_cookie(_morsel("a", "b", expires=60))
    parsed = parse_http_date(relative.partition("expires=")[2])
    assert parsed is not None
    assert abs(parsed.timestamp() - (time.time() + 60)) < 3


def test_format_max_age_string_and_zero() -> None:
    assert format_set_cookie(_morsel("a", "b", max_age="0")) == "a=b; Max-Age=0"
    assert format_set_cookie(_morsel("a", "b", max_age=0)) == "a=b; Max-Age=0"
    assert format_set_cookie(_morsel("a", "b", max_age=-1)) == "a=b; Max-Age=-1"


@pytest.mark.parametrize(
    ("attribute", "value"),
    [
        ("path", "/a\r\nSet-Cookie: evil=1"),
        ("path", "/a; Domain=evil.com"),
        ("domain", "example.com\n"),
        ("domain", "a\x00b"),
        ("expires", "Wed, 21 Oct 2015 07:28:00 GMT; Secure"),
        ("version", "1\r\n"),
    ],
)
def test_format_rejects_attribute_injection(attribute: str, value: str) -> None:
    with pytest.raises(ValueError, match="control character or ';'"):
        format_set_cookie(_morsel("a", "b", **{attribute: value}))


@pytest.mark.parametrize("coded", ["b\r\nX: y", "b; Domain=evil.com", "b\x00", "b\x7f"])
def test_format_rejects_value_injection(coded: str) -> None:
    morsel: Morsel[str] = Morsel()
    morsel.set("a", "b", coded)
    with pytest.raises(ValueError, match="control character or ';'"):
        format_set_cookie(morsel)


@pytest.mark.parametrize("name", ["", "a b", "a;b", "a=b", "a\r\n", '"a"'])
def test_format_rejects_bad_names(name: str) -> None:
    morsel: Morsel[str] = Morsel()
    morsel.__setstate__({"key": name, "value": "v", "coded_value": "v"})  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="invalid cookie name"):
        format_set_cookie(morsel)


def test_format_rejects_unset_morsel() -> None:
    with pytest.raises(ValueError, match="invalid cookie name"):
        format_set_cookie(Morsel())


@pytest.mark.parametrize("value", ["1.5", "ten", "1; Secure", True])
def test_format_rejects_bad_max_age(value: object) -> None:
    with pytest.raises(ValueError, match="Max-Age"):
        format_set_cookie(_morsel("a", "b", max_age=value))


@pytest.mark.parametrize("value", ["Sometimes", "Lax; Secure"])
def test_format_rejects_bad_samesite(value: str) -> None:
    with pytest.raises(ValueError, match="SameSite"):
        format_set_cookie(_morsel("a", "b", samesite=value))


@pytest.mark.parametrize("value", ["Strict", "lax", "None"])
def test_format_accepts_samesite(value: str) -> None:
    assert format_set_cookie(_morsel("a", "b", samesite=value)) == f"a=b; SameSite={value}"


@given(
    name=NAMES,
    value=st.text(alphabet=st.characters(codec="latin-1"), max_size=20),
    path=st.from_regex(r"/[A-Za-z0-9/._-]{0,10}", fullmatch=True),
    domain=st.from_regex(r"[a-z0-9]{1,10}\.(com|org)", fullmatch=True),
    max_age=st.integers(min_value=-1, max_value=10**9),
    secure=st.booleans(),
    httponly=st.booleans(),
    samesite=st.sampled_from(["", "Strict", "Lax", "None"]),
)
def test_set_cookie_round_trip(
    name: str,
    value: str,
    path: str,
    domain: str,
    max_age: int,
    secure: bool,
    httponly: bool,
    samesite: str,
) -> None:
    morsel = _morsel(
        name,
        value,
        path=path,
        domain=domain,
        max_age=max_age,
        secure=secure,
        httponly=httponly,
        samesite=samesite,
    )
    parsed = parse_set_cookie(format_set_cookie(morsel))
    assert parsed is not None
    assert (parsed.key, parsed.value, parsed.coded_value) == (name, value, morsel.coded_value)
    assert parsed["path"] == path
    assert parsed["domain"] == domain
    assert parsed["max-age"] == str(max_age)
    assert bool(parsed["secure"]) is secure
    assert bool(parsed["httponly"]) is httponly
    assert parsed["samesite"] == samesite
    # And the browser side: a Cookie header made from it gives the value back.
    assert parse_cookie_header(f"{name}={parsed.coded_value}") == {name: value}
