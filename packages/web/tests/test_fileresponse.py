"""FileResponse without sockets: representation choice, preconditions, ranges, codings.

Requests are built with the ``make_request`` fixture; their transport records what the
response wrote (a recording transport does not support ``loop.sendfile``, so these tests
go through the chunked-read path), and the independent h11 parser reads it back.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import pathlib
import threading
from typing import Any

import pytest

from aioloom.http._dates import format_http_date
from aioloom.web import _fileresponse
from aioloom.web._fileresponse import (
    FULL,
    UNSATISFIABLE,
    FileResponse,
    _coding_weights,
    guess_content_type,
    resolve_range,
)

CONTENT = bytes(range(256)) * 40  # 10240 bytes, every byte value
MTIME = 1_700_000_000.25  # a fixed modification time with a fraction


@pytest.fixture
def data_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "data.bin"
    path.write_bytes(CONTENT)
    os.utime(path, (MTIME, MTIME))
    return path


def etag_of(path: pathlib.Path) -> str:
    st = path.stat()
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


def _request_bytes(method: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} /f HTTP/1.1", "Host: x", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def answer(
    make_request: Any,
    h11_parse: Any,
    resp: FileResponse,
    method: str = "GET",
    **headers: str,
) -> Any:
    """Prepare ``resp`` for a request with ``headers`` (underscores become dashes)."""
    raw = _request_bytes(method, {k.replace("_", "-"): v for k, v in headers.items()})
    request = make_request(raw)
    await resp.prepare(request)
    await resp.write_eof()
    (parsed,) = h11_parse(request.protocol.transport.data(), [method])
    return parsed


# -- pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "size", "expected"),
    [
        ("bytes=0-4", 10, (0, 5)),
        ("bytes=5-", 10, (5, 5)),
        ("bytes=-3", 10, (7, 3)),
        ("bytes=-20", 10, (0, 10)),  # a suffix longer than the file: all of it
        ("bytes=8-100", 10, (8, 2)),  # last-pos clamped to the end
        ("bytes=9-9", 10, (9, 1)),
        ("BYTES = 0-0", 10, (0, 1)),  # the unit is case-insensitive
        ("bytes= 2 - 3 ", 10, (2, 2)),
        ("bytes=0-1,", 10, (0, 2)),  # an empty list element is ignored
        ("bytes=-0", 10, UNSATISFIABLE),
        ("bytes=10-", 10, UNSATISFIABLE),
        ("bytes=10-20", 10, UNSATISFIABLE),
        ("bytes=0-", 0, UNSATISFIABLE),
        ("bytes=-5", 0, UNSATISFIABLE),
        ("bytes=5-2", 10, UNSATISFIABLE),  # last before first: invalid
        ("bytes=abc", 10, UNSATISFIABLE),
        ("bytes=-", 10, UNSATISFIABLE),
        ("bytes=", 10, UNSATISFIABLE),
        ("bytes=1-2-3", 10, UNSATISFIABLE),
        ("0-5", 10, UNSATISFIABLE),
        ("bytes=0-" + "9" * 5000, 10, UNSATISFIABLE),  # beyond what int() converts
        ("items=0-5", 10, FULL),  # another unit: ignored
        ("bytes=0-1,3-4", 10, FULL),  # several ranges: the whole file
        ("bytes=20-30,3-4", 10, FULL),
        ("bytes=20-30,40-50", 10, UNSATISFIABLE),
        ("bytes=0-1,x", 10, UNSATISFIABLE),
    ],
)
def test_resolve_range(value: str, size: int, expected: object) -> None:
    assert resolve_range(value, size) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.txt", "text/plain; charset=utf-8"),
        ("index.html", "text/html; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
        ("pic.png", "image/png"),
        ("data.json", "application/json"),
        ("archive.tar.gz", "application/gzip"),  # not "a gzip-coded tar"
        ("x.br", "application/x-brotli"),
        ("x.zst", "application/zstd"),
        ("README", "application/octet-stream"),
        ("file.unknown-ext", "application/octet-stream"),
    ],
)
def test_guess_content_type(name: str, expected: str) -> None:
    assert guess_content_type(pathlib.Path("/srv") / name) == expected


def test_coding_weights() -> None:
    assert _coding_weights("gzip;q=0.5, BR , zstd;q=0, *;q=0.1") == {
        "gzip": 0.5,
        "br": 1.0,
        "zstd": 0.0,
        "*": 0.1,
    }
    assert _coding_weights("gzip;q=abc, br;q=2, deflate;level=1") == {
        "gzip": 0.0,
        "br": 0.0,
        "deflate": 1.0,
    }
    assert _coding_weights(" , ;q=1") == {}


# -- full answers ------------------------------------------------------------------------


async def test_full_file(make_request: Any, h11_parse: Any, data_file: pathlib.Path) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(data_file))
    assert resp.status == 200
    assert resp.body == CONTENT
    assert resp.header("Content-Length") == str(len(CONTENT))
    assert resp.header("Content-Type") == "application/octet-stream"
    assert resp.header("Accept-Ranges") == "bytes"
    assert resp.header("ETag") == etag_of(data_file)
    # Last-Modified rounds the fractional mtime up (aiohttp's math.ceil).
    assert resp.header("Last-Modified") == format_http_date(1_700_000_001)
    assert resp.header("Vary") is None
    assert resp.header("Content-Encoding") is None


async def test_etag_shape(data_file: pathlib.Path) -> None:
    st = data_file.stat()
    assert etag_of(data_file) == f'"{st.st_mtime_ns:x}-{len(CONTENT):x}"'
    assert "-2800" in etag_of(data_file)  # 10240 bytes in hex


async def test_text_file_gets_charset(
    make_request: Any, h11_parse: Any, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "hello.txt"
    path.write_text("héllo", encoding="utf-8")
    resp = await answer(make_request, h11_parse, FileResponse(path))
    assert resp.header("Content-Type") == "text/plain; charset=utf-8"
    assert resp.body.decode("utf-8") == "héllo"


async def test_given_content_type_is_kept(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    file_resp = FileResponse(data_file, headers={"Content-Type": "application/x-custom"})
    resp = await answer(make_request, h11_parse, file_resp)
    assert resp.header("Content-Type") == "application/x-custom"


async def test_small_chunks_reassemble(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(data_file, chunk_size=7))
    assert resp.body == CONTENT


async def test_empty_file(make_request: Any, h11_parse: Any, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    resp = await answer(make_request, h11_parse, FileResponse(path))
    assert resp.status == 200
    assert resp.body == b""
    assert resp.header("Content-Length") == "0"


async def test_head_sends_no_body(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(data_file), "HEAD")
    assert resp.status == 200
    assert resp.body == b""
    assert resp.header("Content-Length") == str(len(CONTENT))
    assert resp.header("ETag") == etag_of(data_file)


async def test_second_prepare_returns_none(make_request: Any, data_file: pathlib.Path) -> None:
    request = make_request(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
    resp = FileResponse(data_file)
    assert await resp.prepare(request) is not None
    assert await resp.prepare(request) is None
    await resp.write_eof()  # finished already: does nothing
    data = request.protocol.transport.data()
    assert data.count(b"HTTP/1.1 200") == 1
    assert data.endswith(CONTENT)


async def test_body_length_counts_the_file(make_request: Any, data_file: pathlib.Path) -> None:
    request = make_request(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
    resp = FileResponse(data_file)
    await resp.prepare(request)
    await resp.write_eof()
    assert resp.body_length == len(request.protocol.transport.data())
    assert resp.body_length > len(CONTENT)


# -- errors ------------------------------------------------------------------------------


async def test_missing_file_is_404(
    make_request: Any, h11_parse: Any, tmp_path: pathlib.Path
) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(tmp_path / "nope"))
    assert resp.status == 404
    assert resp.body == b""
    assert resp.header("Content-Length") == "0"


async def test_nul_in_path_is_404(
    make_request: Any, h11_parse: Any, tmp_path: pathlib.Path
) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(str(tmp_path / "a\x00b")))
    assert resp.status == 404


async def test_directory_is_403(make_request: Any, h11_parse: Any, tmp_path: pathlib.Path) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(tmp_path))
    assert resp.status == 403
    assert resp.body == b""


async def test_fifo_is_403(make_request: Any, h11_parse: Any, tmp_path: pathlib.Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    resp = await answer(make_request, h11_parse, FileResponse(fifo))
    assert resp.status == 403


async def test_permission_error_is_403(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deny(self: pathlib.Path, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    # Root reads every file, so a chmod cannot provoke the error here: the open is made
    # to fail the way it would for another user.
    monkeypatch.setattr(pathlib.Path, "open", deny)
    resp = await answer(make_request, h11_parse, FileResponse(data_file))
    assert resp.status == 403


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read a mode-000 file")
async def test_unreadable_file_is_403(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    data_file.chmod(0)
    try:
        resp = await answer(make_request, h11_parse, FileResponse(data_file))
    finally:
        data_file.chmod(0o644)
    assert resp.status == 403


# -- preconditions (RFC 9110 §13) ---------------------------------------------------------


async def test_if_none_match_gives_304(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    etag = etag_of(data_file)
    resp = await answer(
        make_request, h11_parse, FileResponse(data_file), If_None_Match=f'"other", {etag}'
    )
    assert resp.status == 304
    assert resp.body == b""
    assert resp.header("ETag") == etag
    assert resp.header("Last-Modified") == format_http_date(1_700_000_001)
    assert resp.header("Content-Length") is None


@pytest.mark.parametrize("value", ["*", 'W/"{tag}"'])
async def test_if_none_match_weak_and_star(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path, value: str
) -> None:
    tag = etag_of(data_file).strip('"')
    resp = await answer(
        make_request, h11_parse, FileResponse(data_file), If_None_Match=value.format(tag=tag)
    )
    assert resp.status == 304


async def test_if_none_match_other_tag_sends_file(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(data_file), If_None_Match='"x"')
    assert resp.status == 200
    assert resp.body == CONTENT


async def test_if_none_match_on_post_is_412(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(data_file), "POST", If_None_Match="*")
    assert resp.status == 412


async def test_if_match(make_request: Any, h11_parse: Any, data_file: pathlib.Path) -> None:
    etag = etag_of(data_file)
    ok = await answer(make_request, h11_parse, FileResponse(data_file), If_Match=etag)
    assert ok.status == 200 and ok.body == CONTENT
    star = await answer(make_request, h11_parse, FileResponse(data_file), If_Match="*")
    assert star.status == 200
    failed = await answer(make_request, h11_parse, FileResponse(data_file), If_Match='"nope"')
    assert failed.status == 412
    assert failed.body == b""
    assert failed.header("Content-Length") == "0"
    # If-Match compares strongly: a weak tag with the same value does not match.
    weak = await answer(make_request, h11_parse, FileResponse(data_file), If_Match=f"W/{etag}")
    assert weak.status == 412
    garbage = await answer(make_request, h11_parse, FileResponse(data_file), If_Match="nonsense")
    assert garbage.status == 412


async def test_if_modified_since(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    later = format_http_date(MTIME + 10)
    earlier = format_http_date(MTIME - 10)
    same = format_http_date(1_700_000_001)  # the Last-Modified the server sent
    for value, status in ((later, 304), (same, 304), (earlier, 200), ("garbage", 200)):
        resp = await answer(
            make_request, h11_parse, FileResponse(data_file), If_Modified_Since=value
        )
        assert resp.status == status, value


async def test_if_modified_since_ignored_with_if_none_match(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    resp = await answer(
        make_request,
        h11_parse,
        FileResponse(data_file),
        If_None_Match='"other"',
        If_Modified_Since=format_http_date(MTIME + 10),
    )
    assert resp.status == 200  # RFC 9110 §13.1.3: If-None-Match takes precedence


async def test_if_modified_since_ignored_for_post(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    resp = await answer(
        make_request,
        h11_parse,
        FileResponse(data_file),
        "POST",
        If_Modified_Since=format_http_date(MTIME + 10),
    )
    assert resp.status == 200


async def test_if_unmodified_since(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    failed = await answer(
        make_request,
        h11_parse,
        FileResponse(data_file),
        If_Unmodified_Since=format_http_date(MTIME - 10),
    )
    assert failed.status == 412
    ok = await answer(
        make_request,
        h11_parse,
        FileResponse(data_file),
        If_Unmodified_Since=format_http_date(MTIME + 10),
    )
    assert ok.status == 200
    # Ignored when If-Match is present (RFC 9110 §13.1.4).
    with_match = await answer(
        make_request,
        h11_parse,
        FileResponse(data_file),
        If_Match=etag_of(data_file),
        If_Unmodified_Since=format_http_date(MTIME - 10),
    )
    assert with_match.status == 200


async def test_precondition_order(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    # RFC 9110 §13.2.2: If-Unmodified-Since (step 2) is evaluated before If-None-Match.
    resp = await answer(
        make_request,
        h11_parse,
        FileResponse(data_file),
        If_None_Match=etag_of(data_file),
        If_Unmodified_Since=format_http_date(MTIME - 10),
    )
    assert resp.status == 412


# -- ranges (RFC 9110 §14) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "start", "stop"),
    [("bytes=0-99", 0, 100), ("bytes=10000-", 10000, 10240), ("bytes=-40", 10200, 10240)],
)
async def test_range_206(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path, value: str, start: int, stop: int
) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(data_file), Range=value)
    assert resp.status == 206
    assert resp.body == CONTENT[start:stop]
    assert resp.header("Content-Range") == f"bytes {start}-{stop - 1}/{len(CONTENT)}"
    assert resp.header("Content-Length") == str(stop - start)


@pytest.mark.parametrize("value", ["bytes=-0", "bytes=10240-", "bytes=99999-100000", "bytes=x"])
async def test_range_416(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path, value: str
) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(data_file), Range=value)
    assert resp.status == 416
    assert resp.header("Content-Range") == f"bytes */{len(CONTENT)}"
    assert resp.body == b""


async def test_multi_range_sends_whole_file(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(data_file), Range="bytes=0-1,5-6")
    assert resp.status == 200
    assert resp.body == CONTENT
    assert resp.header("Content-Range") is None


async def test_range_on_head(make_request: Any, h11_parse: Any, data_file: pathlib.Path) -> None:
    resp = await answer(make_request, h11_parse, FileResponse(data_file), "HEAD", Range="bytes=0-9")
    assert resp.status == 206
    assert resp.body == b""
    assert resp.header("Content-Length") == "10"
    assert resp.header("Content-Range") == f"bytes 0-9/{len(CONTENT)}"


async def test_range_ignored_for_post_and_non_200(
    make_request: Any, h11_parse: Any, data_file: pathlib.Path
) -> None:
    post = await answer(make_request, h11_parse, FileResponse(data_file), "POST", Range="bytes=0-9")
    assert post.status == 200 and post.body == CONTENT
    created = await answer(
        make_request, h11_parse, FileResponse(data_file, status=201), Range="bytes=0-9"
    )
    assert created.status == 201 and created.body == CONTENT


async def test_if_range(make_request: Any, h11_parse: Any, data_file: pathlib.Path) -> None:
    etag = etag_of(data_file)
    cases = [
        (etag, 206),
        ('"stale"', 200),
        (f"W/{etag}", 200),  # If-Range needs a strong match (RFC 9110 §13.1.5)
        (format_http_date(MTIME + 10), 206),
        (format_http_date(1_700_000_001), 206),
        (format_http_date(MTIME - 10), 200),
        ("not a validator", 200),
    ]
    for value, status in cases:
        resp = await answer(
            make_request, h11_parse, FileResponse(data_file), Range="bytes=0-9", If_Range=value
        )
        assert resp.status == status, value
        assert resp.body == (CONTENT[:10] if status == 206 else CONTENT)


# -- precompressed siblings --------------------------------------------------------------


@pytest.fixture
def text_file(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "page.html"
    path.write_bytes(b"<p>" + b"hello " * 200 + b"</p>")
    return path


def _sibling(path: pathlib.Path, suffix: str, body: bytes) -> pathlib.Path:
    sibling = path.with_name(path.name + suffix)
    sibling.write_bytes(body)
    return sibling


async def test_gzip_sibling(make_request: Any, h11_parse: Any, text_file: pathlib.Path) -> None:
    packed = gzip.compress(text_file.read_bytes())
    gz = _sibling(text_file, ".gz", packed)
    resp = await answer(
        make_request, h11_parse, FileResponse(text_file), Accept_Encoding="gzip, deflate"
    )
    assert resp.status == 200
    assert resp.body == packed
    assert gzip.decompress(resp.body) == text_file.read_bytes()
    assert resp.header("Content-Encoding") == "gzip"
    assert resp.header("Vary") == "Accept-Encoding"
    assert resp.header("Content-Type") == "text/html; charset=utf-8"
    assert resp.header("Content-Length") == str(len(packed))
    assert resp.header("ETag") == etag_of(gz)  # the validator of what was sent


async def test_identity_when_coding_not_accepted(
    make_request: Any, h11_parse: Any, text_file: pathlib.Path
) -> None:
    _sibling(text_file, ".gz", gzip.compress(text_file.read_bytes()))
    for accept in ("", "br", "gzip;q=0", "identity"):
        headers = {"Accept_Encoding": accept} if accept else {}
        resp = await answer(make_request, h11_parse, FileResponse(text_file), **headers)
        assert resp.body == text_file.read_bytes(), accept
        assert resp.header("Content-Encoding") is None
        # A sibling exists, so the answer depends on Accept-Encoding even uncompressed.
        assert resp.header("Vary") == "Accept-Encoding"
        assert resp.header("ETag") == etag_of(text_file)


async def test_sibling_preference(
    make_request: Any, h11_parse: Any, text_file: pathlib.Path
) -> None:
    _sibling(text_file, ".gz", b"GZ")
    _sibling(text_file, ".br", b"BR")
    _sibling(text_file, ".zst", b"ZST")
    cases = [
        ("gzip, br, zstd", "br", b"BR"),
        ("gzip, zstd", "zstd", b"ZST"),
        ("gzip;q=1, br;q=0.5", "gzip", b"GZ"),
        ("*", "br", b"BR"),
        ("*;q=0.5, gzip", "gzip", b"GZ"),
        ("GZIP", "gzip", b"GZ"),
    ]
    for accept, coding, body in cases:
        resp = await answer(
            make_request, h11_parse, FileResponse(text_file), Accept_Encoding=accept
        )
        assert (resp.header("Content-Encoding"), resp.body) == (coding, body), accept


async def test_symlinked_sibling_is_ignored(
    make_request: Any, h11_parse: Any, text_file: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    outside = tmp_path / "secret.gz"
    outside.write_bytes(b"SECRET")
    text_file.with_name(text_file.name + ".gz").symlink_to(outside)
    resp = await answer(make_request, h11_parse, FileResponse(text_file), Accept_Encoding="gzip")
    assert resp.body == text_file.read_bytes()
    assert resp.header("Content-Encoding") is None
    assert resp.header("Vary") is None


async def test_only_the_sibling_exists(
    make_request: Any, h11_parse: Any, tmp_path: pathlib.Path
) -> None:
    path = tmp_path / "only.css"
    _sibling(path, ".gz", b"packed")
    served = await answer(make_request, h11_parse, FileResponse(path), Accept_Encoding="gzip")
    assert served.status == 200 and served.body == b"packed"
    assert served.header("Content-Type") == "text/css; charset=utf-8"
    missing = await answer(make_request, h11_parse, FileResponse(path))
    assert missing.status == 404


async def test_vary_is_merged(make_request: Any, h11_parse: Any, text_file: pathlib.Path) -> None:
    _sibling(text_file, ".gz", b"GZ")
    resp = await answer(
        make_request,
        h11_parse,
        FileResponse(text_file, headers={"Vary": "Origin"}),
        Accept_Encoding="gzip",
    )
    assert resp.header("Vary") == "Origin, Accept-Encoding"


async def test_range_of_compressed_sibling(
    make_request: Any, h11_parse: Any, text_file: pathlib.Path
) -> None:
    _sibling(text_file, ".gz", b"0123456789")
    resp = await answer(
        make_request, h11_parse, FileResponse(text_file), Accept_Encoding="gzip", Range="bytes=2-4"
    )
    assert resp.status == 206
    assert resp.body == b"234"
    assert resp.header("Content-Range") == "bytes 2-4/10"


# -- compression on the fly --------------------------------------------------------------


async def test_enable_compression_streams_compressed(
    make_request: Any, h11_parse: Any, text_file: pathlib.Path
) -> None:
    file_resp = FileResponse(text_file, chunk_size=100)
    file_resp.enable_compression()
    resp = await answer(make_request, h11_parse, file_resp, Accept_Encoding="gzip")
    assert resp.header("Content-Encoding") == "gzip"
    assert resp.header("Content-Length") is None
    assert gzip.decompress(resp.body) == text_file.read_bytes()


async def test_precompressed_is_not_compressed_again(
    make_request: Any, h11_parse: Any, text_file: pathlib.Path
) -> None:
    packed = gzip.compress(text_file.read_bytes())
    _sibling(text_file, ".gz", packed)
    file_resp = FileResponse(text_file)
    file_resp.enable_compression()
    resp = await answer(make_request, h11_parse, file_resp, Accept_Encoding="gzip")
    assert resp.body == packed
    assert resp.header("Content-Length") == str(len(packed))


async def test_file_is_closed(
    make_request: Any, data_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Any] = []
    original = FileResponse._open

    def spy(self: FileResponse, accept: str) -> Any:
        result = original(self, accept)
        assert result is not None
        opened.append(result.fobj)
        return result

    monkeypatch.setattr(FileResponse, "_open", spy)
    request = make_request(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
    resp = FileResponse(data_file)
    await resp.prepare(request)
    await resp.write_eof()
    while _fileresponse._CLOSE_FUTURES:
        await next(iter(_fileresponse._CLOSE_FUTURES))
    assert opened and opened[0].closed


async def test_cancelled_prepare_closes_the_file(
    make_request: Any, data_file: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Any] = []
    release = threading.Event()
    original = FileResponse._open

    def slow_open(self: FileResponse, accept: str) -> Any:
        release.wait(5)  # still opening when the request is cancelled
        result = original(self, accept)
        assert result is not None
        opened.append(result.fobj)
        return result

    monkeypatch.setattr(FileResponse, "_open", slow_open)
    request = make_request(b"GET /f HTTP/1.1\r\nHost: x\r\n\r\n")
    task = asyncio.ensure_future(FileResponse(data_file).prepare(request))
    await asyncio.sleep(0.05)
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if opened and opened[0].closed:
            break
        await asyncio.sleep(0.01)
    assert opened and opened[0].closed
    assert request.protocol.transport.data() == b""  # nothing was sent
