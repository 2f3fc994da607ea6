"""Tests of aioloom.http._codings: bounded decoding, encoding, availability."""

from __future__ import annotations

import gzip
import importlib
import os
import subprocess
import sys
import tracemalloc
import zlib
from collections.abc import Callable, Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioloom.http import _codings
from aioloom.http._codings import (
    SUPPORTED_ENCODINGS,
    Compressor,
    Decompressor,
    accept_encoding,
)
from aioloom.http._exceptions import ContentEncodingError, DecompressSizeError

ALL_CODINGS = ("gzip", "deflate", "br", "zstd")
AVAILABLE = [name for name in ALL_CODINGS if name in SUPPORTED_ENCODINGS]
MiB = 2**20


def _brotli() -> object:
    return importlib.import_module("brotli")


def _zstd_module() -> object:
    if sys.version_info >= (3, 14):
        return importlib.import_module("compression.zstd")
    return importlib.import_module("backports.zstd")


def coding_param(name: str) -> object:
    marks = []
    if name not in SUPPORTED_ENCODINGS:
        marks.append(pytest.mark.skip(reason=f"{name} is not available in this interpreter"))
    return pytest.param(name, marks=marks, id=name)


CODINGS = [coding_param(name) for name in ALL_CODINGS]


def compress(encoding: str, data: bytes, level: int | None = None) -> bytes:
    enc = Compressor(encoding, level=level)
    return enc.compress(data) + enc.flush()


def drain(dec: Decompressor, data: bytes, step: int) -> Iterator[bytes]:
    """Feed ``data`` in ``step``-byte pieces the way a body stream does, pulling as needed."""
    for start in range(0, len(data), step):
        out = dec.decompress(data[start : start + step])
        while True:
            yield out
            if dec.needs_input:
                break
            out = dec.decompress(b"")
    yield dec.flush()


def decode_all(encoding: str, data: bytes, *, step: int = 4096, max_output: int = 4096) -> bytes:
    dec = Decompressor(encoding, max_output=max_output)
    pieces = list(drain(dec, data, step))
    assert all(len(piece) <= max_output for piece in pieces[:-1])
    return b"".join(pieces)


PAYLOAD = b"".join(b"line %d of a fairly compressible body\n" % i for i in range(5000))
PAYLOAD += os.urandom(20000)


# -- availability ---------------------------------------------------------------------------


def test_supported_encodings_always_has_zlib_codings() -> None:
    assert {"gzip", "x-gzip", "deflate"} <= SUPPORTED_ENCODINGS
    assert isinstance(SUPPORTED_ENCODINGS, frozenset)


def test_supported_encodings_follows_installed_libraries() -> None:
    try:
        brotli = _brotli()
    except ImportError:
        brotli = None
    has_br = brotli is not None and hasattr(brotli.Decompressor(), "can_accept_more_data")  # type: ignore[attr-defined]
    assert ("br" in SUPPORTED_ENCODINGS) is has_br
    try:
        _zstd_module()
        has_zstd = True
    except ImportError:
        has_zstd = False
    assert ("zstd" in SUPPORTED_ENCODINGS) is has_zstd


def test_accept_encoding_lists_what_decodes_in_preference_order() -> None:
    expected = ", ".join(name for name in ALL_CODINGS if name in SUPPORTED_ENCODINGS)
    assert accept_encoding() == expected
    assert accept_encoding().startswith("gzip, deflate")


@pytest.mark.parametrize(
    ("blocked", "expected"),
    [
        (("brotli", "backports.zstd", "compression.zstd"), "gzip, deflate"),
        (("backports.zstd", "compression.zstd"), None),
    ],
)
def test_accept_encoding_without_optional_libraries(
    blocked: tuple[str, ...], expected: str | None
) -> None:
    # A fresh interpreter in which the optional libraries cannot be imported.
    code = (
        "import sys\n"
        f"for name in {blocked!r}: sys.modules[name] = None\n"
        "from aioloom.http._codings import accept_encoding, SUPPORTED_ENCODINGS\n"
        "print(accept_encoding()); print(sorted(SUPPORTED_ENCODINGS))\n"
    )
    result = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=True,
    )
    advertised = result.stdout.splitlines()[0]
    assert "zstd" not in advertised
    if expected is not None:
        assert advertised == expected
    else:
        assert advertised in ("gzip, deflate", "gzip, deflate, br")


# -- round trips ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", CODINGS)
@pytest.mark.parametrize("step", [1, 7, 4096, 1 << 20])
def test_round_trip_in_pieces(encoding: str, step: int) -> None:
    data = PAYLOAD if step > 1 else PAYLOAD[:3000]
    blob = compress(encoding, data)
    assert decode_all(encoding, blob, step=step) == data


@pytest.mark.parametrize("encoding", CODINGS)
def test_round_trip_empty_payload(encoding: str) -> None:
    blob = compress(encoding, b"")
    assert blob  # a coded empty body still has a header and a trailer
    assert decode_all(encoding, blob) == b""


@pytest.mark.parametrize("encoding", CODINGS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    payload=st.binary(max_size=3000)
    | st.builds(lambda b, n: b * n, st.binary(min_size=1, max_size=20), st.integers(1, 500)),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=6),
    max_output=st.integers(min_value=1, max_value=5000),
)
def test_round_trip_any_payload_any_split(
    encoding: str, payload: bytes, cuts: list[int], max_output: int
) -> None:
    blob = compress(encoding, payload)
    points = sorted({min(cut, len(blob)) for cut in cuts} | {0, len(blob)})
    dec = Decompressor(encoding, max_output=max_output)
    out: list[bytes] = []
    for start, end in zip(points, points[1:], strict=False):
        piece = dec.decompress(blob[start:end])
        assert len(piece) <= max_output
        out.append(piece)
        while not dec.needs_input:
            piece = dec.decompress(b"")
            assert len(piece) <= max_output
            out.append(piece)
    out.append(dec.flush())
    assert b"".join(out) == payload
    assert dec.eof
    assert dec.total_out == len(payload)


@pytest.mark.parametrize("encoding", CODINGS)
def test_flush_returns_what_was_not_pulled(encoding: str) -> None:
    blob = compress(encoding, PAYLOAD)
    dec = Decompressor(encoding, max_output=100)
    first = dec.decompress(blob)
    assert len(first) == 100
    assert not dec.needs_input
    assert first + dec.flush() == PAYLOAD


@pytest.mark.parametrize("data_type", [bytearray, memoryview])
def test_accepts_bytes_like_input(data_type: Callable[[bytes], object]) -> None:
    blob = compress("gzip", PAYLOAD)
    dec = Decompressor("gzip", max_output=1 << 30)
    out = dec.decompress(data_type(blob[:10]))  # type: ignore[arg-type]
    out += dec.decompress(data_type(blob[10:]))  # type: ignore[arg-type]
    assert out + dec.flush() == PAYLOAD


# -- gzip -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["gzip", "x-gzip", "GZIP", " X-Gzip "])
def test_gzip_from_stdlib_and_its_aliases(name: str) -> None:
    blob = gzip.compress(PAYLOAD, mtime=0)
    dec = Decompressor(name)
    assert dec.encoding == "gzip"
    assert decode_all(name, blob) == PAYLOAD


def test_gzip_members_in_sequence_are_all_decoded() -> None:
    # RFC 1952 §2.2: a gzip file is a series of members.
    blob = gzip.compress(b"first ") + gzip.compress(b"second ") + gzip.compress(b"third")
    for step in (1, 3, len(blob)):
        assert decode_all("gzip", blob, step=step) == b"first second third"


@pytest.mark.parametrize("trailer", [b"\n", b"\x00\x00\x00\x00", b"garbage after the end", b"\x1f"])
def test_gzip_trailing_bytes_that_start_no_member_are_ignored(trailer: bytes) -> None:
    blob = gzip.compress(PAYLOAD) + trailer
    for step in (1, len(blob)):
        assert decode_all("gzip", blob, step=step) == PAYLOAD


def test_gzip_bad_second_member_is_an_error() -> None:
    blob = gzip.compress(b"ok") + b"\x1f\x8b\x08garbage-garbage"
    dec = Decompressor("gzip")
    with pytest.raises(ContentEncodingError) as info:
        dec.decompress(blob)
        dec.flush()
    assert info.value.code == 400
    assert "gzip" in info.value.message


# -- deflate ----------------------------------------------------------------------------


def raw_deflate(data: bytes) -> bytes:
    enc = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return enc.compress(data) + enc.flush()


@pytest.mark.parametrize("step", [1, 2, 3, 1000])
def test_deflate_zlib_wrapped(step: int) -> None:
    # RFC 9110 §8.4.1.2: "deflate" is the zlib format.
    assert decode_all("deflate", zlib.compress(PAYLOAD), step=step) == PAYLOAD


@pytest.mark.parametrize("step", [1, 2, 3, 1000])
def test_deflate_raw_as_sent_by_some_servers(step: int) -> None:
    assert decode_all("deflate", raw_deflate(PAYLOAD), step=step) == PAYLOAD


def test_deflate_raw_stream_whose_first_nibble_looks_like_zlib() -> None:
    # A stored, non-final raw block whose padding bit makes the first byte 0x08 (CM=8).
    # Only the header checksum (RFC 1950 §2.2 FCHECK) tells it is not zlib.
    body = b"hello"
    stored = b"\x08" + len(body).to_bytes(2, "little") + (len(body) ^ 0xFFFF).to_bytes(2, "little")
    blob = stored + body + b"\x01\x00\x00\xff\xff"  # final empty stored block
    assert zlib.decompressobj(-zlib.MAX_WBITS).decompress(blob) == body
    assert decode_all("deflate", blob, step=1) == body
    assert decode_all("deflate", blob) == body


def test_deflate_only_one_byte_received_is_truncated() -> None:
    dec = Decompressor("deflate")
    assert dec.decompress(b"\x78") == b""
    assert dec.needs_input
    with pytest.raises(ContentEncodingError, match="deflate.*truncated"):
        dec.flush()


def test_deflate_trailing_bytes_are_ignored() -> None:
    blob = zlib.compress(b"payload") + b"trailing"
    assert decode_all("deflate", blob, step=1) == b"payload"
    assert decode_all("deflate", blob) == b"payload"


# -- zstd -------------------------------------------------------------------------------


@pytest.mark.skipif("zstd" not in SUPPORTED_ENCODINGS, reason="no zstd here")
def test_zstd_frames_in_sequence_and_skippable_frames() -> None:
    module = _zstd_module()
    frame: Callable[[bytes], bytes] = module.compress  # type: ignore[attr-defined]
    skippable = (0x184D2A53).to_bytes(4, "little") + (4).to_bytes(4, "little") + b"meta"
    blob = frame(b"one ") + skippable + frame(b"two") + b"\n"
    for step in (1, 5, len(blob)):
        assert decode_all("zstd", blob, step=step) == b"one two"


@pytest.mark.skipif("zstd" not in SUPPORTED_ENCODINGS, reason="no zstd here")
def test_zstd_window_larger_than_8mb_is_refused() -> None:
    # RFC 9659 §3: zstd content coding uses at most an 8 MB window.
    module = _zstd_module()
    param = module.CompressionParameter  # type: ignore[attr-defined]
    options = {param.window_log: 25}
    enc = module.ZstdCompressor(options=options)  # type: ignore[attr-defined]
    blob = enc.compress(os.urandom(64)) + enc.flush()
    with pytest.raises(ContentEncodingError) as info:
        decode_all("zstd", blob)
    assert info.value.code == 400
    assert "zstd" in info.value.message


# -- bad streams ------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", CODINGS)
@pytest.mark.parametrize("keep", [1, 10, 0.5, -1])
def test_truncated_stream_raises_naming_the_coding(encoding: str, keep: float) -> None:
    blob = compress(encoding, PAYLOAD)
    cut = int(len(blob) * keep) if isinstance(keep, float) else keep
    dec = Decompressor(encoding)
    with pytest.raises(ContentEncodingError) as info:
        list(drain(dec, blob[:cut], 512))
    assert info.value.code == 400
    assert encoding in info.value.message
    assert "truncated" in info.value.message or "corrupt" in info.value.message


@pytest.mark.parametrize("encoding", CODINGS)
def test_corrupt_stream_raises_naming_the_coding(encoding: str) -> None:
    blob = bytearray(compress(encoding, PAYLOAD))
    for index in range(8, len(blob), 97):
        blob[index] ^= 0x5A
    dec = Decompressor(encoding)
    with pytest.raises(ContentEncodingError) as info:
        list(drain(dec, bytes(blob), 1024))
    assert info.value.code == 400
    assert encoding in info.value.message


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "zstd", "br"])
def test_garbage_is_not_a_stream(encoding: str) -> None:
    if encoding not in SUPPORTED_ENCODINGS:
        pytest.skip(f"{encoding} not available")
    dec = Decompressor(encoding)
    with pytest.raises(ContentEncodingError) as info:
        dec.decompress(b"\xff" * 64)
        dec.flush()
    assert info.value.code == 400


@pytest.mark.parametrize("encoding", CODINGS)
def test_empty_body_is_a_valid_empty_body(encoding: str) -> None:
    dec = Decompressor(encoding)
    assert dec.decompress(b"") == b""
    assert dec.needs_input
    assert dec.flush() == b""


@pytest.mark.parametrize("name", ["identity", "compress", "x-compress", "", "gzip;q=1", "bzip2"])
def test_unknown_coding(name: str) -> None:
    with pytest.raises(ContentEncodingError) as info:
        Decompressor(name)
    assert info.value.code == 400
    assert "unknown content coding" in info.value.message
    assert name.strip().lower() in info.value.message


def test_missing_brotli_names_the_install_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_codings, "_BROTLI_DECODES", False)
    with pytest.raises(ContentEncodingError) as info:
        Decompressor("br")
    assert info.value.code == 400
    assert "pip install aioloom-http[speedups]" in info.value.message
    monkeypatch.setattr(_codings, "_brotli", None)
    with pytest.raises(ValueError, match=r"br: pip install aioloom-http\[speedups\]"):
        Compressor("br")


def test_missing_zstd_names_the_remedy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_codings, "_zstd", None)
    with pytest.raises(ContentEncodingError) as info:
        Decompressor("zstd")
    assert info.value.code == 400
    assert "backports.zstd" in info.value.message
    with pytest.raises(ValueError, match="zstd"):
        Compressor("zstd")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"max_output": 0}, "max_output"),
        ({"max_output": -5}, "max_output"),
        ({"max_size": -1}, "max_size"),
    ],
)
def test_bad_bounds(kwargs: dict[str, int], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Decompressor("gzip", **kwargs)


def test_decompress_after_flush_is_an_error() -> None:
    dec = Decompressor("gzip")
    dec.decompress(gzip.compress(b"x"))
    assert dec.flush() == b"x" or dec.eof
    with pytest.raises(RuntimeError, match="after flush"):
        dec.decompress(b"more")
    assert dec.flush() == b""  # flushing twice is harmless


# -- size bounds and zip bombs ----------------------------------------------------------

BOMB_SIZE = 10 * MiB


def bomb(encoding: str) -> bytes:
    return compress(encoding, bytes(BOMB_SIZE), level=None)


@pytest.mark.parametrize("encoding", CODINGS)
def test_every_call_is_bounded_and_the_bomb_decodes_in_pieces(encoding: str) -> None:
    blob = bomb(encoding)
    assert len(blob) < BOMB_SIZE // 100
    dec = Decompressor(encoding, max_output=64 * 1024)
    total = 0
    calls = 0
    for piece in drain(dec, blob, len(blob)):
        assert len(piece) <= 64 * 1024
        assert piece.count(0) == len(piece)
        total += len(piece)
        calls += 1
    assert total == BOMB_SIZE
    assert calls >= BOMB_SIZE // (64 * 1024)


@pytest.mark.parametrize("encoding", CODINGS)
def test_zip_bomb_hits_max_size_without_allocating_it(encoding: str) -> None:
    blob = bomb(encoding)
    max_output = 64 * 1024
    dec = Decompressor(encoding, max_output=max_output, max_size=MiB)
    kept: list[bytes] = []  # the worst caller: keeps every piece
    tracemalloc.start()
    try:
        with pytest.raises(DecompressSizeError) as info:
            for piece in drain(dec, blob, len(blob)):
                kept.append(piece)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.code == 400
    assert str(MiB) in info.value.message
    assert encoding in info.value.message
    assert sum(map(len, kept)) <= MiB
    # The bound plus one call's output, plus the decoder's own state; 10 MiB if unbounded.
    assert peak < MiB + 3 * max_output, peak


@pytest.mark.parametrize("encoding", CODINGS)
def test_max_size_is_inclusive(encoding: str) -> None:
    data = os.urandom(5000)
    blob = compress(encoding, data)
    dec = Decompressor(encoding, max_size=len(data), max_output=1000)
    assert b"".join(drain(dec, blob, 100)) == data
    dec = Decompressor(encoding, max_size=len(data) - 1, max_output=1000)
    with pytest.raises(DecompressSizeError):
        b"".join(drain(dec, blob, 100))


def test_max_size_also_applies_to_flush() -> None:
    blob = gzip.compress(bytes(300_000))
    dec = Decompressor("gzip", max_output=10, max_size=200_000)
    assert len(dec.decompress(blob)) == 10
    with pytest.raises(DecompressSizeError):
        dec.flush()
    assert dec.flush() == b""


# -- compressor -------------------------------------------------------------------------


def test_compressor_gzip_is_readable_by_the_stdlib() -> None:
    enc = Compressor("gzip")
    blob = b"".join(enc.compress(PAYLOAD[i : i + 999]) for i in range(0, len(PAYLOAD), 999))
    blob += enc.flush()
    assert gzip.decompress(blob) == PAYLOAD


def test_compressor_deflate_is_zlib_wrapped() -> None:
    # RFC 9110 §8.4.1.2: deflate = zlib (RFC 1950) around RFC 1951 data.
    blob = compress("deflate", PAYLOAD)
    assert blob[0] & 0x0F == 8 and int.from_bytes(blob[:2], "big") % 31 == 0
    assert zlib.decompress(blob) == PAYLOAD


@pytest.mark.skipif("br" not in SUPPORTED_ENCODINGS, reason="brotli not installed")
def test_compressor_br_is_readable_by_brotli() -> None:
    brotli = _brotli()
    assert brotli.decompress(compress("br", PAYLOAD)) == PAYLOAD  # type: ignore[attr-defined]


@pytest.mark.skipif("zstd" not in SUPPORTED_ENCODINGS, reason="no zstd here")
def test_compressor_zstd_is_readable_by_zstd() -> None:
    module = _zstd_module()
    assert module.decompress(compress("zstd", PAYLOAD)) == PAYLOAD  # type: ignore[attr-defined]


@pytest.mark.parametrize("encoding", CODINGS)
def test_sync_flush_makes_everything_so_far_decodable(encoding: str) -> None:
    enc = Compressor(encoding)
    dec = Decompressor(encoding, max_output=1 << 30)
    first = enc.compress(b"event: one\n\n") + enc.flush(final=False)
    assert dec.decompress(first) == b"event: one\n\n"
    second = enc.compress(b"event: two\n\n") + enc.flush()
    assert dec.decompress(second) + dec.flush() == b"event: two\n\n"


@pytest.mark.parametrize("strategy", [zlib.Z_FILTERED, zlib.Z_HUFFMAN_ONLY, zlib.Z_RLE])
def test_compressor_strategy(strategy: int) -> None:
    plain = compress("deflate", PAYLOAD)
    enc = Compressor("deflate", strategy=strategy)
    blob = enc.compress(PAYLOAD) + enc.flush()
    assert zlib.decompress(blob) == PAYLOAD
    if strategy == zlib.Z_HUFFMAN_ONLY:
        assert len(blob) > len(plain)  # no string matching: the strategy took effect


@pytest.mark.parametrize("level", [0, 1, 9])
def test_compressor_zlib_levels(level: int) -> None:
    assert gzip.decompress(compress("gzip", PAYLOAD, level=level)) == PAYLOAD
    if level == 0:
        assert len(compress("gzip", PAYLOAD, level=0)) > len(PAYLOAD)


@pytest.mark.parametrize(
    ("encoding", "level"),
    [("gzip", 10), ("deflate", -2), ("br", 12), ("br", -1), ("zstd", 20), ("zstd", 22)],
)
def test_compressor_level_out_of_range(encoding: str, level: int) -> None:
    if encoding not in SUPPORTED_ENCODINGS:
        pytest.skip(f"{encoding} not available")
    with pytest.raises(ValueError, match="level"):
        Compressor(encoding, level=level)


@pytest.mark.parametrize("name", ["identity", "compress", "", "lzma"])
def test_compressor_unknown_coding(name: str) -> None:
    with pytest.raises(ValueError, match="unknown coding"):
        Compressor(name)


@pytest.mark.parametrize("encoding", CODINGS)
def test_compressor_is_finished_by_flush(encoding: str) -> None:
    enc = Compressor(encoding)
    enc.compress(b"data")
    assert enc.flush()
    assert enc.flush() == b""
    with pytest.raises(RuntimeError, match="after flush"):
        enc.compress(b"more")
