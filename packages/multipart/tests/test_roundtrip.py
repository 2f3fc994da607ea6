"""Round trips: what MultipartWriter and FormData write, MultipartReader reads back."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from aioloom.http.aio._protocol import BaseProtocol
from aioloom.http.aio._streams import StreamReader
from aioloom.multipart._form import FormData
from aioloom.multipart._writer import MultipartWriter
from aioloom.multipart.aio import BodyPartReader, MultipartReader

BOUNDARIES = st.from_regex(
    r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]", fullmatch=True
)
CODINGS = st.sampled_from(
    [
        {},
        {"Content-Transfer-Encoding": "base64"},
        {"Content-Transfer-Encoding": "quoted-printable"},
        {"Content-Transfer-Encoding": "8bit"},
        {"Content-Encoding": "gzip"},
        {"Content-Encoding": "deflate"},
        {"Content-Encoding": "gzip", "Content-Transfer-Encoding": "base64"},
    ]
)
# Content rich in the bytes that matter to the scanner.
CONTENT = st.lists(
    st.one_of(st.binary(max_size=40), st.sampled_from([b"\r\n", b"--", b"\r", b"\n", b"-"])),
    max_size=60,
).map(b"".join)
# Names with anything but control characters (quote_fields=False writes them raw into the
# header, where RFC 9110 §5.5 allows no CTL).
NAMES = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1).filter(
    lambda s: s[0] not in "/\\"
)


class _Sink:
    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.chunks.append(bytes(chunk))


async def _write(payload: Any) -> bytes:
    sink = _Sink()
    await payload.write(sink)
    return b"".join(sink.chunks)


async def _read(content_type: str, data: bytes, chunk: int) -> list[tuple[Any, bytes]]:
    loop = asyncio.get_running_loop()
    stream = StreamReader(BaseProtocol(loop), 2**16, loop=loop)
    for i in range(0, len(data), chunk):
        stream.feed_data(data[i : i + chunk])
    stream.feed_eof()
    out = []
    async for part in MultipartReader({"Content-Type": content_type}, stream):
        assert isinstance(part, BodyPartReader)
        out.append((part, bytes(await part.read(decode=True))))
    return out


@settings(max_examples=150, deadline=None)
@given(
    boundary=BOUNDARIES,
    parts=st.lists(st.tuples(CONTENT, CODINGS), max_size=6),
    chunk=st.integers(min_value=1, max_value=5000),
)
def test_writer_to_reader(
    boundary: str, parts: list[tuple[bytes, dict[str, str]]], chunk: int
) -> None:
    async def main() -> None:
        writer = MultipartWriter("mixed", boundary=boundary)
        for index, (content, coding) in enumerate(parts):
            writer.append(content, {"X-Index": str(index), **coding})
        data = await _write(writer)
        # A sender must pick a boundary that its content does not hold (RFC 2046 §5.1.1).
        dash = b"--" + boundary.encode()
        assume(data.count(b"\r\n" + dash) == len(parts))
        assume(all(not content.startswith(b"-") for content, _ in parts))
        if not any(coding for _, coding in parts):
            assert writer.size == len(data)
        assert await writer.as_bytes() == data
        read = await _read(writer.content_type, data, chunk)
        assert [(p.headers["X-Index"], content) for p, content in read] == [
            (str(i), content) for i, (content, _) in enumerate(parts)
        ]

    asyncio.run(main())


@settings(max_examples=100, deadline=None)
@given(
    fields=st.lists(
        st.tuples(NAMES, st.text(max_size=50), st.one_of(st.none(), NAMES)), max_size=5
    ),
    quote_fields=st.booleans(),
    chunk=st.integers(min_value=1, max_value=3000),
)
def test_form_data_to_reader(
    fields: list[tuple[str, str, str | None]], quote_fields: bool, chunk: int
) -> None:
    async def main() -> None:
        form = FormData(quote_fields=quote_fields, default_to_multipart=True)
        for name, value, filename in fields:
            if filename is None:
                form.add_field(name, value)
            else:
                form.add_field(name, io.BytesIO(value.encode()), filename=filename)
        payload = form()
        data = await _write(payload)
        read = await _read(payload.content_type, data, chunk)
        assert [content for _, content in read] == [value.encode() for _, value, _ in fields]
        assert [part.name for part, _ in read] == [name for name, _, _ in fields]
        if not quote_fields:  # quoted file names stay percent-encoded, as in aiohttp
            assert [part.filename for part, _ in read] == [fn for _, _, fn in fields]

    asyncio.run(main())
