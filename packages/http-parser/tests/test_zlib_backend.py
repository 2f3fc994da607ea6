"""set_zlib_backend: a swappable zlib-compatible module behind the gzip and deflate codings.

The replacement backend here is a test-only module that forwards to the standard library's
zlib, records every call, and raises its own ``error`` class (as ISA-L and zlib-ng do), so
the tests see which backend each coder really used.
"""

from __future__ import annotations

import gzip
import types
import zlib
from collections.abc import Iterator
from typing import Any

import pytest

from aioloom.http import (
    Compressor,
    ContentEncodingError,
    Decompressor,
    set_zlib_backend,
)
from aioloom.http._zlib_backend import get_zlib_backend

PAYLOAD = b"aioloom zlib backend " * 500


class FakeZlibError(Exception):
    """The fake backend's own ``error``: not a ``zlib.error``."""


class _RecordingCompress:
    def __init__(self, obj: Any, calls: list[tuple[str, Any]]) -> None:
        self._obj, self._calls = obj, calls

    def compress(self, data: bytes, /) -> bytes:
        self._calls.append(("compress", len(data)))
        out: bytes = self._obj.compress(data)
        return out

    def flush(self, mode: int = zlib.Z_FINISH, /) -> bytes:
        self._calls.append(("flush", mode))
        out: bytes = self._obj.flush(mode)
        return out


class _RecordingDecompress:
    def __init__(self, obj: Any, calls: list[tuple[str, Any]]) -> None:
        self._obj, self._calls = obj, calls

    eof = property(lambda self: self._obj.eof)
    unconsumed_tail = property(lambda self: self._obj.unconsumed_tail)
    unused_data = property(lambda self: self._obj.unused_data)

    def decompress(self, data: bytes, /, max_length: int = 0) -> bytes:
        self._calls.append(("decompress", len(data)))
        try:
            out: bytes = self._obj.decompress(data, max_length)
        except zlib.error as exc:
            raise FakeZlibError(str(exc)) from None
        return out

    def flush(self, length: int = zlib.DEF_BUF_SIZE, /) -> bytes:
        out: bytes = self._obj.flush(length)
        return out


def make_fake_backend(max_level: int = 9) -> types.ModuleType:
    """A zlib-compatible module (levels up to ``max_level``) that records its calls."""
    module = types.ModuleType("fake_zlib")
    calls: list[tuple[str, Any]] = []

    def compressobj(**options: int) -> _RecordingCompress:
        calls.append(("compressobj", dict(options)))
        if options.get("level", -1) > max_level:
            raise FakeZlibError(f"level above {max_level}")
        real = zlib.compressobj(
            level=options.get("level", zlib.Z_DEFAULT_COMPRESSION),
            wbits=options.get("wbits", zlib.MAX_WBITS),
            strategy=options.get("strategy", zlib.Z_DEFAULT_STRATEGY),
        )
        return _RecordingCompress(real, calls)

    def decompressobj(wbits: int = zlib.MAX_WBITS) -> _RecordingDecompress:
        calls.append(("decompressobj", wbits))
        return _RecordingDecompress(zlib.decompressobj(wbits), calls)

    module.__dict__.update(
        calls=calls,
        compressobj=compressobj,
        decompressobj=decompressobj,
        error=FakeZlibError,
        MAX_WBITS=zlib.MAX_WBITS,
        Z_BEST_SPEED=zlib.Z_BEST_SPEED,
        Z_SYNC_FLUSH=zlib.Z_SYNC_FLUSH,
        Z_FULL_FLUSH=zlib.Z_FULL_FLUSH,
        Z_FINISH=zlib.Z_FINISH,
    )
    return module


def _calls(backend: types.ModuleType) -> list[tuple[str, Any]]:
    calls: list[tuple[str, Any]] = backend.calls
    return calls


@pytest.fixture(autouse=True)
def restore_backend() -> Iterator[None]:
    yield
    set_zlib_backend(zlib)


@pytest.fixture
def fake() -> types.ModuleType:
    backend = make_fake_backend()
    set_zlib_backend(backend)
    return backend


def _raw_deflate(data: bytes) -> bytes:
    enc = zlib.compressobj(wbits=-zlib.MAX_WBITS)  # RFC 1951 without the RFC 1950 wrapper
    return enc.compress(data) + enc.flush()


def _decode(encoding: str, blob: bytes, step: int = 100) -> bytes:
    dec = Decompressor(encoding)
    parts = [dec.decompress(blob[i : i + step]) for i in range(0, len(blob), step)]
    return b"".join(parts) + dec.flush()


def test_default_backend_is_stdlib_zlib() -> None:
    assert get_zlib_backend() is zlib


def test_set_stdlib_zlib_round_trips() -> None:
    set_zlib_backend(zlib)
    enc = Compressor("gzip")
    blob = enc.compress(PAYLOAD) + enc.flush()
    assert gzip.decompress(blob) == PAYLOAD
    assert _decode("gzip", blob) == PAYLOAD


@pytest.mark.parametrize(("encoding", "wbits"), [("gzip", 31), ("deflate", 15)])
def test_compressor_uses_backend(fake: types.ModuleType, encoding: str, wbits: int) -> None:
    enc = Compressor(encoding, level=5)
    blob = enc.compress(PAYLOAD) + enc.flush(final=False) + enc.flush()
    assert _calls(fake)[0] == ("compressobj", {"wbits": wbits, "level": 5})
    assert ("flush", zlib.Z_SYNC_FLUSH) in _calls(fake)
    assert zlib.decompress(blob, wbits) == PAYLOAD


def test_compressor_defaults_left_to_backend(fake: types.ModuleType) -> None:
    Compressor("deflate")
    assert _calls(fake) == [("compressobj", {"wbits": zlib.MAX_WBITS})]


def test_compressor_passes_strategy(fake: types.ModuleType) -> None:
    Compressor("gzip", strategy=zlib.Z_FILTERED)
    assert _calls(fake)[0][1]["strategy"] == zlib.Z_FILTERED


def test_level_refused_by_backend_is_value_error() -> None:
    set_zlib_backend(make_fake_backend(max_level=3))
    assert Compressor("gzip", level=3).encoding == "gzip"
    with pytest.raises(ValueError, match="level above 3"):
        Compressor("gzip", level=9)


@pytest.mark.parametrize(
    ("encoding", "blob", "wbits"),
    [
        ("gzip", gzip.compress(PAYLOAD), 31),
        ("deflate", zlib.compress(PAYLOAD), 15),
        ("deflate", _raw_deflate(PAYLOAD), -15),
    ],
)
def test_decompressor_uses_backend(
    fake: types.ModuleType, encoding: str, blob: bytes, wbits: int
) -> None:
    assert _decode(encoding, blob) == PAYLOAD
    assert _calls(fake)[0] == ("decompressobj", wbits)
    assert any(name == "decompress" for name, _ in _calls(fake))


def test_backend_error_becomes_content_encoding_error(fake: types.ModuleType) -> None:
    # The fake raises its own error class: catching only zlib.error would let it escape.
    blob = bytearray(gzip.compress(PAYLOAD))
    blob[20:40] = b"\xff" * 20
    with pytest.raises(ContentEncodingError, match="corrupt stream"):
        _decode("gzip", bytes(blob), step=len(blob))


def test_every_gzip_member_uses_the_backend(fake: types.ModuleType) -> None:
    blob = gzip.compress(b"one") + gzip.compress(b"two")
    assert _decode("gzip", blob, step=len(blob)) == b"onetwo"
    assert [c for c in _calls(fake) if c[0] == "decompressobj"] == [("decompressobj", 31)] * 2


def test_swap_affects_new_objects_only() -> None:
    enc_before = Compressor("gzip")
    dec_before = Decompressor("gzip")
    backend = make_fake_backend()
    set_zlib_backend(backend)

    blob = enc_before.compress(PAYLOAD) + enc_before.flush()
    # Two members: the second member's decompressobj is made after the swap, and must still
    # come from the backend this stream started with.
    two = blob + gzip.compress(b"tail")
    assert dec_before.decompress(two) + dec_before.flush() == PAYLOAD + b"tail"
    assert _calls(backend) == []

    enc_after = Compressor("gzip")
    assert gzip.decompress(enc_after.compress(PAYLOAD) + enc_after.flush()) == PAYLOAD
    assert _calls(backend)[0][0] == "compressobj"


def test_swap_back_to_zlib() -> None:
    backend = make_fake_backend()
    set_zlib_backend(backend)
    set_zlib_backend(zlib)
    assert _decode("gzip", gzip.compress(PAYLOAD)) == PAYLOAD
    assert _calls(backend) == []


@pytest.mark.parametrize("missing", ["compressobj", "decompressobj", "error", "MAX_WBITS"])
def test_incomplete_backend_rejected(missing: str) -> None:
    backend = make_fake_backend()
    delattr(backend, missing)
    with pytest.raises(TypeError, match=f"fake_zlib is not a zlib-compatible backend.*{missing}"):
        set_zlib_backend(backend)
    assert get_zlib_backend() is zlib


def test_non_module_rejected() -> None:
    with pytest.raises(TypeError, match="not a zlib-compatible backend"):
        set_zlib_backend(object())
    assert get_zlib_backend() is zlib
