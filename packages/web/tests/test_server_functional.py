"""The low-level server end to end, against independent clients: curl and h11.

curl runs as a subprocess (skipped with a reason when it is not installed; CI installs
it); h11 drives a real socket as a second, pure-Python HTTP/1.1 client.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from typing import Any

import h11
import pytest

from aioloom.web._exceptions import HTTPNotModified, HTTPPreconditionFailed
from aioloom.web._request import BaseRequest
from aioloom.web._response import Response, StreamResponse, json_response

CURL = shutil.which("curl")
needs_curl = pytest.mark.skipif(CURL is None, reason="curl is not installed (CI installs it)")


async def curl(*args: str, stdin: bytes | None = None) -> tuple[int, bytes, bytes]:
    """Run curl; return (exit code, stdout, stderr)."""
    assert CURL is not None
    proc = await asyncio.create_subprocess_exec(
        CURL,
        "--silent",
        "--show-error",
        "--max-time",
        "10",
        *args,
        stdin=asyncio.subprocess.PIPE if stdin is not None else None,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate(stdin)
    assert proc.returncode is not None
    return proc.returncode, out, err


async def app(request: BaseRequest) -> StreamResponse:
    """A small application over the low-level server, used by every test here."""
    path = request.path
    if path == "/hello":
        return Response(text="Hello, world")
    if path == "/echo":
        body = await request.read()
        return Response(body=body, content_type=request.content_type)
    if path == "/json":
        data = await request.json()
        return json_response({"got": data, "method": request.method})
    if path == "/form":
        form = await request.post()
        return json_response({k: [str(v) for v in form.getall(k)] for k in form})
    if path == "/cookies":
        resp = json_response(dict(request.cookies))
        resp.set_cookie("visited", "yes", httponly=True, max_age=3600)
        resp.del_cookie("gone")
        return resp
    if path == "/big":
        resp = Response(text="compress me " * 2000)
        resp.enable_compression()
        return resp
    if path == "/stream":
        stream = StreamResponse()
        stream.enable_compression()
        await stream.prepare(request)
        for i in range(5):
            await stream.write(f"line {i}\n".encode() * 200)
        await stream.write_eof()
        return stream
    if path == "/forwarded":
        return json_response([dict(f) for f in request.forwarded])
    if path == "/etag":
        if request.if_none_match and any(t.value == "v1" for t in request.if_none_match):
            raise HTTPNotModified(headers={"ETag": '"v1"'})
        if request.if_match and not any(t.value == "v1" for t in request.if_match):
            raise HTTPPreconditionFailed()
        resp = Response(text="versioned")
        resp.etag = "v1"
        return resp
    if path == "/limited":
        body = await request.clone(client_max_size=100).read()
        return Response(text=str(len(body)))
    return Response(status=404, text="no route")


@needs_curl
async def test_curl_get_and_head(serve: Any) -> None:
    async with serve(app) as (port, _):
        code, out, err = await curl(f"http://127.0.0.1:{port}/hello")
        assert code == 0, err
        assert out == b"Hello, world"
        code, out, err = await curl("-I", f"http://127.0.0.1:{port}/hello")
        assert code == 0, err
        assert out.startswith(b"HTTP/1.1 200 OK\r\n")
        assert b"Content-Length: 12\r\n" in out


@needs_curl
async def test_curl_post_json_and_form(serve: Any) -> None:
    async with serve(app) as (port, _):
        code, out, err = await curl(
            "-H", "Content-Type: application/json",
            "--data-binary", '{"a": [1, 2]}',
            f"http://127.0.0.1:{port}/json",
        )  # fmt: skip
        assert code == 0, err
        assert json.loads(out) == {"got": {"a": [1, 2]}, "method": "POST"}
        code, out, err = await curl(
            "--data-urlencode", "name=José", "--data", "x=1&x=2",
            f"http://127.0.0.1:{port}/form",
        )  # fmt: skip
        assert code == 0, err
        assert json.loads(out) == {"name": ["José"], "x": ["1", "2"]}


@needs_curl
async def test_curl_expect_continue_large_upload(serve: Any) -> None:
    body = b"0123456789" * 20000
    async with serve(app) as (port, _):
        code, out, err = await curl(
            "-H", "Expect: 100-continue", "-H", "Content-Type: application/octet-stream",
            "--data-binary", "@-", "-w", "%{http_code}",
            f"http://127.0.0.1:{port}/echo",
            stdin=body,
        )  # fmt: skip
        assert code == 0, err
        assert out == body + b"200"


@needs_curl
async def test_curl_client_max_size(serve: Any) -> None:
    async with serve(app) as (port, _):
        code, out, err = await curl(
            "--data-binary", "x" * 500, "-w", "|%{http_code}", f"http://127.0.0.1:{port}/limited"
        )
        assert code == 0, err
        assert out.endswith(b"|413")
        assert b"Maximum request body size 100 exceeded" in out


@needs_curl
@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
async def test_curl_compression_negotiation(serve: Any, coding: str) -> None:
    if coding == "br":
        pytest.importorskip("brotli", reason="brotli is an optional speedup")
    async with serve(app) as (port, _):
        for path in ("/big", "/stream"):
            code, out, err = await curl(
                "--compressed", "-H", f"Accept-Encoding: {coding}", "-D", "-",
                f"http://127.0.0.1:{port}{path}",
            )  # fmt: skip
            assert code == 0, err
            head, _, body = out.partition(b"\r\n\r\n")
            assert f"Content-Encoding: {coding}".encode() in head
            expected = (
                "compress me " * 2000
                if path == "/big"
                else "".join(f"line {i}\n" * 200 for i in range(5))
            )
            assert body.decode() == expected


@needs_curl
async def test_curl_cookies(serve: Any) -> None:
    async with serve(app) as (port, _):
        code, out, err = await curl(
            "-b", "a=1; b=two", "-D", "-", f"http://127.0.0.1:{port}/cookies"
        )
        assert code == 0, err
        head, _, body = out.partition(b"\r\n\r\n")
        assert json.loads(body) == {"a": "1", "b": "two"}
        assert b"Set-Cookie: visited=yes; HttpOnly; Max-Age=3600; Path=/\r\n" in head
        assert b'Set-Cookie: gone=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0' in head


# -- h11 as a second independent client --------------------------------------------------------


class H11Client:
    """A keep-alive HTTP/1.1 client: h11's state machine over an asyncio socket."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.conn = h11.Connection(h11.CLIENT)

    async def request(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b""
    ) -> tuple[h11.Response, bytes]:
        if self.conn.our_state is h11.DONE:
            self.conn.start_next_cycle()
        all_headers = [("Host", "localhost"), *headers]
        if body:
            all_headers.append(("Content-Length", str(len(body))))
        data = self.conn.send(h11.Request(method=method, target=target, headers=all_headers))
        if body:
            data += self.conn.send(h11.Data(data=body))
        data += self.conn.send(h11.EndOfMessage())
        self.writer.write(data)
        response: h11.Response | None = None
        content = b""
        while True:
            event = self.conn.next_event()
            if event is h11.NEED_DATA:
                self.conn.receive_data(await asyncio.wait_for(self.reader.read(65536), 5))
            elif isinstance(event, h11.Response):
                response = event
            elif isinstance(event, h11.Data):
                content += event.data
            elif isinstance(event, h11.EndOfMessage):
                assert response is not None
                return response, content


async def test_h11_keep_alive_session(serve: Any) -> None:
    async with serve(app) as (port, server):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = H11Client(reader, writer)
        resp, body = await client.request("GET", "/hello", [])
        assert resp.status_code == 200 and body == b"Hello, world"
        resp, body = await client.request(
            "POST", "/json", [("Content-Type", "application/json")], b'{"k": 1}'
        )
        assert json.loads(body) == {"got": {"k": 1}, "method": "POST"}
        resp, body = await client.request("GET", "/nowhere", [])
        assert resp.status_code == 404
        assert server.requests_count == 3 and len(server.connections) == 1
        writer.close()


async def test_h11_forwarded_and_conditional(serve: Any) -> None:
    async with serve(app) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        client = H11Client(reader, writer)
        resp, body = await client.request(
            "GET", "/forwarded", [("Forwarded", 'for="_gazonk";proto=https, for=10.0.0.1')]
        )
        assert json.loads(body) == [{"for": "_gazonk", "proto": "https"}, {"for": "10.0.0.1"}]
        resp, body = await client.request("GET", "/etag", [])
        assert resp.status_code == 200 and dict(resp.headers)[b"etag"] == b'"v1"'
        resp, body = await client.request("GET", "/etag", [("If-None-Match", 'W/"v1"')])
        assert resp.status_code == 304 and body == b""
        resp, body = await client.request("GET", "/etag", [("If-Match", '"v0"')])
        assert resp.status_code == 412
        writer.close()


async def test_h11_chunked_upload_echo(serve: Any) -> None:
    async with serve(app) as (port, _):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conn = h11.Connection(h11.CLIENT)
        data = conn.send(
            h11.Request(
                method="POST",
                target="/echo",
                headers=[("Host", "x"), ("Transfer-Encoding", "chunked")],
            )
        )
        for piece in (b"alpha-", b"beta-", b"gamma"):
            data += conn.send(h11.Data(data=piece))
        data += conn.send(h11.EndOfMessage())
        writer.write(data)
        body = b""
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(await asyncio.wait_for(reader.read(65536), 5))
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        assert body == b"alpha-beta-gamma"
        writer.close()
