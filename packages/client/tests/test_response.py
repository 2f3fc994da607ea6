"""ClientResponse: head accessors, body reading and decoding, JSON, links, cookies,
release and close semantics."""

from __future__ import annotations

import json

import pytest
from multidict import CIMultiDictProxy
from yarl import URL

from aioloom.client._exceptions import ClientConnectionError, ContentTypeError
from aioloom.client._response import ClientResponse, parse_links
from aioloom.client._session import ClientSession


def reply(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", *headers]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


async def fetch(serve, handler_for, data: bytes, **kwargs):
    """Serve ``data``, fetch it, read the body; return the response."""
    async with serve(handler_for(lambda r: data)) as srv, ClientSession(**kwargs) as session:
        async with session.get(srv.url("/doc")) as resp:
            await resp.read()
        return resp


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        ("text/plain; charset=utf-8", "héllo".encode(), "héllo"),
        ("text/plain; charset=ISO-8859-1", "héllo".encode("latin-1"), "héllo"),
        ('text/plain; charset="windows-1252"', "€".encode("cp1252"), "€"),
        ("application/json", '{"é": 1}'.encode(), '{"é": 1}'),
        ("text/plain", b"plain", "plain"),
    ],
)
async def test_text_uses_charset_then_fallback(
    serve, handler_for, content_type: str, body: bytes, text: str
) -> None:
    resp = await fetch(serve, handler_for, reply(body, f"Content-Type: {content_type}"))
    assert await resp.text() == text


async def test_fallback_charset_resolver_and_bad_charset(serve, handler_for) -> None:
    resolved = []

    def resolver(response: ClientResponse, body: bytes) -> str:
        resolved.append(body)
        return "latin-1"

    data = reply("é".encode("latin-1"), "Content-Type: text/plain; charset=no-such-codec")
    resp = await fetch(serve, handler_for, data, fallback_charset_resolver=resolver)
    assert await resp.text() == "é"
    assert resolved == ["é".encode("latin-1")]
    assert resp.get_encoding() == "latin-1"


async def test_text_with_explicit_encoding_and_errors(serve, handler_for) -> None:
    resp = await fetch(serve, handler_for, reply(b"\xff\xfeA"))
    assert await resp.text(encoding="utf-8", errors="replace") == "\ufffd\ufffdA"
    with pytest.raises(UnicodeDecodeError):
        await resp.text(encoding="utf-8")


async def test_get_encoding_before_read(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: reply(b"x"))) as srv, ClientSession() as session:
        async with session.get(srv.url()) as resp:
            with pytest.raises(RuntimeError, match="not yet read"):
                resp.get_encoding()
            await resp.read()
            assert resp.get_encoding() == "utf-8"


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "application/problem+json"],
)
async def test_json(serve, handler_for, content_type: str) -> None:
    resp = await fetch(serve, handler_for, reply(b'{"a": [1]}', f"Content-Type: {content_type}"))
    assert await resp.json() == {"a": [1]}


async def test_json_checks_the_content_type(serve, handler_for) -> None:
    resp = await fetch(serve, handler_for, reply(b'{"a": 1}', "Content-Type: text/html"))
    with pytest.raises(ContentTypeError) as info:
        await resp.json()
    assert info.value.status == 200
    assert "unexpected mimetype: text/html" in info.value.message
    assert await resp.json(content_type=None) == {"a": 1}
    assert await resp.json(content_type="text/html") == {"a": 1}
    assert await resp.json(content_type=None, loads=lambda s: s.upper()) == '{"A": 1}'


async def test_json_of_an_empty_body_is_none(serve, handler_for) -> None:
    resp = await fetch(serve, handler_for, reply(b"  ", "Content-Type: application/json"))
    assert await resp.json() is None


async def test_json_with_invalid_json_raises(serve, handler_for) -> None:
    resp = await fetch(serve, handler_for, reply(b"{oops", "Content-Type: application/json"))
    with pytest.raises(json.JSONDecodeError):
        await resp.json()


async def test_head_accessors(serve, handler_for) -> None:
    data = reply(
        b"body",
        "Content-Type: Text/HTML; charset=UTF-8",
        "X-Multi: 1",
        "X-Multi: 2",
        'Content-Disposition: attachment; filename="report.pdf"',
        status="201 Created",
    )
    resp = await fetch(serve, handler_for, data)
    assert resp.status == 201
    assert resp.reason == "Created"
    assert resp.ok
    assert resp.method == "GET"
    assert resp.content_type == "text/html"
    assert resp.charset == "UTF-8"
    assert resp.content_length == 4
    assert isinstance(resp.headers, CIMultiDictProxy)
    assert resp.headers.getall("x-multi") == ["1", "2"]
    assert (b"X-Multi", b"2") in resp.raw_headers
    disposition = resp.content_disposition
    assert disposition is not None
    assert disposition.type == "attachment"
    assert disposition.filename == "report.pdf"
    assert resp.request_info.url.path == "/doc"


async def test_missing_content_type_defaults(serve, handler_for) -> None:
    resp = await fetch(serve, handler_for, reply(b""))
    assert resp.content_type == "application/octet-stream"
    assert resp.charset is None
    assert resp.content_disposition is None


async def test_status_not_ok(serve, handler_for) -> None:
    resp = await fetch(serve, handler_for, reply(b"", status="404 Not Found"))
    assert not resp.ok
    assert resp.status == 404


async def test_response_cookies(serve, handler_for) -> None:
    data = reply(
        b"",
        "Set-Cookie: a=1; Path=/; HttpOnly",
        'Set-Cookie: b="quoted"; Max-Age=10',
        "Set-Cookie: invalid-no-equals",
    )
    resp = await fetch(serve, handler_for, data)
    assert set(resp.cookies) == {"a", "b"}
    assert resp.cookies["a"]["httponly"] is True
    assert resp.cookies["b"].value == "quoted"
    assert resp.cookies["b"]["max-age"] == "10"


async def test_links(serve, handler_for) -> None:
    data = reply(
        b"",
        'Link: <https://example.com/page2>; rel="next", </page0>; rel=prev; title="Back, one"',
        "Link: <other>",
    )
    resp = await fetch(serve, handler_for, data)
    links = resp.links
    assert links["next"]["url"] == URL("https://example.com/page2")
    assert links["prev"]["url"] == resp.url.join(URL("/page0"))
    assert links["prev"]["title"] == "Back, one"
    assert links["other"]["url"] == resp.url.join(URL("other"))


def test_parse_links_edge_cases() -> None:
    base = URL("http://h/dir/")
    assert len(parse_links("", base)) == 0
    links = parse_links('<a>; rel="x"; rel=y , <b>;rel=z', base)
    assert links["x"]["url"] == URL("http://h/dir/a")
    assert links["z"]["url"] == URL("http://h/dir/b")


async def test_content_is_a_stream_of_lines(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: reply(b"one\ntwo\nthree"))) as srv:
        async with ClientSession() as session, session.get(srv.url()) as resp:
            lines = [line async for line in resp.content]
    assert lines == [b"one\n", b"two\n", b"three"]


async def test_close_drops_the_connection(serve) -> None:
    async def partial(conn) -> None:
        while await conn.read_request() is not None:
            conn.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 10)
            if conn.index > 1:
                conn.write(b"x" * 90)
            await conn.writer.drain()

    async with serve(partial) as srv:
        async with ClientSession() as session:
            resp = await session.get(srv.url())
            resp.close()
            assert resp.closed
            assert resp.connection is None
            with pytest.raises(ClientConnectionError):
                await resp.read()
            resp.close()  # idempotent
            async with session.get(srv.url()) as again:
                await again.read()
    assert srv.connections == 2


async def test_raise_for_status_outside_context_releases(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: reply(b"err", status="500 Boom"))) as srv:
        async with ClientSession() as session:
            resp = await session.get(srv.url())
            with pytest.raises(Exception) as info:
                resp.raise_for_status()
            assert info.value.status == 500  # type: ignore[attr-defined]
            assert info.value.message == "Boom"  # type: ignore[attr-defined]
            assert resp.closed


async def test_wait_for_close_and_history(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: reply(b"ok"))) as srv, ClientSession() as session:
        resp = await session.post(srv.url(), data=b"payload")
        await resp.wait_for_close()
        assert resp.closed
        assert resp.history == ()


async def test_release_is_awaitable_for_old_code(serve, handler_for) -> None:
    async with serve(handler_for(lambda r: reply(b"ok"))) as srv, ClientSession() as session:
        resp = await session.get(srv.url())
        assert await resp.read() == b"ok"
        assert await resp.release() is None
        resp.release()  # and callable without await
