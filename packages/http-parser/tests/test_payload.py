"""Tests for aioloom.http.aio._payload and _payload_io (payloads and their registry)."""

from __future__ import annotations

import array
import asyncio
import builtins
import io
import json
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from pathlib import Path

import pytest
from multidict import CIMultiDict

from aioloom.http.aio import _payload as payload
from aioloom.http.aio._abc import AbstractStreamWriter
from aioloom.http.aio._payload import (
    READ_SIZE,
    AsyncIterablePayload,
    BytesPayload,
    JsonPayload,
    Order,
    Payload,
    PayloadRegistry,
    StreamReaderPayload,
    StringPayload,
    get_payload,
    payload_type,
    register_payload,
)
from aioloom.http.aio._payload_io import (
    _CLOSE_FUTURES,
    BufferedReaderPayload,
    BytesIOPayload,
    IOBasePayload,
    StringIOPayload,
    TextIOPayload,
    guess_filename,
)
from aioloom.http.aio._protocol import BaseProtocol
from aioloom.http.aio._streams import StreamReader


class RecordingWriter(AbstractStreamWriter):
    """Records every chunk a payload writes."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        self.chunks.append(bytes(chunk))

    async def write_eof(self, chunk: bytes = b"") -> None:
        raise AssertionError("payloads never finish the message")

    async def drain(self) -> None:
        raise AssertionError("payloads never drain")

    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        raise AssertionError("payloads never configure the writer")

    def enable_chunking(self) -> None:
        raise AssertionError("payloads never configure the writer")

    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        raise AssertionError("payloads never write heads")

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


async def written(p: Payload, content_length: int | None = -1) -> bytes:
    writer = RecordingWriter()
    if content_length == -1:
        await p.write(writer)
    else:
        await p.write_with_length(writer, content_length)
    return writer.data


class MinimalPayload(Payload):
    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        return str(self._value)

    async def write(self, writer: AbstractStreamWriter) -> None:
        await writer.write(str(self._value).encode())


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> PayloadRegistry:
    reg = PayloadRegistry()
    monkeypatch.setattr(payload, "PAYLOAD_REGISTRY", reg)
    return reg


@pytest.fixture
def big_file(tmp_path: Path) -> Iterator[tuple[Path, bytes]]:
    data = bytes(range(256)) * (3 * READ_SIZE // 256) + b"tail-123"
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    yield path, data


# -- registry --------------------------------------------------------------------------


async def test_get_payload_picks_the_registered_class(
    loop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    path = tmp_path / "f.txt"
    path.write_text("text")

    async def agen() -> AsyncGenerator[bytes, None]:
        yield b"x"

    gen = agen()
    stream = StreamReader(
        BaseProtocol(asyncio.get_running_loop()), 16, loop=asyncio.get_running_loop()
    )
    with open(path, "rb") as binary, open(path, encoding="utf-8") as text, open(path, "r+b") as rw:
        with open(path, "rb", buffering=0) as raw:
            cases: list[tuple[object, type[Payload]]] = [
                (b"b", BytesPayload),
                (bytearray(b"b"), BytesPayload),
                (memoryview(b"b"), BytesPayload),
                ("s", StringPayload),
                (io.StringIO("s"), StringIOPayload),
                (text, TextIOPayload),
                (io.BytesIO(b"b"), BytesIOPayload),
                (binary, BufferedReaderPayload),
                (rw, BufferedReaderPayload),
                (raw, IOBasePayload),
                (stream, StreamReaderPayload),
                (gen, AsyncIterablePayload),
            ]
            for value, cls in cases:
                assert type(get_payload(value)) is cls, value
    await gen.aclose()


async def test_get_payload_returns_payload_unchanged() -> None:
    p = BytesPayload(b"x")
    assert get_payload(p) is p


async def test_get_payload_passes_arguments() -> None:
    p = get_payload("text", content_type="text/html; charset=koi8-r")
    assert p.content_type == "text/html; charset=koi8-r"
    assert p.encoding == "koi8-r"


@pytest.mark.parametrize("value", [1, 1.5, None, object(), [b"a"], {"a": 1}, (b"x",)])
async def test_get_payload_unsupported_type(value: object) -> None:
    with pytest.raises(payload.LookupError) as info:
        get_payload(value)
    assert isinstance(info.value, builtins.LookupError)
    assert type(value).__name__ in str(info.value)


async def test_register_payload(registry: PayloadRegistry) -> None:
    class Provider:
        pass

    register_payload(MinimalPayload, Provider)
    assert isinstance(get_payload(Provider()), MinimalPayload)
    with pytest.raises(payload.LookupError):
        get_payload(b"not registered in this registry")


async def test_payload_type_decorator_and_subclasses(registry: PayloadRegistry) -> None:
    class Base:
        pass

    class Child(Base):
        pass

    @payload_type(Base)
    class BasePayload(MinimalPayload):
        pass

    assert isinstance(get_payload(Child()), BasePayload)  # isinstance fallback


async def test_registry_order(registry: PayloadRegistry) -> None:
    class Normal(MinimalPayload):
        pass

    class First(MinimalPayload):
        pass

    class Last(MinimalPayload):
        pass

    register_payload(Last, object, order=Order.try_last)
    register_payload(Normal, int)
    assert type(get_payload(1)) is Normal
    assert type(get_payload("x")) is Last
    register_payload(First, int, order=Order.try_first)
    assert type(get_payload(1)) is First


async def test_register_bad_arguments(registry: PayloadRegistry) -> None:
    with pytest.raises(ValueError, match="Unsupported order"):
        registry.register(MinimalPayload, int, order="sideways")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        registry.register(MinimalPayload, "int")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        registry.register(MinimalPayload, ())


# -- Payload base --------------------------------------------------------------------------


async def test_payload_defaults() -> None:
    p = MinimalPayload("v")
    assert p.size is None
    assert p.filename is None
    assert p.encoding is None
    assert p.content_type == "application/octet-stream"
    assert p.consumed is False
    assert p.autoclose is False
    assert await p.as_bytes() == b"v"
    await p.close()
    assert await written(p, 0) == b"v"  # the base class ignores the length
    with pytest.raises(ValueError, match="negative"):
        await p.write_with_length(RecordingWriter(), -5)


async def test_payload_content_type_from_filename() -> None:
    assert MinimalPayload("v", filename="notes.txt").content_type == "text/plain"
    assert MinimalPayload("v", filename="x.unknownext").content_type == ("application/octet-stream")
    assert MinimalPayload("v", filename="a.txt", content_type="x/y").content_type == "x/y"


async def test_payload_headers_override_content_type() -> None:
    p = MinimalPayload("v", headers={"content-type": "application/json", "X-A": "1"})
    assert p.content_type == "application/json"
    assert p.headers["X-A"] == "1"
    p2 = MinimalPayload("v", headers=[("X-B", "2"), ("X-B", "3")])
    assert p2.headers.getall("X-B") == ["2", "3"]


async def test_set_content_disposition() -> None:
    p = MinimalPayload("v")
    p.set_content_disposition("attachment", filename="a b.txt")
    assert p.headers["Content-Disposition"] == 'attachment; filename="a%20b.txt"'
    p.set_content_disposition("form-data", name="field")
    assert p.headers["Content-Disposition"] == 'form-data; name="field"'
    with pytest.raises(ValueError):
        p.set_content_disposition("bad type")
    with pytest.raises(ValueError):
        p.set_content_disposition("inline", quote_fields=False, name="a\r\nX: y")


async def test_binary_headers() -> None:
    p = BytesPayload(b"x", headers={"X-Name": "välue"})
    assert p._binary_headers == (
        "Content-Type: application/octet-stream\r\nX-Name: välue\r\n\r\n".encode()
    )


@pytest.mark.parametrize(
    ("headers", "content_type"),
    [
        ({"X-Name": "a\r\nX-Injected: 1"}, None),
        ({"X-Name": "a\nb"}, None),
        ({"X-Name": "a\x00b"}, None),
        ({"X-Na me": "a"}, None),
        ({"X-Name:": "a"}, None),
        (None, "text/plain\r\n\r\n--boundary"),
    ],
)
async def test_binary_headers_refuse_injection(
    headers: dict[str, str] | None, content_type: str | None
) -> None:
    # The part head must not let a value end its line (or the head) early.
    p = BytesPayload(b"x", headers=headers, content_type=content_type)
    with pytest.raises(ValueError):
        p._binary_headers  # noqa: B018 - the property is the code under test


# -- BytesPayload -----------------------------------------------------------------------------


async def test_bytes_payload() -> None:
    p = BytesPayload(b"0123456789")
    assert p.size == 10
    assert p.content_type == "application/octet-stream"
    assert p.autoclose is True
    assert p.decode() == "0123456789"
    assert await p.as_bytes() == b"0123456789"
    assert await written(p) == b"0123456789"
    assert await written(p, None) == b"0123456789"
    assert await written(p, 10) == b"0123456789"
    assert await written(p, 100) == b"0123456789"
    assert await written(p, 4) == b"0123"
    assert await written(p, 0) == b""
    assert p.consumed is False  # reusable: every write above sent the data again


async def test_bytes_payload_negative_length() -> None:
    with pytest.raises(ValueError, match="negative"):
        await BytesPayload(b"x").write_with_length(RecordingWriter(), -1)


async def test_bytes_payload_explicit_content_type_and_filename() -> None:
    assert BytesPayload(b"x", content_type="application/custom").content_type == (
        "application/custom"
    )
    # BytesPayload does not guess from the file name unless content_type is None.
    assert BytesPayload(b"x", filename="a.txt").content_type == "application/octet-stream"
    assert BytesPayload(b"x", content_type=None, filename="a.txt").content_type == "text/plain"


async def test_bytes_payload_memoryview_counts_bytes() -> None:
    view = memoryview(array.array("H", [1, 2, 3]))
    p = BytesPayload(view)
    assert p.size == 6
    assert await written(p, 3) == bytes(view)[:3]
    assert await p.as_bytes() == bytes(view)
    assert isinstance(await p.as_bytes(), bytes)


async def test_bytes_payload_non_contiguous_memoryview() -> None:
    view = memoryview(b"abcdef")[::2]
    p = BytesPayload(view)
    assert p.size == 3
    assert await written(p) == b"ace"


async def test_bytes_payload_bytearray() -> None:
    p = BytesPayload(bytearray(b"abc"))
    assert await p.as_bytes() == b"abc"
    assert type(await p.as_bytes()) is bytes
    assert p.decode() == "abc"


@pytest.mark.parametrize("value", ["text", 1, None, [1, 2], object()])
async def test_bytes_payload_bad_type(value: object) -> None:
    with pytest.raises(TypeError, match="byte-ish"):
        BytesPayload(value)  # type: ignore[arg-type]


async def test_bytes_payload_large_body_warns() -> None:
    with pytest.warns(ResourceWarning, match="large body"):
        BytesPayload(b"x" * (2**20 + 1))
    BytesPayload(b"x" * 2**20)  # at the limit: no warning (pytest turns one into an error)


# -- StringPayload / StringIOPayload / JsonPayload --------------------------------------------


async def test_string_payload_encodings() -> None:
    p = StringPayload("тест")
    assert p.encoding == "utf-8"
    assert p.content_type == "text/plain; charset=utf-8"
    assert p.size == 8
    assert await written(p) == "тест".encode()

    p = StringPayload("тест", encoding="koi8-r")
    assert p.encoding == "koi8-r"
    assert p.content_type == "text/plain; charset=koi8-r"
    assert await written(p) == "тест".encode("koi8-r")

    p = StringPayload("тест", content_type="text/html; charset=cp1251")
    assert p.encoding == "cp1251"
    assert p.content_type == "text/html; charset=cp1251"
    assert p.size == 4

    p = StringPayload("x", content_type="application/x-thing")
    assert p.encoding == "utf-8"
    assert p.content_type == "application/x-thing"
    assert p.decode() == "x"


async def test_string_payload_bad_input() -> None:
    with pytest.raises(TypeError, match="must be str"):
        StringPayload(b"bytes")  # type: ignore[arg-type]
    with pytest.raises(builtins.LookupError):
        StringPayload("x", encoding="no-such-codec")
    with pytest.raises(UnicodeEncodeError):
        StringPayload("тест", encoding="ascii")


async def test_string_io_payload() -> None:
    s = io.StringIO("ű" * 5000)
    p = StringIOPayload(s)
    assert p.encoding == "utf-8"
    assert p.content_type == "text/plain; charset=utf-8"
    assert p.size == 10000
    assert await written(p) == ("ű" * 5000).encode()
    assert await written(p) == ("ű" * 5000).encode()  # reusable
    with pytest.raises(TypeError):
        StringIOPayload(b"not a file")  # type: ignore[arg-type]


async def test_json_payload() -> None:
    p = JsonPayload({"a": [1, "é"]})
    assert p.content_type == "application/json"
    assert p.encoding == "utf-8"
    assert json.loads(await written(p)) == {"a": [1, "é"]}
    assert p.size == len(json.dumps({"a": [1, "é"]}))


async def test_json_payload_custom_dumps_and_encoding() -> None:
    calls: list[object] = []

    def dumps(value: object) -> str:
        calls.append(value)
        return "«custom»"

    p = JsonPayload([1], encoding="utf-16", content_type="application/vnd+json", dumps=dumps)
    assert calls == [[1]]
    assert await written(p) == "«custom»".encode("utf-16")
    assert p.content_type == "application/vnd+json"


async def test_json_payload_not_serializable() -> None:
    with pytest.raises(TypeError):
        JsonPayload(object())


# -- file payloads ------------------------------------------------------------------------------


class TrackingFile(io.RawIOBase):
    """A seekable raw file that records the size and thread of every read."""

    def __init__(self, data: bytes, *, seekable: bool = True, name: str = "tracked.bin") -> None:
        self._buffer = io.BytesIO(data)
        self._seekable = seekable
        self.name = name
        self.read_sizes: list[int] = []
        self.threads: set[int] = set()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._seekable

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        self.read_sizes.append(len(buffer))
        self.threads.add(threading.get_ident())
        data = self._buffer.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def tell(self) -> int:
        if not self._seekable:
            raise OSError("not seekable")
        return self._buffer.tell()

    def seek(self, offset: int, whence: int = 0) -> int:
        if not self._seekable:
            raise OSError("not seekable")
        return self._buffer.seek(offset, whence)


async def test_file_payload_reads_in_chunks_off_the_loop(big_file: tuple[Path, bytes]) -> None:
    path, data = big_file
    with open(path, "rb") as f:
        p = get_payload(f)
        assert isinstance(p, BufferedReaderPayload)
        assert p.size == len(data)
        writer = RecordingWriter()
        await p.write(writer)
    assert writer.data == data
    assert len(writer.chunks) == 4
    assert all(len(chunk) <= READ_SIZE for chunk in writer.chunks)


async def test_file_reads_happen_in_the_executor() -> None:
    data = b"z" * (2 * READ_SIZE + 5)
    tracked = TrackingFile(data)
    p = IOBasePayload(tracked)
    assert await written(p) == data
    assert threading.get_ident() not in tracked.threads
    assert max(tracked.read_sizes) <= READ_SIZE, "a file must never be read whole"


async def test_file_is_read_in_256_kib_executor_jobs() -> None:
    # Issue #8: 64 KiB reads cost one executor hand-off per 64 KiB, which made a file
    # upload's client use 2.4x aiohttp's CPU. aiohttp reads 256 KiB (DEFAULT_CHUNK_SIZE).
    assert READ_SIZE == 256 * 1024
    data = bytes(range(256)) * (4 * READ_SIZE // 256) + b"tail"
    tracked = TrackingFile(data)
    writer = RecordingWriter()
    await IOBasePayload(tracked).write(writer)
    assert writer.data == data
    assert [len(chunk) for chunk in writer.chunks] == [READ_SIZE] * 4 + [4]
    # No fileno(), so no known size: a sixth read finds the end of the file.
    assert tracked.read_sizes == [READ_SIZE] * 6


async def test_file_payload_headers(big_file: tuple[Path, bytes]) -> None:
    path, _ = big_file
    with open(path, "rb") as f:
        p = BufferedReaderPayload(f)
        assert p.filename == "big.bin"
        assert p.headers["Content-Disposition"] == 'attachment; filename="big.bin"'
        assert p.content_type == "application/octet-stream"
        p2 = BufferedReaderPayload(f, disposition=None, filename="report.txt")
        assert "Content-Disposition" not in p2.headers
        assert p2.content_type == "text/plain"
        p3 = BufferedReaderPayload(
            f, "inline", headers={"Content-Disposition": "attachment; filename=keep"}
        )
        assert p3.headers["Content-Disposition"] == "attachment; filename=keep"


async def test_file_payload_reuse_from_start_position(big_file: tuple[Path, bytes]) -> None:
    path, data = big_file
    with open(path, "rb") as f:
        f.seek(100)
        p = BufferedReaderPayload(f)
        assert p.size == len(data) - 100
        assert await written(p) == data[100:]
        assert p.consumed is False
        assert p.size == len(data) - 100  # not 0 after the file was read
        assert await written(p) == data[100:]  # e.g. after a 307 redirect
        assert await written(p, 10) == data[100:110]
        assert await p.as_bytes() == data[100:]
        assert p.decode("latin-1") == data[100:].decode("latin-1")


async def test_file_payload_write_with_length(big_file: tuple[Path, bytes]) -> None:
    path, data = big_file
    with open(path, "rb") as f:
        p = BufferedReaderPayload(f)
        for length in (0, 1, READ_SIZE, READ_SIZE + 1, len(data), len(data) + 50):
            writer = RecordingWriter()
            await p.write_with_length(writer, length)
            assert writer.data == data[:length]
            assert all(chunk for chunk in writer.chunks), "no empty writes"
        with pytest.raises(ValueError):
            await p.write_with_length(RecordingWriter(), -1)


async def test_file_payload_close(tmp_path: Path) -> None:
    path = tmp_path / "c.bin"
    path.write_bytes(b"abc")
    f = open(path, "rb")
    p = BufferedReaderPayload(f)
    assert p.autoclose is False
    await p.close()
    assert p.consumed is True
    await asyncio.gather(*list(_CLOSE_FUTURES))
    assert f.closed
    await p.close()  # a second close does nothing
    assert p.size is None  # a closed file has no size


def test_file_payload_close_without_loop(tmp_path: Path) -> None:
    path = tmp_path / "c.bin"
    path.write_bytes(b"abc")
    f = open(path, "rb")
    BufferedReaderPayload(f)._close()
    assert f.closed


async def test_unseekable_file_is_consumed_by_one_write() -> None:
    tracked = TrackingFile(b"stream data", seekable=False)
    p = IOBasePayload(tracked)
    assert p.size is None
    assert await written(p) == b"stream data"
    assert p.consumed is True


async def test_buffered_reader_without_fileno() -> None:
    p = BufferedReaderPayload(io.BufferedReader(io.BytesIO(b"data")))
    assert p.size is None
    assert await written(p) == b"data"


async def test_io_payload_bad_input() -> None:
    with pytest.raises(TypeError, match="file object"):
        IOBasePayload(b"bytes")  # type: ignore[arg-type]
    p = IOBasePayload(io.StringIO("text"))
    with pytest.raises(TypeError, match="binary file"):
        await written(p)


async def test_guess_filename() -> None:
    class Named:
        def __init__(self, name: object) -> None:
            self.name = name

    assert guess_filename(Named("/tmp/dir/file.tar.gz")) == "file.tar.gz"
    assert guess_filename(Named("<stdin>")) is None
    assert guess_filename(Named(3), "default") == "default"
    assert guess_filename(Named(""), "d") == "d"
    assert guess_filename(object()) is None


# -- TextIOPayload --------------------------------------------------------------------------------


async def test_text_file_payload(tmp_path: Path) -> None:
    text = "héllo wörld\n" * 10000  # bigger than one read
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    with open(path, encoding="utf-8") as f:
        p = get_payload(f)
        assert isinstance(p, TextIOPayload)
        assert p.encoding == "utf-8"
        assert p.content_type == "text/plain; charset=utf-8"
        assert p.size == len(text.encode())
        assert await written(p) == text.encode()
        assert await written(p) == text.encode()  # reusable
        assert await written(p, 8) == text.encode()[:8]
        assert p.decode() == text
        assert await p.as_bytes() == text.encode()


async def test_text_file_payload_other_encoding(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("привет", encoding="utf-8")
    with open(path, encoding="utf-8") as f:
        p = TextIOPayload(f, encoding="koi8-r")
        assert p.content_type == "text/plain; charset=koi8-r"
        assert p.size is None  # the disk size is not the size of the koi8-r body
        assert await written(p) == "привет".encode("koi8-r")
        assert await p.as_bytes() == "привет".encode("koi8-r")


async def test_text_io_payload_charset_from_content_type() -> None:
    p = TextIOPayload(io.StringIO("abc"), content_type="text/csv; charset=latin-1")
    assert p.encoding == "latin-1"
    assert p.size is None
    assert await written(p) == b"abc"
    assert await written(p, 2) == b"ab"


async def test_text_io_payload_unknown_encoding(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text("abc", encoding="utf-8")
    with open(path, encoding="utf-8") as f:
        p = TextIOPayload(f, encoding="no-such-codec")
        assert p.size is None
        with pytest.raises(builtins.LookupError):
            await written(p)


# -- BytesIOPayload -----------------------------------------------------------------------------


async def test_bytes_io_payload() -> None:
    data = b"0123456789" * (READ_SIZE // 5)
    buffer = io.BytesIO(data)
    buffer.seek(5)
    p = BytesIOPayload(buffer)
    assert p.size == len(data) - 5
    assert p.autoclose is True
    writer = RecordingWriter()
    await p.write(writer)
    assert writer.data == data[5:]
    assert all(len(chunk) <= READ_SIZE for chunk in writer.chunks)
    assert len(writer.chunks) == 2
    assert await written(p, 7) == data[5:12]
    assert await written(p, 0) == b""
    assert await p.as_bytes() == data[5:]
    assert p.decode() == data[5:].decode()
    await p.close()
    assert not buffer.closed
    assert await written(p) == data[5:]


async def test_bytes_io_payload_truncated_after_creation() -> None:
    buffer = io.BytesIO(b"abcdef")
    p = BytesIOPayload(buffer)
    buffer.truncate(3)
    assert p.size == 6
    assert await written(p) == b"abc"


async def test_bytes_io_payload_bad_type() -> None:
    with pytest.raises(TypeError, match="BytesIO"):
        BytesIOPayload(io.StringIO("x"))  # type: ignore[arg-type]


# -- AsyncIterablePayload / StreamReaderPayload --------------------------------------------------


async def test_async_iterable_payload() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"0123"
        yield b"4567"
        yield b"89"

    p = AsyncIterablePayload(gen())
    assert p.size is None
    assert p.content_type == "application/octet-stream"
    assert p.autoclose is True
    assert await written(p) == b"0123456789"
    assert p.consumed is True
    assert await written(p) == b""  # not reusable: the iterator is exhausted


async def test_async_iterable_payload_stops_at_length() -> None:
    pulled: list[bytes] = []

    async def gen() -> AsyncGenerator[bytes, None]:
        for chunk in (b"0123", b"4567", b"89"):
            pulled.append(chunk)
            yield chunk

    iterator = gen()
    p = AsyncIterablePayload(iterator)
    assert await written(p, 6) == b"012345"
    assert pulled == [b"0123", b"4567"], "the rest of the iterator must be left unread"
    assert p.consumed is True
    await iterator.aclose()


async def test_async_iterable_payload_zero_length_pulls_nothing() -> None:
    pulled: list[int] = []

    async def gen() -> AsyncGenerator[bytes, None]:
        pulled.append(1)
        yield b"x"

    iterator = gen()
    p = AsyncIterablePayload(iterator)
    assert await written(p, 0) == b""
    assert pulled == []
    assert p.consumed is False
    await iterator.aclose()


async def test_async_iterable_payload_as_bytes_makes_it_reusable() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"ab"
        yield b"cd"

    p = AsyncIterablePayload(gen())
    with pytest.raises(TypeError, match="not cached"):
        p.decode()
    assert await p.as_bytes() == b"abcd"
    assert p.consumed is False
    assert p.decode() == "abcd"
    assert await written(p) == b"abcd"
    assert await written(p) == b"abcd"
    assert await written(p, 3) == b"abc"
    assert await written(p, 2) == b"ab"
    assert await p.as_bytes() == b"abcd"


async def test_async_iterable_payload_after_exhaustion() -> None:
    async def gen() -> AsyncIterator[bytes]:
        yield b"x"

    p = AsyncIterablePayload(gen())
    await written(p)
    assert await p.as_bytes() == b""


@pytest.mark.parametrize("value", [b"bytes", [b"a"], iter([b"a"]), None])
async def test_async_iterable_payload_bad_type(value: object) -> None:
    with pytest.raises(TypeError, match="AsyncIterable"):
        AsyncIterablePayload(value)  # type: ignore[arg-type]


async def test_stream_reader_payload(loop: asyncio.AbstractEventLoop) -> None:
    protocol = BaseProtocol(loop)
    protocol.connection_made(asyncio.Transport())
    stream = StreamReader(protocol, 16, loop=loop)

    async def produce() -> None:
        for piece in (b"pro", b"xy", b"body"):
            stream.feed_data(piece)
            await asyncio.sleep(0)
        stream.feed_eof()

    task = loop.create_task(produce())
    p = get_payload(stream)
    assert isinstance(p, StreamReaderPayload)
    assert await written(p) == b"proxybody"
    await task
    with pytest.raises(TypeError, match="StreamReader"):
        StreamReaderPayload(b"x")  # type: ignore[arg-type]
