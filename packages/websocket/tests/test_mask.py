from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioloom.websocket import _mask
from aioloom.websocket._mask import websocket_mask, websocket_mask_python


def _reference(mask: bytes, data: bytes) -> bytes:
    # RFC 6455 §5.3, literally.
    return bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))


def test_rfc_example() -> None:
    # RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
    masked = bytes.fromhex("7f9f4d5158")
    assert websocket_mask_python(bytes.fromhex("37fa213d"), masked) == b"Hello"


@given(mask=st.binary(min_size=4, max_size=4), data=st.binary(max_size=300))
def test_matches_reference(mask: bytes, data: bytes) -> None:
    assert websocket_mask_python(mask, data) == _reference(mask, data)


@given(mask=st.binary(min_size=4, max_size=4), data=st.binary(max_size=300))
def test_is_an_involution(mask: bytes, data: bytes) -> None:
    assert websocket_mask(mask, websocket_mask(mask, data)) == data


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 125, 126, 65535, 65536, 1 << 20])
def test_sizes(size: int) -> None:
    data = os.urandom(size)
    mask = b"\x01\x80\xff\x00"
    assert websocket_mask_python(mask, data) == _reference(mask, data)


def test_leading_and_trailing_zero_bytes_survive() -> None:
    # Integers drop leading zeros; the result must keep the payload's length.
    assert websocket_mask_python(b"\x00\x00\x00\x00", b"\x00\x00\x00") == b"\x00\x00\x00"
    assert websocket_mask_python(b"\xff\x00\x00\x00", b"\xff\x00\x00\x00") == bytes(4)


def test_accepts_bytearray_and_memoryview() -> None:
    mask = b"abcd"
    expected = _reference(mask, b"payload")
    assert websocket_mask_python(mask, bytearray(b"payload")) == expected
    assert websocket_mask_python(mask, memoryview(b"payload")) == expected


@pytest.mark.parametrize("mask", [b"", b"abc", b"abcde"])
def test_rejects_bad_key(mask: bytes) -> None:
    with pytest.raises(ValueError, match="4 bytes"):
        websocket_mask_python(mask, b"data")


def test_accelerator_seam_is_used_when_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(mask: bytes, data: bytes | bytearray | memoryview) -> bytes:
        return b"accelerated"

    module = types.ModuleType("aioloom.websocket._mask_c")
    module.websocket_mask = fake  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "aioloom.websocket._mask_c", module)
    monkeypatch.delenv("AIOLOOM_NO_EXTENSIONS", raising=False)
    assert _mask._load_accelerator() is fake
    monkeypatch.setenv("AIOLOOM_NO_EXTENSIONS", "1")
    assert _mask._load_accelerator() is None


def test_pure_python_without_accelerator() -> None:
    code = (
        "from aioloom.websocket import _mask;"
        "assert _mask.websocket_mask is _mask.websocket_mask_python"
    )
    env = dict(os.environ, AIOLOOM_NO_EXTENSIONS="1")
    subprocess.run([sys.executable, "-W", "error", "-c", code], check=True, env=env)
