"""ClientRequest as a pure model: validation before anything is sent, header and body
preparation, framing decisions, request target forms, and the head refusing injection."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from http.cookies import Morsel, SimpleCookie

import pytest
from multidict import CIMultiDict
from yarl import URL

from aioloom.client._exceptions import InvalidUrlClientError, NonHttpUrlClientError
from aioloom.client._fingerprint import Fingerprint
from aioloom.client._request import USER_AGENT, ClientRequest, prepare_data
from aioloom.client._session import ClientSession
from aioloom.http._auth import BasicAuth
from aioloom.http._messages import HttpVersion, HttpVersion10
from aioloom.http.aio._payload import BytesPayload, JsonPayload

U = URL("http://example.com:8080/path?a=1")


def make(method: str = "GET", url: URL = U, **kwargs) -> ClientRequest:
    return ClientRequest(method, url, **kwargs)


# -- validation ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET ", "G\r\nET", "", "GE(T", "GET\x00", "ü"])
def test_method_must_be_a_token(method: str) -> None:
    with pytest.raises(ValueError, match="non-token"):
        make(method)


def test_method_is_upper_cased() -> None:
    assert make("patch").method == "PATCH"
    assert make("X-CUSTOM").method == "X-CUSTOM"


@pytest.mark.parametrize("version", [HttpVersion(2, 0), HttpVersion(0, 9), HttpVersion(1, 2)])
def test_only_http_10_and_11(version: HttpVersion) -> None:
    with pytest.raises(ValueError, match="Unsupported HTTP version"):
        make(version=version)


@pytest.mark.parametrize(
    "url", [URL("http://h/a\x00b", encoded=True), URL("http://h/?q=\x00", encoded=True)]
)
def test_url_with_nul_is_refused(url: URL) -> None:
    with pytest.raises(InvalidUrlClientError, match="CR, LF or NUL"):
        make(url=url)


@pytest.mark.parametrize(
    "raw", ["http://h/a\r\nX-Injected: 1", "http://h/a\nb", "http://h/?q=\r\nX: y"]
)
def test_url_cr_lf_never_reach_the_request_line(raw: str) -> None:
    # yarl drops CR and LF from URLs (WHATWG URL §4.4); either way none reaches the wire.
    line = make(url=URL(raw, encoded=True)).status_line()
    assert "\r" not in line and "\n" not in line


def test_url_must_be_absolute_http() -> None:
    with pytest.raises(InvalidUrlClientError):
        make(url=URL("/relative"))
    with pytest.raises(NonHttpUrlClientError):
        make(url=URL("ftp://h/"))
    with pytest.raises(InvalidUrlClientError):
        make(url="http://h/")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("headers", "detail"),
    [
        ({"X-Bad": "a\r\nInjected: 1"}, "Newline or carriage return"),
        ({"X-Bad": "a\nb"}, "Newline or carriage return"),
        ({"X-Bad": "a\x00b"}, "NUL"),
        ({"Bad Name": "v"}, "not a token"),
    ],
)
async def test_bad_header_is_refused_before_anything_is_sent(
    serve, headers: dict[str, str], detail: str
) -> None:
    received: list[bytes] = []

    async def handler(conn) -> None:
        received.append(await conn.reader.read())

    async with serve(handler) as srv:
        async with ClientSession() as session:
            with pytest.raises(ValueError, match=detail):
                await session.get(srv.url(), headers=headers)
        await asyncio.sleep(0.05)
    assert received == [b""]  # the connection saw not a single byte


# -- headers ---------------------------------------------------------------------------------


def test_default_headers_and_host() -> None:
    req = make()
    assert req.headers["Host"] == "example.com:8080"
    assert req.headers["Accept"] == "*/*"
    assert "gzip" in req.headers["Accept-Encoding"]
    assert req.headers["User-Agent"] == USER_AGENT
    assert list(req.headers)[0] == "Host"
    assert make(url=URL("https://example.com/")).headers["Host"] == "example.com"
    assert make(url=URL("http://[::1]:81/")).headers["Host"] == "[::1]:81"


def test_skip_auto_headers_and_given_headers() -> None:
    req = make(skip_auto_headers=["accept", "HOST"], headers={"User-Agent": "me"})
    assert "Accept" not in req.headers
    assert "Host" not in req.headers
    assert req.headers["User-Agent"] == "me"
    assert req.skip_auto_headers == {"accept", "HOST"}


def test_headers_from_pairs_keep_duplicates() -> None:
    req = make(headers=[("X-A", "1"), ("X-A", "2")])
    assert req.headers.getall("X-A") == ["1", "2"]


def test_cookies_become_one_field() -> None:
    morsel: Morsel[str] = Morsel()
    morsel.set("m", "raw", '"quoted"')
    req = make(cookies={"a": "1", "m": morsel}, headers={"Cookie": "pre=0"})
    assert req.headers["Cookie"] == 'pre=0; a=1; m="quoted"'
    jar = SimpleCookie()
    jar["j"] = "v"
    assert make(cookies=jar).headers["Cookie"] == "j=v"


def test_auth_from_argument_and_url() -> None:
    req = make(auth=BasicAuth("u", "p"))
    assert req.headers["Authorization"] == "Basic dTpw"
    from_url = make(url=URL("http://u:p@h/"))
    assert from_url.headers["Authorization"] == "Basic dTpw"
    assert from_url.url == URL("http://h/")  # the credentials are not sent in the URL
    with pytest.raises(ValueError, match="credentials encoded in URL"):
        make(url=URL("http://u:p@h/"), auth=BasicAuth("x"))
    with pytest.raises(TypeError, match="BasicAuth"):
        make(auth=("u", "p"))  # type: ignore[arg-type]


# -- body and framing --------------------------------------------------------------------------


def test_no_body_content_length_rules() -> None:
    assert "Content-Length" not in make("GET").headers
    assert "Content-Length" not in make("HEAD").headers
    assert make("POST").headers["Content-Length"] == "0"
    assert make("PUT").headers["Content-Length"] == "0"
    assert make("DELETE").headers["Content-Length"] == "0"
    assert make("POST").body == b""


def test_bytes_body() -> None:
    req = make("POST", data=b"12345")
    assert req.headers["Content-Length"] == "5"
    assert req.headers["Content-Type"] == "application/octet-stream"
    assert not req.chunked
    assert isinstance(req.body, BytesPayload)


def test_content_type_given_or_skipped() -> None:
    assert make("POST", data=b"x", headers={"Content-Type": "a/b"}).headers["Content-Type"] == "a/b"
    assert "Content-Type" not in make("POST", data=b"x", skip_auto_headers=["Content-Type"]).headers


def test_unknown_size_body_is_chunked() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"x"

    req = make("POST", data=gen())
    assert req.chunked
    assert req.headers["Transfer-Encoding"] == "chunked"
    assert "Content-Length" not in req.headers
    with pytest.raises(ValueError, match="HTTP/1.1"):
        make("POST", data=gen(), version=HttpVersion10)


def test_explicit_chunked_and_conflicts() -> None:
    req = make("POST", data=b"abc", chunked=True)
    assert req.chunked and "Content-Length" not in req.headers
    with pytest.raises(ValueError, match="Content-Length header is set"):
        make("POST", data=b"abc", chunked=True, headers={"Content-Length": "3"})
    with pytest.raises(ValueError, match="Transfer-Encoding: chunked"):
        make("POST", data=b"abc", chunked=True, headers={"Transfer-Encoding": "chunked"})
    te = make("POST", data=b"abc", headers={"Transfer-Encoding": "chunked"})
    assert te.chunked


def test_compress_implies_chunked() -> None:
    req = make("POST", data=b"abc", compress=True)
    assert req.compress == "deflate"
    assert req.chunked
    assert req.headers["Content-Encoding"] == "deflate"
    assert make("POST", data=b"abc", compress="gzip").compress == "gzip"
    assert make("POST", compress=True).compress is None  # nothing to compress


def test_expect100() -> None:
    assert make("POST", data=b"x", expect100=True).headers["Expect"] == "100-continue"
    assert make("POST", data=b"x", headers={"Expect": "100-Continue"}).expect100
    assert not make("POST", data=b"x").expect100


async def test_update_body_recomputes_framing() -> None:
    req = make("POST", data=b"first body")
    assert req.headers["Content-Length"] == "10"
    await req.update_body(b"second")
    assert req.headers["Content-Length"] == "6"
    req.body = None
    assert req.headers["Content-Length"] == "0"
    assert req.payload is None


def test_body_reusable() -> None:
    assert make("POST", data=b"x").body_reusable()
    assert make("POST").body_reusable()


@pytest.mark.parametrize(
    ("data", "ctype"),
    [
        (b"x", "application/octet-stream"),
        (bytearray(b"x"), "application/octet-stream"),
        ("text", "text/plain; charset=utf-8"),
        ({"a": "b"}, "application/x-www-form-urlencoded"),
        (io.BytesIO(b"x"), "application/octet-stream"),
        (JsonPayload({"a": 1}), "application/json"),
    ],
)
def test_prepare_data(data: object, ctype: str) -> None:
    assert prepare_data(data).content_type == ctype


def test_prepare_data_refuses_unknown_types() -> None:
    with pytest.raises(TypeError, match="cannot be sent"):
        prepare_data(object())


# -- targets, keys, proxies --------------------------------------------------------------------


def test_request_targets() -> None:
    assert make().request_target() == "/path?a=1"
    assert make(url=URL("http://h")).request_target() == "/"
    assert make().status_line() == "GET /path?a=1 HTTP/1.1"
    assert make(version=HttpVersion10).status_line() == "GET /path?a=1 HTTP/1.0"
    proxied = make(proxy=URL("http://proxy:3128"))
    assert proxied.request_target() == "http://example.com:8080/path?a=1"  # RFC 9112 §3.2.2
    tunnelled = make(url=URL("https://h/p"), proxy=URL("http://proxy:3128"))
    assert tunnelled.request_target() == "/p"
    assert make("CONNECT", url=URL("https://h/")).request_target() == "h:443"


def test_params_and_fragment() -> None:
    req = make(url=URL("http://h/p?x=1#frag"), params={"y": "2"})
    assert req.url == URL("http://h/p?x=1&y=2")
    assert req.original_url.fragment == "frag"
    assert req.request_info.real_url.fragment == "frag"
    assert req.request_info.method == "GET"
    assert req.request_info.headers["Host"] == "h"


def test_connection_key() -> None:
    fp = Fingerprint(b"\0" * 32)
    req = make(url=URL("https://h:9443/"), ssl=fp)
    key = req.connection_key
    assert (key.host, key.port, key.is_ssl, key.ssl, key.proxy) == ("h", 9443, True, fp, None)
    proxied = make(proxy=URL("http://p:1"), proxy_auth=BasicAuth("a"), proxy_headers={"X-P": "1"})
    pkey = proxied.connection_key
    assert pkey.proxy == URL("http://p:1")
    assert pkey.proxy_auth == BasicAuth("a")
    assert pkey.proxy_headers_hash == hash((("X-P", "1"),))
    assert proxied.headers["Proxy-Authorization"] == BasicAuth("a").encode()
    assert proxied.headers["X-P"] == "1"
    tls_proxied = make(url=URL("https://h/"), proxy=URL("http://p:1"), proxy_auth=BasicAuth("a"))
    assert "Proxy-Authorization" not in tls_proxied.headers  # it goes on CONNECT only


def test_is_ssl_host_port_repr() -> None:
    assert make(url=URL("https://h/")).is_ssl()
    assert not make().is_ssl()
    assert make().host == "example.com"
    assert make().port == 8080
    assert make(url=URL("https://h/")).port == 443
    assert repr(make()) == "<ClientRequest(GET http://example.com:8080/path?a=1)>"


def test_headers_are_a_multidict() -> None:
    req = make(headers=CIMultiDict([("X", "1")]))
    req.headers["x"] = "2"
    assert req.headers["X"] == "2"


def test_the_checked_url_and_method_caches_stay_bounded_and_never_admit_bad_input() -> None:
    from aioloom.client import _request

    for n in range(_request._CHECKED_MAX + 50):
        ClientRequest("GET", URL(f"http://h{n}.example/"))
    assert len(_request._CHECKED_URLS) <= _request._CHECKED_MAX
    assert URL(f"http://h{_request._CHECKED_MAX + 49}.example/") in _request._CHECKED_URLS
    for _ in range(2):  # a refused URL is never cached as checked
        with pytest.raises(InvalidUrlClientError):
            ClientRequest("GET", URL("/relative"))
        with pytest.raises(NonHttpUrlClientError):
            ClientRequest("GET", URL("ftp://example.com/"))
    with pytest.raises(ValueError):
        ClientRequest("GE T", URL("http://example.com/"))
    assert ClientRequest("get", URL("http://example.com/")).method == "GET"
    assert ClientRequest("get", URL("http://example.com/")).method == "GET"  # from the cache
