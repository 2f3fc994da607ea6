"""The async reader over aioloom.http's StreamReader: parts, nesting, decoding, errors."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from aioloom.http import LineTooLong
from aioloom.http._content_disposition import BadContentDispositionHeader
from aioloom.http.aio._streams import StreamReader
from aioloom.multipart._exceptions import (
    BoundaryError,
    IncompleteMultipartError,
    MultipartError,
    MultipartFramingError,
    PartDecodeError,
    PartHeaderError,
    PartHeadersTooLarge,
    UnknownPartEncoding,
)
from aioloom.multipart.aio import BodyPartReader, MultipartReader, MultipartResponseWrapper

StreamFactory = Callable[..., StreamReader]
FORM = {"Content-Type": "multipart/form-data; boundary=b"}
MIXED = {"Content-Type": "multipart/mixed; boundary=b"}


def body(*parts: bytes, boundary: bytes = b"b", close: bytes = b"--\r\n") -> bytes:
    dash = b"--" + boundary
    return b"".join(dash + b"\r\n" + p + b"\r\n" for p in parts) + dash + close


def field(name: str, value: bytes, *headers: bytes) -> bytes:
    lines = [f'Content-Disposition: form-data; name="{name}"'.encode(), *headers]
    return b"\r\n".join(lines) + b"\r\n\r\n" + value


async def collect(reader: MultipartReader) -> list[tuple[str | None, bytes]]:
    out = []
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        out.append((part.name, bytes(await part.read())))
    return out


# -- construction -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "error"),
    [
        ({"Content-Type": "text/plain"}, MultipartError),
        ({}, MultipartError),
        ({"Content-Type": "multipart/form-data"}, BoundaryError),
        ({"Content-Type": "multipart/form-data; boundary="}, BoundaryError),
        ({"Content-Type": "multipart/mixed; boundary=" + "x" * 71}, BoundaryError),
        ({"Content-Type": 'multipart/mixed; boundary="bad\\"char\x01"'}, BoundaryError),
    ],
)
async def test_invalid_content_type(
    headers: dict[str, str], error: type[MultipartError], make_stream: StreamFactory
) -> None:
    with pytest.raises(error) as info:
        MultipartReader(headers, make_stream(b""))
    assert isinstance(info.value, ValueError)
    assert info.value.code == 400


async def test_quoted_boundary_parameter(make_stream: StreamFactory) -> None:
    headers = {"Content-Type": 'multipart/mixed; boundary="a b:c"'}
    reader = MultipartReader(headers, make_stream(body(b"\r\nx", boundary=b"a b:c")))
    assert await collect(reader) == [(None, b"x")]


# -- reading parts ----------------------------------------------------------------------


async def test_read_form_fields(make_stream: StreamFactory) -> None:
    data = body(field("a", b"1"), field("b", b"two\r\nlines"), field("c", b""))
    reader = MultipartReader(FORM, make_stream(data))
    assert await collect(reader) == [("a", b"1"), ("b", b"two\r\nlines"), ("c", b"")]
    assert reader.at_eof()
    assert await reader.next() is None
    assert await reader.next() is None


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 1000])
async def test_every_chunking_of_the_stream(size: int, make_stream: StreamFactory) -> None:
    tricky = b"\r\n-\r\n--\n--bb\r\n--\r-b" * 20
    data = body(field("a", b"x" * 300), field("b", tricky), b"\r\n")
    chunks = [data[i : i + size] for i in range(0, len(data), size)]
    reader = MultipartReader(FORM, make_stream(chunks))
    assert await collect(reader) == [("a", b"x" * 300), ("b", tricky), (None, b"")]


async def test_unread_parts_are_skipped(make_stream: StreamFactory) -> None:
    data = body(field("a", b"x" * 100_000), field("b", b"y" * 50), field("c", b"z"))
    reader = MultipartReader(FORM, make_stream(data))
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert await first.read_chunk(10) == b"x" * 10
    second = await reader.next()
    assert isinstance(second, BodyPartReader)
    assert second.name == "b"
    assert first.at_eof()
    third = await reader.next()
    assert isinstance(third, BodyPartReader)
    assert await third.text() == "z"
    assert await reader.next() is None


async def test_read_chunk_sizes_and_eof(make_stream: StreamFactory) -> None:
    content = bytes(range(256)) * 400
    reader = MultipartReader(FORM, make_stream(body(field("f", content))))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    chunks = []
    while not part.at_eof():
        chunk = await part.read_chunk(1000)
        assert len(chunk) <= 1000
        chunks.append(chunk)
    assert b"".join(chunks) == content
    assert await part.read_chunk() == b""
    assert await part.read() == b""
    with pytest.raises(ValueError, match="positive"):
        await part.read_chunk(0)


async def test_read_chunk_keeps_base64_groups_whole(make_stream: StreamFactory) -> None:
    content = bytes(range(256)) * 10
    encoded = base64.encodebytes(content).replace(b"\n", b"\r\n")
    part_bytes = field("f", encoded, b"Content-Transfer-Encoding: base64")
    reader = MultipartReader(FORM, make_stream(body(part_bytes)))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    decoded = []
    while chunk := await part.read_chunk(10):
        decoded.append(part.decode(chunk))
    assert b"".join(decoded) == content


async def test_base64_alignment_is_bounded_by_white_space(make_stream: StreamFactory) -> None:
    # "AAAAB" then a megabyte of white space: completing the group must neither read the
    # whole run one byte at a time nor grow the chunk without bound.
    encoded = b"QUJD" * 10 + b"R" + b" \r\n\t" * 250_000 + b"UVG"
    part_bytes = b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded
    reader = MultipartReader(MIXED, make_stream(body(part_bytes)))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    loop = asyncio.get_running_loop()
    start = loop.time()
    raw = []
    while chunk := await part.read_chunk(100):
        assert len(chunk) <= 200
        raw.append(chunk)
    assert loop.time() - start < 5
    assert b"".join(raw) == encoded
    assert part.decode(b"".join(raw)) == b"ABC" * 10 + b"EEF"
    again = MultipartReader(MIXED, make_stream(body(part_bytes)))
    whole = await again.next()
    assert isinstance(whole, BodyPartReader)
    assert await whole.read(decode=True) == b"ABC" * 10 + b"EEF"


async def test_read_chunk_never_cuts_a_quoted_printable_escape(make_stream: StreamFactory) -> None:
    encoded = b"caf=C3=A9=\r\n " * 30
    part_bytes = field("f", encoded, b"Content-Transfer-Encoding: quoted-printable")
    reader = MultipartReader(FORM, make_stream(body(part_bytes)))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    decoded = b""
    while chunk := await part.read_chunk(5):
        decoded += part.decode(chunk)
    assert decoded == "café ".encode() * 30


async def test_readline(make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(body(field("t", b"one\ntwo\r\n\r\nlast"))))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    lines = []
    while not part.at_eof():
        lines.append(await part.readline())
    assert lines == [b"one\n", b"two\r\n", b"\r\n", b"last"]
    assert await part.readline() == b""


async def test_readline_is_bounded(make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(body(field("t", b"x" * 300_000))))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    with pytest.raises(LineTooLong) as info:
        await part.readline()
    assert info.value.code == 400


async def test_body_part_async_iteration(make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(body(field("t", b"data"))))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert [chunk async for chunk in part] == [b"data"]


async def test_release_skips_everything(make_stream: StreamFactory) -> None:
    stream = make_stream(body(field("a", b"1" * 70_000), field("b", b"2")) + b"epilogue")
    reader = MultipartReader(FORM, stream)
    await reader.release()
    assert reader.at_eof()
    assert await reader.next() is None


async def test_fetch_next_part_requires_the_previous_part_read(make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(body(field("a", b"1"), field("b", b"2"))))
    assert isinstance(await reader.fetch_next_part(), BodyPartReader)
    with pytest.raises(MultipartError, match="previous part"):
        await reader.fetch_next_part()


# -- decoding ---------------------------------------------------------------------------


async def test_decoded_reads_in_mixed(make_stream: StreamFactory) -> None:
    text = "Grüße aus Köln\n" * 50
    raw = gzip.compress(text.encode("utf-8"))
    parts = (
        b"Content-Type: text/plain; charset=utf-8\r\nContent-Encoding: gzip\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(raw),
        b"Content-Type: application/json\r\n\r\n" + json.dumps({"ä": [1, 2]}).encode(),
        b"Content-Type: application/x-www-form-urlencoded\r\n\r\na=1&b=&c=%C3%A4\r\n",
        b"Content-Type: text/plain; charset=latin-1\r\n\r\n" + "é".encode("latin-1"),
    )
    reader = MultipartReader(MIXED, make_stream(body(*parts)))
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert await first.text() == text
    second = await reader.next()
    assert isinstance(second, BodyPartReader)
    assert await second.json() == {"ä": [1, 2]}
    third = await reader.next()
    assert isinstance(third, BodyPartReader)
    assert await third.form() == [("a", "1"), ("b", ""), ("c", "ä")]
    fourth = await reader.next()
    assert isinstance(fourth, BodyPartReader)
    assert await fourth.text() == "é"
    assert await reader.next() is None


async def test_raw_read_and_decode(make_stream: StreamFactory) -> None:
    raw = gzip.compress(b"payload")
    part_bytes = b"Content-Encoding: gzip\r\n\r\n" + raw
    reader = MultipartReader(MIXED, make_stream(body(part_bytes)))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    data = await part.read()
    assert data == raw
    assert part.decode(data) == b"payload"
    assert [piece async for piece in part.decode_iter(data)] == [b"payload"]


async def test_form_data_ignores_content_encoding(make_stream: StreamFactory) -> None:
    # RFC 7578 §4.8: recipients ignore header fields other than the three allowed ones.
    part_bytes = field("a", b"not gzip", b"Content-Encoding: gzip")
    reader = MultipartReader(FORM, make_stream(body(part_bytes)))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.read(decode=True) == b"not gzip"


async def test_unknown_codings(make_stream: StreamFactory) -> None:
    parts = (b"Content-Transfer-Encoding: uuencode\r\n\r\nx", b"Content-Encoding: br\r\n\r\nx")
    reader = MultipartReader(MIXED, make_stream(body(*parts)))
    async for part in reader:
        assert isinstance(part, BodyPartReader)
        with pytest.raises(UnknownPartEncoding) as info:
            await part.read(decode=True)
        assert isinstance(info.value, RuntimeError)
        with pytest.raises(UnknownPartEncoding):
            part.decode(b"x")


async def test_empty_json_and_form(make_stream: StreamFactory) -> None:
    reader = MultipartReader(MIXED, make_stream(body(b"\r\n", b"\r\n")))
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert await first.json() is None
    second = await reader.next()
    assert isinstance(second, BodyPartReader)
    assert await second.form() == []


async def test_form_with_undecodable_data(make_stream: StreamFactory) -> None:
    reader = MultipartReader(MIXED, make_stream(body(b"\r\na=\xff\xfe")))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    with pytest.raises(ValueError, match="cannot be decoded with utf-8"):
        await part.form()


async def test_default_charset_field(make_stream: StreamFactory) -> None:
    data = body(
        field("_charset_", b"iso-8859-1"),
        field("name", "Jürgen".encode("latin-1")),
        field("explicit", "ü".encode(), b"Content-Type: text/plain; charset=utf-8"),
    )
    reader = MultipartReader(FORM, make_stream(data))
    first = await reader.next()
    assert isinstance(first, BodyPartReader)
    assert first.name == "name"
    assert first.get_charset("utf-8") == "iso-8859-1"
    assert await first.text() == "Jürgen"
    second = await reader.next()
    assert isinstance(second, BodyPartReader)
    assert await second.text() == "ü"


@pytest.mark.parametrize("value", [b"x" * 32, b"no-such-charset", b"\xff"])
async def test_invalid_default_charset(value: bytes, make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(body(field("_charset_", value))))
    with pytest.raises(MultipartError, match="default charset") as info:
        await reader.next()
    assert info.value.code == 400


async def test_names_and_filenames(make_stream: StreamFactory) -> None:
    parts = (
        b"Content-Disposition: form-data; name=\"f\"; filename*=utf-8''na%C3%AFve.txt\r\n\r\n",
        b"Content-Disposition: attachment\r\n\r\n",
        b"\r\n",
    )
    reader = MultipartReader(MIXED, make_stream(body(*parts)))
    names = [(p.name, p.filename) async for p in reader if isinstance(p, BodyPartReader)]
    assert names == [("f", "naïve.txt"), (None, None), (None, None)]


# -- nesting ----------------------------------------------------------------------------


NESTED = body(
    field("a", b"outer"),
    b"Content-Type: multipart/mixed; boundary=inner\r\n\r\n"
    + body(b"\r\nfirst", b"Content-Type: text/plain\r\n\r\nsecond", boundary=b"inner")
    + b"inner epilogue",
    field("z", b"last"),
)


async def test_nested_multipart(make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(NESTED))
    outer_a = await reader.next()
    assert isinstance(outer_a, BodyPartReader)
    assert await outer_a.text() == "outer"
    nested = await reader.next()
    assert isinstance(nested, MultipartReader)
    assert nested.headers["Content-Type"] == "multipart/mixed; boundary=inner"
    assert [data for _, data in await collect(nested)] == [b"first", b"second"]
    assert nested.at_eof()
    last = await reader.next()
    assert isinstance(last, BodyPartReader)
    assert await last.text() == "last"
    assert await reader.next() is None


async def test_unread_nested_multipart_is_skipped(make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(NESTED))
    names = []
    async for part in reader:
        names.append(type(part).__name__)
    assert names == ["BodyPartReader", "MultipartReader", "BodyPartReader"]
    assert reader.at_eof()


async def test_unread_malformed_nested_body_is_skipped(make_stream: StreamFactory) -> None:
    data = body(
        b"Content-Type: multipart/mixed; boundary=inner\r\n\r\n--inner\r\nbroken\r\n",
        field("z", b"last"),
    )
    reader = MultipartReader(FORM, make_stream(data))
    nested = await reader.next()
    assert isinstance(nested, MultipartReader)
    last = await reader.next()
    assert isinstance(last, BodyPartReader)
    assert await last.text() == "last"
    assert nested.at_eof()
    assert await nested.next() is None  # skipped, as if released


async def test_nested_reader_release(make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(NESTED))
    await reader.next()
    nested = await reader.next()
    assert isinstance(nested, MultipartReader)
    await nested.release()
    assert nested.at_eof()
    assert await nested.next() is None
    last = await reader.next()
    assert isinstance(last, BodyPartReader)
    assert last.name == "z"


async def test_reader_class_hooks(make_stream: StreamFactory) -> None:
    class MyPart(BodyPartReader):
        pass

    class MyReader(MultipartReader):
        part_reader_cls = MyPart

    reader = MyReader(FORM, make_stream(NESTED))
    kinds = []
    async for part in reader:
        kinds.append(type(part))
        if isinstance(part, MultipartReader):
            kinds.extend([type(p) async for p in part])
    assert kinds == [MyPart, MyReader, MyPart, MyPart, MyPart]


# -- client responses and standalone parts ----------------------------------------------


class FakeResponse:
    def __init__(self, stream: StreamReader, *, async_release: bool) -> None:
        self.headers = CIMultiDictProxy(CIMultiDict(FORM))
        self.content = stream
        self.released = 0
        self._async_release = async_release

    def release(self) -> Any:
        self.released += 1
        if self._async_release:
            return asyncio.sleep(0)
        return None


@pytest.mark.parametrize("async_release", [False, True])
async def test_from_response(async_release: bool, make_stream: StreamFactory) -> None:
    response = FakeResponse(make_stream(body(field("a", b"1"))), async_release=async_release)
    wrapper = MultipartReader.from_response(response)
    assert isinstance(wrapper, MultipartResponseWrapper)
    parts = [part async for part in wrapper]
    assert len(parts) == 1
    assert response.released == 1
    assert wrapper.at_eof() == response.content.at_eof()


async def test_standalone_body_part_reader(make_stream: StreamFactory) -> None:
    stream = make_stream(b"some content\r\n--b\r\nNext: part\r\n\r\nnot read\r\n--b--")
    part = BodyPartReader(b"--b", {"content-type": "text/plain; charset=utf-8"}, stream)
    assert part.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert await part.text() == "some content"
    assert part.at_eof()


# -- malformed bodies through the reader ------------------------------------------------


async def test_truncated_part_raises(make_stream: StreamFactory) -> None:
    reader = MultipartReader(
        FORM, make_stream(b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nabc')
    )
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    with pytest.raises(IncompleteMultipartError) as info:
        await part.read()
    assert info.value.code == 400


async def test_missing_close_delimiter_raises_on_next(make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(b"--b\r\n\r\nabc\r\n--b\r\n"))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.read() == b"abc"
    with pytest.raises(IncompleteMultipartError):
        await reader.next()


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", MultipartFramingError),
        (b"garbage without any boundary", MultipartFramingError),
        (b"--b\r\nBroken header\r\n\r\nx\r\n--b--", PartHeaderError),
        (b"--b\r\n" + b"X: y\r\n" * 200 + b"\r\n--b--", PartHeadersTooLarge),
    ],
)
async def test_malformed_bodies(
    data: bytes, error: type[MultipartError], make_stream: StreamFactory
) -> None:
    reader = MultipartReader(FORM, make_stream(data))
    with pytest.raises(error) as info:
        await reader.next()
    assert info.value.code == 400


async def test_header_limits_are_configurable(make_stream: StreamFactory) -> None:
    data = body(b"X-Long: " + b"v" * 100 + b"\r\n")
    with pytest.raises(PartHeadersTooLarge):
        await MultipartReader(FORM, make_stream(data), max_field_size=50).next()
    with pytest.raises(PartHeadersTooLarge):
        await MultipartReader(FORM, make_stream(body(b"A: 1\r\nB: 2\r\n")), max_headers=1).next()
    assert await collect(MultipartReader(FORM, make_stream(data), max_field_size=200)) == [
        (None, b"")
    ]


async def test_error_in_a_later_part_comes_after_the_earlier_part(
    make_stream: StreamFactory,
) -> None:
    reader = MultipartReader(FORM, make_stream(body(field("a", b"fine"), b"no colon\r\n")))
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    assert await part.text() == "fine"
    with pytest.raises(PartHeaderError):
        await reader.next()


async def test_cve_2024_30251_shape(make_stream: StreamFactory) -> None:
    # Content-Length past the end of a truncated body, base64: aiohttp < 3.9.4 spun for
    # ever at EOF. Here the read ends with an error at once.
    data = (
        b"--d74496d66958873e\r\n"
        b'Content-Disposition: form-data; name="file"; filename="f.txt"\r\n'
        b"Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Length: 100000\r\n\r\naGVsbG8gd29y"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=d74496d66958873e"}
    reader = MultipartReader(headers, make_stream(data))

    async def consume() -> None:
        part = await reader.next()
        assert isinstance(part, BodyPartReader)
        while await part.read_chunk(7):
            pass

    with pytest.raises(IncompleteMultipartError):
        await asyncio.wait_for(consume(), timeout=5)


def endless(prefix: bytes, unit: bytes) -> Iterator[bytes]:
    yield prefix
    while True:
        yield unit


@pytest.mark.parametrize(
    ("prefix", "unit", "error"),
    [
        (b"", b"preamble without boundary\r\n" * 100, MultipartFramingError),
        (b"--b\r\nX-Header: ", b"a" * 1000, PartHeadersTooLarge),
        (b"--b\r\n", b"X-Header: value\r\n" * 10, PartHeadersTooLarge),
    ],
)
async def test_endless_input_ends_with_an_error(
    prefix: bytes,
    unit: bytes,
    error: type[MultipartError],
    chunk_source: Callable[..., Any],
) -> None:
    source = chunk_source(endless(prefix, unit))
    reader = MultipartReader(FORM, source)
    with pytest.raises(error):
        await asyncio.wait_for(reader.next(), timeout=5)
    assert source.bytes_read < 200_000


async def test_endless_part_makes_progress(chunk_source: Callable[..., Any]) -> None:
    source = chunk_source(endless(b"--b\r\n\r\n", b"\r\n--" + b"x" * 4000))
    reader = MultipartReader(FORM, source)
    part = await reader.next()
    assert isinstance(part, BodyPartReader)
    total = 0
    for _ in range(1000):
        total += len(await part.read_chunk(8192))
    assert total > 3_000_000
    assert source.bytes_read - total < 2**16 + 10


async def test_release_of_a_truncated_body_raises(make_stream: StreamFactory) -> None:
    reader = MultipartReader(FORM, make_stream(body(field("a", b"1"))[:-10]))
    with pytest.raises(IncompleteMultipartError):
        await reader.release()


async def test_malformed_part_values(make_stream: StreamFactory) -> None:
    parts = (
        b"Content-Type: application/json\r\n\r\n{not json",
        b"Content-Type: text/plain; charset=no-such-codec\r\n\r\ntext",
        b"Content-Transfer-Encoding: base64\r\n\r\n***",
        b'Content-Disposition: form-data; name="unterminated\r\n\r\n',
    )
    reader = MultipartReader(MIXED, make_stream(body(*parts)))
    bad_json = await reader.next()
    assert isinstance(bad_json, BodyPartReader)
    with pytest.raises(ValueError):
        await bad_json.json()
    bad_charset = await reader.next()
    assert isinstance(bad_charset, BodyPartReader)
    with pytest.raises(LookupError):
        await bad_charset.text()
    bad_base64 = await reader.next()
    assert isinstance(bad_base64, BodyPartReader)
    raw = await bad_base64.read()
    with pytest.raises(PartDecodeError) as info:
        [piece async for piece in bad_base64.decode_iter(raw)]
    assert info.value.code == 400
    bad_disposition = await reader.next()
    assert isinstance(bad_disposition, BodyPartReader)
    with pytest.warns(BadContentDispositionHeader):
        assert bad_disposition.name is None


async def test_reprs_do_not_parse_headers(make_stream: StreamFactory) -> None:
    data = body(b'Content-Disposition: form-data; name="unterminated\r\n\r\nx')
    reader = MultipartReader(FORM, make_stream(data))
    assert repr(reader) == "<MultipartReader boundary=b'b'>"
    part = await reader.next()
    assert repr(part) == ("<BodyPartReader Content-Disposition='form-data; name=\"unterminated'>")
