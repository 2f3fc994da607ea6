"""CookieJar, DummyCookieJar and AbstractCookieJar: RFC 6265 storage and selection rules."""

from __future__ import annotations

import json
import os
import pickle
import stat
from collections.abc import Iterator, Sequence
from http.cookies import BaseCookie, CookieError, Morsel, SimpleCookie
from pathlib import Path

import pytest
from yarl import URL

from aioloom.client import _cookiejar
from aioloom.client._cookiejar import (
    AbstractCookieJar,
    ClearCookiePredicate,
    CookieJar,
    DummyCookieJar,
    LooseCookies,
)

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z


class FakeClock:
    def __init__(self) -> None:
        self.now = T0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(_cookiejar, "time", fake)
    return fake


def store(jar: CookieJar, url: str, *headers: str) -> None:
    jar.update_cookies_from_headers(list(headers), URL(url))


def sent(jar: AbstractCookieJar, url: str) -> dict[str, str]:
    """What a request to ``url`` would carry: name -> coded value, in the jar's order."""
    return {name: morsel.coded_value for name, morsel in jar.filter_cookies(URL(url)).items()}


# -- domain matching, host-only, IP hosts (RFC 6265 §5.1.3, §5.3 steps 5-6, §5.4) ---------

DOMAIN_CASES = [
    # (response url, Set-Cookie, request url, sent?)
    ("http://www.example.com/", "a=1", "http://www.example.com/", True),
    ("http://www.example.com/", "a=1", "http://WWW.Example.COM/", True),
    ("http://www.example.com/", "a=1", "http://sub.www.example.com/", False),
    ("http://www.example.com/", "a=1", "http://example.com/", False),
    ("http://www.example.com/", "a=1; Domain=example.com", "http://example.com/", True),
    ("http://www.example.com/", "a=1; Domain=example.com", "http://www.example.com/", True),
    ("http://www.example.com/", "a=1; Domain=example.com", "http://a.b.example.com/", True),
    ("http://www.example.com/", "a=1; Domain=example.com", "http://notexample.com/", False),
    ("http://www.example.com/", "a=1; Domain=example.com", "http://example.com.evil/", False),
    ("http://www.example.com/", "a=1; Domain=.Example.COM", "http://x.example.com/", True),
    ("http://example.com/", "a=1; Domain=example.com", "http://example.com/", True),
    # No public-suffix list: a parent domain is accepted even when it is a TLD.
    ("http://example.com/", "a=1; Domain=com", "http://other.com/", True),
    # A trailing dot makes the Domain attribute ignored (host-only cookie, as in aiohttp).
    ("http://www.example.com/", "a=1; Domain=example.com.", "http://www.example.com/", True),
    ("http://www.example.com/", "a=1; Domain=example.com.", "http://x.example.com/", False),
]


@pytest.mark.parametrize(("origin", "header", "target", "expected"), DOMAIN_CASES)
def test_domain_rules(origin: str, header: str, target: str, expected: bool) -> None:
    jar = CookieJar()
    store(jar, origin, header)
    assert len(jar) == 1
    assert sent(jar, target) == ({"a": "1"} if expected else {})


REJECTED_DOMAINS = [
    ("http://www.example.com/", "a=1; Domain=other.com"),
    ("http://example.com/", "a=1; Domain=www.example.com"),  # a subdomain of the host
    ("http://www.example.com/", "a=1; Domain=ample.com"),  # not on a label boundary
    ("http://www.example.com/", "a=1; Domain=w.example.com"),
    ("http://127.0.0.1/", "a=1; Domain=0.0.1"),
]


@pytest.mark.parametrize(("origin", "header"), REJECTED_DOMAINS)
def test_domain_that_does_not_match_host_is_refused(origin: str, header: str) -> None:
    jar = CookieJar(unsafe=True)
    store(jar, origin, header)
    assert len(jar) == 0
    assert list(jar) == []


def test_host_only_flag_and_stored_domain() -> None:
    jar = CookieJar()
    store(jar, "http://www.example.com/", "h=1", "d=2; Domain=example.com")
    assert {(m.key, m["domain"]) for m in jar} == {("h", "www.example.com"), ("d", "example.com")}
    assert jar.host_only_cookies == frozenset({("www.example.com", "h")})


@pytest.mark.parametrize(
    ("unsafe", "origin", "target", "stored", "expected"),
    [
        (False, "http://127.0.0.1/", "http://127.0.0.1/", 0, {}),
        (True, "http://127.0.0.1/", "http://127.0.0.1/", 1, {"a": "1"}),
        (True, "http://127.0.0.1/", "http://127.0.0.2/", 1, {}),
        (True, "http://[::1]:8080/", "http://[::1]:8080/", 1, {"a": "1"}),
        (False, "http://[::1]/", "http://[::1]/", 0, {}),
    ],
)
def test_ip_hosts_need_unsafe(
    unsafe: bool, origin: str, target: str, stored: int, expected: dict[str, str]
) -> None:
    jar = CookieJar(unsafe=unsafe)
    store(jar, origin, "a=1")
    assert len(jar) == stored
    assert jar.unsafe is unsafe
    assert sent(jar, target) == expected


def test_ip_domain_attribute_equal_to_host_is_a_domain_cookie() -> None:
    jar = CookieJar(unsafe=True)
    store(jar, "http://10.0.0.1/", "a=1; Domain=10.0.0.1")
    assert [m["domain"] for m in jar] == ["10.0.0.1"]
    assert sent(jar, "http://10.0.0.1/x") == {"a": "1"}
    assert jar.host_only_cookies == frozenset()


def test_domain_cookies_are_not_sent_to_ip_hosts_even_if_unsafe() -> None:
    jar = CookieJar(unsafe=True)
    store(jar, "http://www.example.com/", "a=1; Domain=example.com")
    assert sent(jar, "http://1.2.3.4/") == {}


def test_non_ascii_domain_attribute_is_idna_encoded() -> None:
    jar = CookieJar()
    jar.update_cookies(
        [("a", _morsel("a", "1", domain="bücher.example"))],
        URL("http://www.xn--bcher-kva.example/"),
    )
    assert [m["domain"] for m in jar] == ["xn--bcher-kva.example"]
    assert sent(jar, "http://www.bücher.example/") == {"a": "1"}


# -- paths (RFC 6265 §5.1.4, §5.2.4) -------------------------------------------------------

DEFAULT_PATH_CASES = [
    ("http://h.test", None, "/"),
    ("http://h.test/", None, "/"),
    ("http://h.test/foo", None, "/"),
    ("http://h.test/foo/bar", None, "/foo"),
    ("http://h.test/foo/bar/", None, "/foo/bar"),
    ("http://h.test/foo/bar?q=/x/y", None, "/foo"),
    ("http://h.test/foo/bar", "relative", "/foo"),
    ("http://h.test/foo/bar", "", "/foo"),
    ("http://h.test/x", "/a/b", "/a/b"),
    ("http://h.test/x", "/a/b/", "/a/b/"),
]


@pytest.mark.parametrize(("origin", "path_attr", "expected"), DEFAULT_PATH_CASES)
def test_default_path(origin: str, path_attr: str | None, expected: str) -> None:
    jar = CookieJar()
    extra = {} if path_attr is None else {"path": path_attr}
    jar.update_cookies({"a": _morsel("a", "1", **extra)}, URL(origin))
    assert [m["path"] for m in jar] == [expected]


PATH_MATCH_CASES = [
    ("/", "/", True),
    ("/", "/anything/at/all", True),
    ("/foo", "/foo", True),
    ("/foo", "/foo/", True),
    ("/foo", "/foo/bar", True),
    ("/foo", "/foobar", False),
    ("/foo", "/", False),
    ("/foo", "/FOO", False),
    ("/foo/", "/foo", False),
    ("/foo/", "/foo/bar", True),
    ("/foo/bar", "/foo", False),
    ("/a%20b", "/a%20b/c", True),
]


@pytest.mark.parametrize(("cookie_path", "request_path", "expected"), PATH_MATCH_CASES)
def test_path_match(cookie_path: str, request_path: str, expected: bool) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", f"a=1; Path={cookie_path}")
    assert sent(jar, "http://h.test" + request_path) == ({"a": "1"} if expected else {})


def test_request_without_path_is_root() -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "a=1; Path=/")
    assert sent(jar, "http://h.test") == {"a": "1"}


# -- Secure and treat_as_secure_origin (RFC 6265 §5.4 step 1) -------------------------------

SECURE_CASES = [
    ("a=1; Secure", "https://www.example.com/", None, True),
    ("a=1; Secure", "wss://www.example.com/", None, True),
    ("a=1; Secure", "http://www.example.com/", None, False),
    ("a=1; Secure", "ws://www.example.com/", None, False),
    ("a=1; Secure", "http://www.example.com/", "http://www.example.com", True),
    ("a=1; Secure", "http://www.example.com/", URL("http://www.example.com/x"), True),
    ("a=1; Secure", "http://www.example.com/", ["https://a.test", "http://www.example.com"], True),
    ("a=1; Secure", "http://www.example.com/", "http://www.example.com:8080", False),
    ("a=1; Secure", "http://www.example.com/", "https://www.example.com", False),
    ("a=1", "http://www.example.com/", None, True),
    ("a=1", "https://www.example.com/", None, True),
]


@pytest.mark.parametrize(("header", "target", "origins", "expected"), SECURE_CASES)
def test_secure_cookies(header: str, target: str, origins: object, expected: bool) -> None:
    jar = CookieJar(treat_as_secure_origin=origins)  # type: ignore[arg-type]
    store(jar, "https://www.example.com/", header)
    assert sent(jar, target) == ({"a": "1"} if expected else {})


def test_treat_as_secure_origin_must_be_absolute() -> None:
    with pytest.raises(ValueError):
        CookieJar(treat_as_secure_origin="/relative/path")


def test_httponly_and_samesite_are_kept() -> None:
    jar = CookieJar()
    store(jar, "https://h.test/", "a=1; HttpOnly; SameSite=strict; Secure; Partitioned")
    (morsel,) = list(jar)
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["secure"] is True
    assert morsel.get("partitioned") is True
    # HttpOnly does not stop an HTTP client from sending it.
    assert sent(jar, "https://h.test/") == {"a": "1"}


# -- expiry (RFC 6265 §5.2.1, §5.2.2, §5.3 step 3, §5.3 step 11) ------------------------------


def _date(offset: float) -> str:
    from aioloom.http._dates import format_http_date

    return format_http_date(T0 + offset)


EXPIRY_CASES = [
    # (attributes, seconds later, still there?)
    ("Max-Age=10", 9, True),
    ("Max-Age=10", 10, False),
    ("Max-Age=0", 0, False),
    ("Max-Age=-5", 0, False),
    (f"Expires={_date(100)}", 99, True),
    (f"Expires={_date(100)}", 100, False),
    (f"Expires={_date(-1)}", 0, False),
    ("Expires=Thu, 01 Jan 1970 00:00:00 GMT", 0, False),
    # Max-Age wins over Expires, whatever their order.
    (f"Max-Age=10; Expires={_date(-100)}", 5, True),
    (f"Expires={_date(-100)}; Max-Age=10", 5, True),
    (f"Max-Age=0; Expires={_date(1000)}", 0, False),
    (f"Max-Age=10; Expires={_date(1000)}", 11, False),
    # An invalid Max-Age or Expires is ignored (session cookie, or the other attribute).
    ("Max-Age=ten", 10**9, True),
    (f"Max-Age=1x; Expires={_date(100)}", 101, False),
    ("Expires=not a date", 10**9, True),
    # Far-future expiry is clamped, not an overflow.
    (f"Max-Age={10**30}", 10**9, True),
    ("Expires=Fri, 31 Dec 9999 23:59:59 GMT", 10**9, True),
]


@pytest.mark.parametrize(("attributes", "later", "present"), EXPIRY_CASES)
def test_expiry(clock: FakeClock, attributes: str, later: float, present: bool) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", f"a=1; {attributes}")
    clock.now = T0 + later
    assert sent(jar, "http://h.test/") == ({"a": "1"} if present else {})
    assert len(jar) == int(present)
    assert [m.key for m in jar] == (["a"] if present else [])


@pytest.mark.parametrize(
    "deletion",
    ["a=; Max-Age=0", "a=gone; Max-Age=-1", "a=; Expires=Thu, 01 Jan 1970 00:00:00 GMT"],
)
def test_deletion_removes_the_stored_cookie(clock: FakeClock, deletion: str) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "a=1", "b=2")
    store(jar, "http://h.test/", deletion)
    assert sent(jar, "http://h.test/") == {"b": "2"}
    assert len(jar) == 1


def test_domain_deletion_removes_host_only_cookie_of_same_domain(clock: FakeClock) -> None:
    # RFC 6265 §5.3 step 11 identifies a cookie by name, domain and path; the host-only
    # flag is not part of it.
    jar = CookieJar()
    store(jar, "http://h.test/", "a=1; Path=/foo")
    store(jar, "http://h.test/", "a=; Max-Age=0; Path=/foo; Domain=h.test")
    assert len(jar) == 0


@pytest.mark.parametrize(
    "deletion",
    [
        "a=; Max-Age=0; Path=/",  # other path
        "b=; Max-Age=0; Path=/foo",  # other name
        "a=; Max-Age=0; Path=/foo/",  # other path (trailing slash)
    ],
)
def test_deletion_needs_same_domain_path_and_name(clock: FakeClock, deletion: str) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "a=1; Path=/foo")
    store(jar, "http://h.test/", deletion)
    assert sent(jar, "http://h.test/foo") == {"a": "1"}


def test_expiry_rescheduled_when_cookie_replaced(clock: FakeClock) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "a=1; Max-Age=10")
    store(jar, "http://h.test/", "a=2; Max-Age=100")
    clock.now = T0 + 50
    assert sent(jar, "http://h.test/") == {"a": "2"}
    store(jar, "http://h.test/", "a=3")  # now a session cookie
    clock.now = T0 + 1000
    assert sent(jar, "http://h.test/") == {"a": "3"}


def test_expiry_heap_does_not_grow_without_bound(clock: FakeClock) -> None:
    jar = CookieJar()
    for i in range(1000):
        store(jar, "http://h.test/", f"a={i}; Max-Age={1000 + i}")
    assert len(jar) == 1
    assert len(jar._expiry_heap) < 200  # stale entries of replaced cookies are dropped
    clock.now = T0 + 1998
    assert sent(jar, "http://h.test/") == {"a": "999"}
    clock.now = T0 + 1999
    assert sent(jar, "http://h.test/") == {}


def test_morsel_expires_forms(clock: FakeClock) -> None:
    from datetime import datetime, timezone

    jar = CookieJar()
    jar.update_cookies(
        {
            "seconds": _morsel("seconds", "1", expires=60),
            "aware": _morsel("aware", "1", expires=datetime.fromtimestamp(T0 + 60, timezone.utc)),
            "naive": _morsel("naive", "1", expires=datetime(2023, 11, 14, 22, 14, 20)),
        },
        URL("http://h.test/"),
    )
    clock.now = T0 + 59
    assert set(sent(jar, "http://h.test/")) == {"seconds", "aware", "naive"}
    clock.now = T0 + 60
    assert sent(jar, "http://h.test/") == {}


@pytest.mark.parametrize(
    ("seconds", "kept"),
    [(10**400, True), (-(10**400), False), (float("nan"), True)],
    ids=["huge", "huge-negative", "nan"],
)
def test_morsel_expires_odd_numbers(clock: FakeClock, seconds: float, kept: bool) -> None:
    # A huge int used to overflow the float addition (OverflowError out of update_cookies);
    # a NaN deadline sat on top of the expiry heap, where "nan <= now" is never true, so
    # that the cookies expiring after it were still sent.
    jar = CookieJar()
    jar.update_cookies({"odd": _morsel("odd", "1", expires=seconds)}, URL("http://h.test/"))
    store(jar, "http://h.test/", "short=2; Max-Age=10")
    clock.now = T0 + 20
    assert sent(jar, "http://h.test/") == ({"odd": "1"} if kept else {})


# -- ordering, repeated names, creation time (RFC 6265 §5.4 step 2, §5.3 step 11.3) ----------


def test_longest_path_first() -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "x=1; Path=/", "y=2; Path=/foo/bar", "z=3; Path=/foo")
    assert list(jar.filter_cookies(URL("http://h.test/foo/bar/baz"))) == ["y", "z", "x"]


def test_equal_paths_keep_creation_order_even_when_replaced() -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "a=1", "b=2", "c=3")
    store(jar, "http://h.test/", "a=changed")
    assert sent(jar, "http://h.test/") == {"a": "changed", "b": "2", "c": "3"}
    assert list(sent(jar, "http://h.test/")) == ["a", "b", "c"]


@pytest.mark.parametrize(("target", "expected"), [("/foo/x", "deep"), ("/bar", "root")])
def test_repeated_name_best_path_wins(target: str, expected: str) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "a=root; Path=/", "a=deep; Path=/foo")
    assert len(jar) == 2
    assert sent(jar, "http://h.test" + target) == {"a": expected}


def test_repeated_name_more_specific_domain_wins() -> None:
    jar = CookieJar()
    store(jar, "http://www.example.com/", "a=host; Path=/", "a=parent; Domain=example.com; Path=/")
    assert len(jar) == 2
    assert sent(jar, "http://www.example.com/") == {"a": "host"}
    assert sent(jar, "http://api.example.com/") == {"a": "parent"}


def test_same_name_domain_and_path_replaces() -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "a=1; Path=/p", "a=2; Path=/p")
    assert len(jar) == 1
    assert sent(jar, "http://h.test/p") == {"a": "2"}


# -- values, quoting and input forms ---------------------------------------------------------


@pytest.mark.parametrize(
    ("quote_cookie", "value", "expected"),
    [
        (True, "plain", "plain"),
        (True, "v al", '"v al"'),
        (True, 'say "hi"', '"say \\"hi\\""'),
        (True, "line\nbreak", '"line\\012break"'),
        (False, "v al", "v al"),
        (False, "a,b", "a,b"),
    ],
)
def test_quote_cookie_for_plain_values(quote_cookie: bool, value: str, expected: str) -> None:
    jar = CookieJar(quote_cookie=quote_cookie)
    assert jar.quote_cookie is quote_cookie
    jar.update_cookies({"k": value})
    assert sent(jar, "http://any.test/") == {"k": expected}
    assert jar.filter_cookies(URL("http://any.test/"))["k"].value == value


@pytest.mark.parametrize("quote_cookie", [True, False])
@pytest.mark.parametrize("raw", ['"x y"', "ab/c==", "{json}", "a\tb"])
def test_server_values_are_sent_back_as_received(quote_cookie: bool, raw: str) -> None:
    jar = CookieJar(quote_cookie=quote_cookie)
    store(jar, "http://h.test/", f"k={raw}")
    assert sent(jar, "http://h.test/") == {"k": raw}


@pytest.mark.parametrize(
    ("cookies", "quote_cookie"),
    [
        ({"bad name": "v"}, True),
        ({"a;b": "v"}, True),
        ({"": "v"}, True),
        ({"k": "line\r\nInjected: 1"}, False),
        ({"k": "a;b"}, False),
    ],
)
def test_unsendable_plain_cookies_raise(cookies: dict[str, str], quote_cookie: bool) -> None:
    jar = CookieJar(quote_cookie=quote_cookie)
    with pytest.raises(CookieError):
        jar.update_cookies(cookies)
    assert len(jar) == 0


def test_unsafe_morsel_is_skipped() -> None:
    bad = _morsel("k", "x", coded_value="x\r\nInjected: 1")
    jar = CookieJar()
    cookies: dict[str, str | Morsel[str]] = {"k": bad, "ok": "1"}
    jar.update_cookies(cookies, URL("http://h.test/"))
    assert sent(jar, "http://h.test/") == {"ok": "1"}


def _pairs() -> Iterator[tuple[str, str]]:
    yield ("a", "1")
    yield ("b", "2")


@pytest.mark.parametrize(
    "cookies",
    [
        {"a": "1", "b": "2"},
        [("a", "1"), ("b", "2")],
        _pairs(),
        SimpleCookie("a=1; b=2"),
        {"a": SimpleCookie("a=1"), "b": "2"},
    ],
    ids=["dict", "list", "iterator", "SimpleCookie", "BaseCookie-value"],
)
def test_input_forms(cookies: LooseCookies) -> None:
    jar = CookieJar()
    jar.update_cookies(cookies)
    assert sent(jar, "http://h.test/") == {"a": "1", "b": "2"}


def test_given_morsel_is_copied_not_modified() -> None:
    morsel = _morsel("a", "1")
    jar = CookieJar()
    jar.update_cookies({"a": morsel}, URL("http://h.test/x/y"))
    assert morsel["domain"] == ""
    assert morsel["path"] == ""
    assert [(m["domain"], m["path"]) for m in jar] == [("h.test", "/x")]


def test_names_servers_send_that_http_cookies_refuses() -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "a[b]=1", "{x}=2")
    assert sent(jar, "http://h.test/") == {"a[b]": "1", "{x}": "2"}


def test_update_cookies_from_headers_skips_garbage() -> None:
    jar = CookieJar()
    jar.update_cookies_from_headers([], URL("http://h.test/"))
    jar.update_cookies_from_headers(["", "novalue", "=x", ";;;"], URL("http://h.test/"))
    assert len(jar) == 0
    jar.update_cookies_from_headers(["junk", "a=1"], URL("http://h.test/"))
    assert sent(jar, "http://h.test/") == {"a": "1"}


def test_filter_cookies_returns_bare_morsels() -> None:
    jar = CookieJar()
    store(jar, "https://h.test/", "a=1; Secure; HttpOnly; Path=/; Max-Age=100")
    result = jar.filter_cookies(URL("https://h.test/"))
    assert isinstance(result, BaseCookie)
    assert result["a"].output(header="") == " a=1"
    assert result["a"]["secure"] == ""


def test_filter_cookies_with_str_url_warns() -> None:
    jar = CookieJar()
    jar.update_cookies({"a": "1"})
    with pytest.warns(DeprecationWarning):
        result = jar.filter_cookies("http://h.test/")  # type: ignore[arg-type]
    assert list(result) == ["a"]


# -- shared cookies (no response URL) ----------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    ["http://h.test/", "https://other.test/deep/path", "http://127.0.0.1:8080/", "ws://[::1]/"],
)
def test_shared_cookies_go_everywhere(target: str) -> None:
    jar = CookieJar()
    jar.update_cookies({"s": "1"})
    assert sent(jar, target) == {"s": "1"}
    assert [m["domain"] for m in jar] == [""]


def test_morsel_with_domain_and_no_url_is_a_domain_cookie() -> None:
    jar = CookieJar()
    jar.update_cookies({"d": _morsel("d", "1", domain="example.com")})
    assert sent(jar, "http://www.example.com/") == {"d": "1"}
    assert sent(jar, "http://other.test/") == {}


# -- clear, clear_domain, iteration ------------------------------------------------------------


def _populated() -> CookieJar:
    jar = CookieJar()
    jar.update_cookies({"shared": "0"})
    store(jar, "http://www.example.com/", "host=1", "dom=2; Domain=example.com")
    store(jar, "http://notexample.com/", "other=3")
    return jar


def test_clear_everything() -> None:
    jar = _populated()
    assert len(jar) == 4
    jar.clear()
    assert len(jar) == 0
    assert sent(jar, "http://www.example.com/") == {}


def test_clear_with_predicate() -> None:
    jar = _populated()
    predicate: ClearCookiePredicate = lambda morsel: morsel.value in ("1", "3")  # noqa: E731
    jar.clear(predicate)
    assert sorted(m.key for m in jar) == ["dom", "shared"]


def test_clear_with_predicate_drops_expired(clock: FakeClock) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "old=1; Max-Age=5", "new=2")
    clock.now = T0 + 10
    jar.clear(lambda morsel: False)
    assert [m.key for m in jar] == ["new"]


@pytest.mark.parametrize(
    ("domain", "left"),
    [
        ("example.com", ["other", "shared"]),
        (".EXAMPLE.com", ["other", "shared"]),
        ("www.example.com", ["dom", "other", "shared"]),
        ("com", ["shared"]),
        ("nothing.test", ["dom", "host", "other", "shared"]),
    ],
)
def test_clear_domain(domain: str, left: list[str]) -> None:
    jar = _populated()
    jar.clear_domain(domain)
    assert sorted(m.key for m in jar) == left


def test_iteration_and_cookies_view() -> None:
    jar = _populated()
    assert {m.key: (m["domain"], m["path"]) for m in jar} == {
        "shared": ("", "/"),
        "host": ("www.example.com", "/"),
        "dom": ("example.com", "/"),
        "other": ("notexample.com", "/"),
    }
    view = jar.cookies
    assert set(view) == {
        ("", "/"),
        ("www.example.com", "/"),
        ("example.com", "/"),
        ("notexample.com", "/"),
    }
    assert view[("example.com", "/")]["dom"].value == "2"
    # A snapshot: later changes do not show up in it.
    jar.clear()
    assert view[("example.com", "/")]["dom"].value == "2"


def test_iterating_while_clearing_is_safe() -> None:
    jar = _populated()
    for morsel in jar:
        jar.clear_domain(morsel["domain"] or "none.test")
    assert [m.key for m in jar] == ["shared"]


# -- save / load --------------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path: Path, clock: FakeClock) -> None:
    jar = CookieJar()
    jar.update_cookies({"shared": "s v"})
    store(
        jar,
        "https://www.example.com/app/page",
        "host=1",
        "dom=2; Domain=example.com; Path=/",
        "sec=3; Secure; HttpOnly; SameSite=Lax; Path=/",
        "exp=4; Max-Age=100; Path=/",
        'quoted="a b"; Path=/',
        "a[b]=5; Path=/",
    )
    path = tmp_path / "cookies.json"
    jar.save(path)
    loaded = CookieJar()
    loaded.load(path)
    assert len(loaded) == len(jar) == 7
    for target in (
        "https://www.example.com/app/x",
        "http://www.example.com/",
        "https://api.example.com/app/x",
        "http://unrelated.test/",
    ):
        assert sent(loaded, target) == sent(jar, target), target
    host_only = {("www.example.com", name) for name in ("host", "sec", "exp", "quoted", "a[b]")}
    assert loaded.host_only_cookies == jar.host_only_cookies == host_only
    sec = next(m for m in loaded if m.key == "sec")
    assert (sec["secure"], sec["httponly"], sec["samesite"]) == (True, True, "Lax")
    clock.now = T0 + 100  # the absolute deadline survived the round trip
    assert "exp" not in sent(loaded, "https://www.example.com/")


def test_saved_file_is_private_json(tmp_path: Path) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "a=1")
    path = tmp_path / "c.json"
    jar.save(str(path))
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "h.test|/": {
            "a": {
                "key": "a",
                "value": "1",
                "coded_value": "1",
                "path": "/",
                "domain": "h.test",
                "host_only": True,
            }
        }
    }
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_save_over_a_readable_file_makes_it_owner_only(tmp_path: Path) -> None:
    # open("w") keeps an existing file's mode: a 0o644 file must not stay world-readable.
    path = tmp_path / "c.json"
    path.write_text("{}", encoding="utf-8")
    path.chmod(0o644)
    jar = CookieJar()
    store(jar, "http://h.test/", "a=1")
    jar.save(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = CookieJar()
    loaded.load(path)
    assert [m.value for m in loaded] == ["1"]


def test_load_drops_cookies_expired_meanwhile(tmp_path: Path, clock: FakeClock) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", "short=1; Max-Age=10", "long=2; Max-Age=1000")
    path = tmp_path / "c.json"
    jar.save(path)
    clock.now = T0 + 500
    loaded = CookieJar()
    loaded.load(path)
    assert [m.key for m in loaded] == ["long"]


def test_load_replaces_content(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    CookieJar().save(path)
    jar = _populated()
    jar.load(path)
    assert len(jar) == 0


def test_load_reads_aiohttp_documents(tmp_path: Path) -> None:
    # The shape aiohttp 3.14's CookieJar.save() writes (paths in keys without trailing "/").
    document = {
        "example.com|": {
            "d": {
                "key": "d",
                "value": "1",
                "coded_value": "1",
                "path": "/",
                "domain": "example.com",
            }
        },
        "www.example.com|/app": {
            "h": {
                "key": "h",
                "value": "2",
                "coded_value": "2",
                "path": "/app",
                "domain": "www.example.com",
                "secure": True,
                "host_only": True,
                "expires_timestamp": 4102444800.0,
            }
        },
        "|": {"s": {"key": "s", "value": "3", "coded_value": "3"}},
    }
    path = tmp_path / "aiohttp.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    jar = CookieJar()
    jar.load(path)
    assert sent(jar, "https://www.example.com/app/x") == {"h": "2", "d": "1", "s": "3"}
    assert sent(jar, "https://sub.www.example.com/app/x") == {"d": "1", "s": "3"}
    assert sent(jar, "http://www.example.com/app/x") == {"d": "1", "s": "3"}


def test_load_applies_ip_rule(tmp_path: Path) -> None:
    safe = CookieJar(unsafe=True)
    store(safe, "http://10.0.0.1/", "a=1")
    path = tmp_path / "c.json"
    safe.save(path)
    strict = CookieJar()
    strict.load(path)
    assert len(strict) == 0
    relaxed = CookieJar(unsafe=True)
    relaxed.load(path)
    assert sent(relaxed, "http://10.0.0.1/") == {"a": "1"}


class _Exploit:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def test_load_never_unpickles(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pickle"
    path.write_bytes(pickle.dumps({("h.test", ""): _Exploit(marker)}))
    jar = _populated()
    with pytest.raises(ValueError, match="not a JSON cookie file"):
        jar.load(path)
    assert not marker.exists()
    assert len(jar) == 4  # untouched


def _doc(**record: object) -> str:
    base: dict[str, object] = {"key": "a", "value": "1", "coded_value": "1"}
    base.update(record)
    return json.dumps({"h.test|/": {"a": base}})


MALFORMED_FILES = [
    b"",
    b"not json",
    b"\xff\xfe\x00garbage",
    b"[]",
    b'"text"',
    b"null",
    b'{"no-bar": {}}',
    b'{"bad domain|/": {}}',
    b'{"h.test|/": []}',
    b'{"h.test|/": {"a": "1"}}',
    b'{"h.test|/": {"a": {"key": "a", "value": "1"}}}',
    _doc(value=1).encode(),
    _doc(key="b").encode(),
    _doc(key=None).encode(),
    json.dumps(
        {"h.test|/": {"bad name": {"key": "bad name", "value": "1", "coded_value": "1"}}}
    ).encode(),
    _doc(coded_value="1\r\nInjected: yes").encode(),
    _doc(coded_value="1; evil=2").encode(),
    _doc(secure=1).encode(),
    _doc(samesite={"x": 1}).encode(),
    _doc(path=["/"]).encode(),
    _doc(host_only="yes").encode(),
    _doc(expires_timestamp="soon").encode(),
    _doc(expires_timestamp=True).encode(),
    _doc(expires_timestamp=float("nan")).encode(),  # json writes NaN, which json reads back
    _doc(expires_timestamp=float("inf")).encode(),
    _doc(expires_timestamp=10**400).encode(),
]


@pytest.mark.parametrize("content", MALFORMED_FILES)
def test_load_rejects_malformed_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    jar = _populated()
    with pytest.raises(ValueError):
        jar.load(path)
    assert len(jar) == 4  # nothing changed


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        CookieJar().load(tmp_path / "missing.json")


def test_load_ignores_unknown_fields(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(_doc(future_field={"x": 1}, comment="hi"), encoding="utf-8")
    jar = CookieJar()
    jar.load(path)
    assert sent(jar, "http://h.test/") == {"a": "1"}
    assert next(iter(jar))["comment"] == "hi"


def test_save_and_load_far_future_expiry(tmp_path: Path) -> None:
    jar = CookieJar()
    store(jar, "http://h.test/", f"a=1; Max-Age={10**30}")
    path = tmp_path / "c.json"
    jar.save(path)
    loaded = CookieJar()
    loaded.load(path)
    assert sent(loaded, "http://h.test/") == {"a": "1"}


# -- DummyCookieJar and the ABC -----------------------------------------------------------------


def test_dummy_cookie_jar_stores_nothing(tmp_path: Path) -> None:
    jar = DummyCookieJar()
    jar.update_cookies({"a": "1"})
    jar.update_cookies_from_headers(["b=2"], URL("http://h.test/"))
    assert len(jar) == 0
    assert list(jar) == []
    assert jar.filter_cookies(URL("http://h.test/")) == SimpleCookie()
    assert isinstance(jar.filter_cookies(URL("http://h.test/")), SimpleCookie)
    assert jar.quote_cookie is True
    assert jar.unsafe is False
    assert dict(jar.cookies) == {}
    assert jar.host_only_cookies == frozenset()
    jar.clear()
    jar.clear(lambda morsel: True)
    jar.clear_domain("h.test")
    assert isinstance(jar, AbstractCookieJar)


def test_abstract_cookie_jar_cannot_be_instantiated() -> None:
    with pytest.raises(TypeError):
        AbstractCookieJar()  # type: ignore[abstract]


_EMPTY = URL()


class _RecordingJar(AbstractCookieJar):
    def __init__(self) -> None:
        self.calls: list[tuple[list[tuple[str, str]], URL]] = []

    @property
    def quote_cookie(self) -> bool:
        return False

    def clear(self, predicate: ClearCookiePredicate | None = None) -> None:
        self.calls.clear()

    def clear_domain(self, domain: str) -> None:
        self.calls.clear()

    def update_cookies(self, cookies: LooseCookies, response_url: URL = _EMPTY) -> None:
        assert isinstance(cookies, Sequence)
        pairs = [(name, morsel.value) for name, morsel in cookies if isinstance(morsel, Morsel)]
        self.calls.append((pairs, response_url))

    def filter_cookies(self, request_url: URL) -> BaseCookie[str]:
        return BaseCookie()

    def __len__(self) -> int:
        return len(self.calls)

    def __iter__(self) -> Iterator[Morsel[str]]:
        return iter(())


def test_update_cookies_from_headers_of_a_custom_jar() -> None:
    jar = _RecordingJar()
    url = URL("http://h.test/")
    jar.update_cookies_from_headers([], url)
    jar.update_cookies_from_headers(["garbage"], url)
    assert jar.calls == []
    jar.update_cookies_from_headers(["a=1; Path=/", "b=2"], url)
    assert jar.calls == [([("a", "1"), ("b", "2")], url)]


def _morsel(
    name: str, value: str, *, coded_value: str | None = None, **attributes: object
) -> Morsel[str]:
    morsel: Morsel[str] = Morsel()
    morsel.set(name, value, value if coded_value is None else coded_value)
    for key, item in attributes.items():
        morsel[key] = item
    return morsel


@pytest.mark.parametrize("digits", [20, 309, 4000])
def test_huge_max_age_is_capped_not_a_crash(clock: FakeClock, digits: int) -> None:
    """A hostile Max-Age of hundreds of digits once overflowed the float expiry time."""
    jar = CookieJar()
    jar.update_cookies(SimpleCookie(f"k=v; Max-Age={'9' * digits}"), URL("http://example.com/"))
    assert "k" in jar.filter_cookies(URL("http://example.com/"))
