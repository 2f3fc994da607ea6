"""MultipartWriter: framing, sizes, codings, form-data rules, interop and forwarding."""

from __future__ import annotations

import asyncio
import base64
import email.parser
import email.policy
import gzip
import io
import re
import zlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from aioloom.http.aio._payload import (
    READ_SIZE,
    AsyncIterablePayload,
    BytesPayload,
    StringPayload,
    get_payload,
)
from aioloom.http.aio._streams import StreamReader
from aioloom.multipart._writer import BodyPartReaderPayload, MultipartWriter
from aioloom.multipart.aio import BodyPartReader, MultipartReader

StreamFactory = Callable[..., StreamReader]


async def written(payload: Any, writer: Any) -> bytes:
    await payload.write(writer)
    return bytes(writer.data)


def parse_with_email(writer: MultipartWriter, data: bytes) -> Any:
    head = f"Content-Type: {writer.content_type}\r\n\r\n".encode()
    return email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + data)


# -- boundary and content type ----------------------------------------------------------


def test_default_boundary_and_content_type() -> None:
    writer = MultipartWriter()
    assert re.fullmatch("[0-9a-f]{32}", writer.boundary)
    assert writer.content_type == f"multipart/mixed; boundary={writer.boundary}"
    assert writer.headers["Content-Type"] == writer.content_type
    assert MultipartWriter().boundary != writer.boundary


@pytest.mark.parametrize(
    ("boundary", "value"),
    [("simple-boundary_1.x", "simple-boundary_1.x"), ("a b:c", '"a b:c"'), ("(=?)", '"(=?)"')],
)
def test_boundary_quoting(boundary: str, value: str) -> None:
    writer = MultipartWriter("form-data", boundary=boundary)
    assert writer.content_type == f"multipart/form-data; boundary={value}"
    assert writer.boundary == boundary


@pytest.mark.parametrize(
    "boundary", ["", "x" * 71, "trailing ", "caf\u00e9", 'quote"', "back\\slash", "a\r\nb", "tab\t"]
)
def test_invalid_boundaries(boundary: str) -> None:
    with pytest.raises(ValueError, match="RFC 2046"):
        MultipartWriter(boundary=boundary)


@pytest.mark.parametrize("subtype", ["", "form data", "mixed\r\nX-Injected: 1", "a;b"])
def test_invalid_subtype(subtype: str) -> None:
    with pytest.raises(ValueError, match="subtype"):
        MultipartWriter(subtype)


def test_container_protocol() -> None:
    with MultipartWriter() as writer:
        assert bool(writer)
        assert len(writer) == 0
        part = writer.append("x")
    assert len(writer) == 1
    assert list(writer) == [(part, None, None)]


# -- framing and sizes ------------------------------------------------------------------


async def test_body_framing(writer: Any) -> None:
    mp = MultipartWriter("mixed", boundary="b")
    mp.append("hello")
    mp.append(b"\x00\x01", {"X-Custom": "1"})
    data = await written(mp, writer)
    assert data == (
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 5\r\n\r\nhello\r\n"
        b"--b\r\nContent-Type: application/octet-stream\r\nX-Custom: 1\r\nContent-Length: 2\r\n"
        b"\r\n\x00\x01\r\n--b--\r\n"
    )
    assert mp.size == len(data)
    assert await mp.as_bytes() == data
    assert mp.decode("latin-1") == data.decode("latin-1")


async def test_empty_writer(writer: Any) -> None:
    mp = MultipartWriter(boundary="b")
    assert await written(mp, writer) == b"--b--\r\n"
    assert mp.size == 7


async def test_close_boundary_false(writer: Any) -> None:
    mp = MultipartWriter(boundary="b")
    mp.append("x")
    await mp.write(writer, close_boundary=False)
    assert writer.data.endswith(b"\r\n\r\nx\r\n")
    assert b"--b--" not in writer.data


async def test_nested_writers_and_size(writer: Any, make_stream: StreamFactory) -> None:
    inner = MultipartWriter("alternative", boundary="inner")
    inner.append("plain")
    inner.append("<p>html</p>", {"Content-Type": "text/html"})
    outer = MultipartWriter("mixed", boundary="outer")
    outer.append_json({"k": "v"})
    outer.append(inner)
    outer.append(io.BytesIO(b"file body"))
    data = await written(outer, writer)
    assert outer.size == len(data)
    reader = MultipartReader({"Content-Type": outer.content_type}, make_stream(data))
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert await first.json() == {"k": "v"}
    nested = await reader.next()
    assert isinstance(nested, MultipartReader)
    assert [await p.text() async for p in nested if isinstance(p, BodyPartReader)] == [
        "plain",
        "<p>html</p>",
    ]
    last = await reader.next()
    assert isinstance(last, BodyPartReader)
    assert await last.read() == b"file body"


async def test_size_is_unknown_for_streams_and_encodings() -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"x"

    streamed = MultipartWriter()
    streamed.append(AsyncIterablePayload(chunks()))
    assert streamed.size is None
    encoded = MultipartWriter()
    encoded.append(b"x", {"Content-Encoding": "gzip"})
    assert encoded.size is None
    assert "Content-Length" not in list(encoded)[0][0].headers


async def test_file_parts_stream_in_chunks(writer: Any, tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    content = bytes(range(256)) * (3 * READ_SIZE // 256 + 100)  # 3 reads and a bit
    path.write_bytes(content)
    mp = MultipartWriter(boundary="b")
    with path.open("rb") as handle:
        mp.append(handle)
        data = await written(mp, writer)
        assert mp.size == len(data)
    assert max(len(chunk) for chunk in writer.chunks) <= READ_SIZE + 200
    assert len(writer.chunks) > 4
    assert content in data


# -- codings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "decode"),
    [
        ({"Content-Encoding": "gzip"}, gzip.decompress),
        ({"Content-Encoding": "deflate"}, lambda d: zlib.decompress(d, -zlib.MAX_WBITS)),
        ({"Content-Encoding": "identity"}, lambda d: d),
        ({"Content-Transfer-Encoding": "base64"}, base64.b64decode),
        ({"Content-Transfer-Encoding": "binary"}, lambda d: d),
        (
            {"Content-Encoding": "gzip", "Content-Transfer-Encoding": "base64"},
            lambda d: gzip.decompress(base64.b64decode(d)),
        ),
    ],
)
async def test_part_codings_are_applied(
    headers: dict[str, str],
    decode: Callable[[bytes], bytes],
    writer: Any,
    make_stream: StreamFactory,
) -> None:
    content = b"coded content " * 1000
    mp = MultipartWriter(boundary="b")
    mp.append(io.BytesIO(content), headers)
    data = await written(mp, writer)
    raw = data.split(b"\r\n\r\n", 1)[1].rsplit(b"\r\n--b--", 1)[0]
    assert decode(raw) == content
    assert await mp.as_bytes() == data
    reader = MultipartReader({"Content-Type": mp.content_type}, make_stream(data))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.read(decode=True) == content


@pytest.mark.parametrize(
    "headers",
    [{"Content-Encoding": "br"}, {"Content-Transfer-Encoding": "uuencode"}],
)
def test_unknown_part_codings(headers: dict[str, str]) -> None:
    with pytest.raises(RuntimeError, match="unknown content"):
        MultipartWriter().append("x", headers)


# -- form-data --------------------------------------------------------------------------


async def test_form_data_parts(writer: Any) -> None:
    mp = MultipartWriter("form-data", boundary="b")
    mp.append("v")
    named = StringPayload("w")
    named.set_content_disposition("form-data", name="field")
    mp.append_payload(named)
    data = await written(mp, writer)
    assert b'Content-Disposition: form-data; name="section-0"' in data
    assert b'Content-Disposition: form-data; name="field"' in data
    assert b"Content-Length" not in data
    assert mp.size == len(data)


@pytest.mark.parametrize("name", ["Content-Encoding", "Content-Length"])
def test_form_data_rejects_forbidden_headers(name: str) -> None:
    # RFC 7578 §4.8
    with pytest.raises(ValueError, match=name):
        MultipartWriter("form-data").append("x", {name: "gzip"})


async def test_form_data_allows_content_transfer_encoding(writer: Any) -> None:
    mp = MultipartWriter("form-data", boundary="b")
    mp.append(b"\xff\xfe", {"Content-Transfer-Encoding": "base64"})
    assert b"\r\n\r\n//4=\r\n" in await written(mp, writer)


async def test_form_data_part_without_name_fails_on_write(writer: Any) -> None:
    mp = MultipartWriter("form-data", boundary="b")
    part = mp.append("x")
    part.headers["Content-Disposition"] = "attachment"
    with pytest.raises(ValueError, match="RFC 7578"):
        await mp.write(writer)


# -- header injection -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"X-A": "v\r\nX-Injected: 1"},
        {"X-A": "v\nX"},
        {"X-A": "nul\x00"},
        {"X-A": "escape\x1b"},
        {"Bad Name": "v"},
    ],
)
def test_header_injection_is_refused(headers: dict[str, str]) -> None:
    with pytest.raises(ValueError, match="part header"):
        MultipartWriter().append("x", headers)


async def test_header_injection_after_append_fails_on_write(writer: Any) -> None:
    mp = MultipartWriter()
    part = mp.append("x")
    part.headers["X-Late"] = "a\r\nInjected: yes"
    with pytest.raises(ValueError, match="CR, LF"):
        await mp.write(writer)


def test_append_rejects_unknown_values() -> None:
    with pytest.raises(TypeError, match="Cannot create payload"):
        MultipartWriter().append(object())


# -- helpers for JSON and forms ---------------------------------------------------------


async def test_append_json_and_form(writer: Any) -> None:
    mp = MultipartWriter(boundary="b")
    mp.append_json({"ä": 1}, {"X-Kind": "json"})
    mp.append_form({"a": "1", "b": "é"})
    mp.append_form([("x", "1"), ("x", "2")])
    data = await written(mp, writer)
    assert b"Content-Type: application/json\r\nX-Kind: json" in data
    assert b'{"\\u00e4": 1}' in data
    assert b"a=1&b=%C3%A9" in data
    assert b"x=1&x=2" in data
    assert data.count(b"Content-Type: application/x-www-form-urlencoded") == 2


def test_append_json_rejects_unserializable_values() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        MultipartWriter().append_json({"x": object()})


@pytest.mark.parametrize("value", ["a=1", 42, b"a=1"])
def test_append_form_rejects_non_pairs(value: Any) -> None:
    with pytest.raises(TypeError, match="append_form"):
        MultipartWriter().append_form(value)


# -- interop with the standard library --------------------------------------------------


async def test_body_parsed_by_the_email_package(writer: Any) -> None:
    mp = MultipartWriter("mixed", boundary="==aioloom:test==")
    mp.append("Grüße")
    mp.append_json([1, 2])
    binary = bytes(range(256))
    attachment = mp.append(binary, {"Content-Transfer-Encoding": "base64"})
    attachment.set_content_disposition("attachment", filename="data.bin")
    qp = mp.append("line=one\r\n" * 3, {"Content-Transfer-Encoding": "quoted-printable"})
    inner = MultipartWriter("alternative")
    inner.append("plain")
    mp.append(inner)
    message = parse_with_email(mp, await written(mp, writer))
    assert message.defects == []
    parts = list(message.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain",
        "application/json",
        "application/octet-stream",
        "text/plain",
        "multipart/alternative",
    ]
    assert parts[0].get_content() == "Grüße"
    assert parts[1].get_payload(decode=True) == b"[1, 2]"
    assert parts[2].get_payload(decode=True) == binary
    assert parts[2].get_filename() == "data.bin"
    assert parts[3].get_payload(decode=True) == b"line=one\r\n" * 3
    assert qp.headers["Content-Transfer-Encoding"] == "quoted-printable"
    assert [p.get_content() for p in parts[4].iter_parts()] == ["plain"]
    assert all(p.defects == [] for p in parts)


# -- resources --------------------------------------------------------------------------


async def test_close_closes_file_parts(tmp_path: Path) -> None:
    path = tmp_path / "f.txt"
    path.write_bytes(b"data")
    handle = path.open("rb")
    mp = MultipartWriter()
    mp.append("in memory")
    mp.append(handle)
    assert not mp.autoclose
    await mp.close()
    for _ in range(100):  # the file is closed in the executor
        if handle.closed:
            break
        await asyncio.sleep(0.01)
    assert handle.closed
    assert mp.consumed
    await mp.close()  # idempotent


async def test_close_logs_a_failing_part(caplog: pytest.LogCaptureFixture) -> None:
    class Failing(BytesPayload):
        _autoclose = False

        async def close(self) -> None:
            raise OSError("cannot close")

    mp = MultipartWriter()
    mp.append_payload(Failing(b"x"))
    with caplog.at_level("ERROR", logger="aioloom.multipart"):
        await mp.close()
    assert "Failed to close multipart part 0" in caplog.text


# -- forwarding a received part ---------------------------------------------------------


async def test_body_part_reader_payload(writer: Any, make_stream: StreamFactory) -> None:
    source = (
        b'--b\r\nContent-Disposition: form-data; name="up"; filename="a.txt"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"hello world")
        + b"\r\n--b--"
    )
    reader = MultipartReader(
        {"Content-Type": "multipart/form-data; boundary=b"}, make_stream(source)
    )
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    payload = get_payload(part)
    assert isinstance(payload, BodyPartReaderPayload)
    assert payload.headers["Content-Disposition"] == 'attachment; name="up"; filename="a.txt"'
    with pytest.raises(TypeError):
        payload.decode()
    with pytest.raises(TypeError):
        await payload.as_bytes()
    forward = MultipartWriter(boundary="fwd")
    forward.append_payload(payload)
    assert forward.size is None
    data = await written(forward, writer)
    assert b"\r\n\r\nhello world\r\n--fwd--\r\n" in data
    assert payload.consumed
