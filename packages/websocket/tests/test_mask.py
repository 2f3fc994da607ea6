"""Payload masking (RFC 6455 §5.3): the pure-Python mask and the compiled one, byte for byte.

Every behaviour test runs against both implementations (ids ``py`` and ``c``). The compiled one
is skipped with a reason when it was not built; it fails instead when it should be there: when
``AIOLOOM_REQUIRE_EXTENSIONS`` is set (CI sets it where a compiler is available) or when the
shared object sits next to ``_mask.py`` but does not import.
"""

from __future__ import annotations

import array
import importlib
import os
import subprocess
import sys
import sysconfig
import types
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioloom.websocket import _mask
from aioloom.websocket._mask import MaskFunction, websocket_mask, websocket_mask_python

EXT_SUFFIX = str(sysconfig.get_config_var("EXT_SUFFIX"))
BUILT = Path(_mask.__file__).with_name(f"_mask_c{EXT_SUFFIX}")


def _compiled_mask() -> MaskFunction:
    try:
        module = importlib.import_module("aioloom.websocket._mask_c")
    except ImportError as exc:
        if os.environ.get("AIOLOOM_REQUIRE_EXTENSIONS"):
            pytest.fail(f"AIOLOOM_REQUIRE_EXTENSIONS is set, the compiled mask is missing: {exc}")
        if BUILT.exists():
            pytest.fail(f"{BUILT.name} was built but does not import: {exc}")
        pytest.skip(
            f"the compiled mask is not built ({BUILT.name} is absent: no C compiler at install "
            "time, or installed with AIOLOOM_NO_EXTENSIONS); reinstall the package to build it, "
            "AIOLOOM_REQUIRE_EXTENSIONS=1 turns this skip into a failure"
        )
    compiled: MaskFunction = module.websocket_mask
    return compiled


@pytest.fixture(scope="module", params=["py", "c"])
def impl(request: pytest.FixtureRequest) -> MaskFunction:
    """The implementation under test (module-scoped, so hypothesis may use it)."""
    return websocket_mask_python if request.param == "py" else _compiled_mask()


def _reference(mask: bytes, data: bytes) -> bytes:
    # RFC 6455 §5.3, literally.
    return bytes(byte ^ mask[i % 4] for i, byte in enumerate(data))


masks = st.binary(min_size=4, max_size=4)


def test_rfc_example(impl: MaskFunction) -> None:
    # RFC 6455 §5.7: "Hello" masked with 37 fa 21 3d.
    masked = bytes.fromhex("7f9f4d5158")
    assert impl(bytes.fromhex("37fa213d"), masked) == b"Hello"


@given(mask=masks, data=st.binary(max_size=300))
def test_matches_reference(impl: MaskFunction, mask: bytes, data: bytes) -> None:
    assert impl(mask, data) == _reference(mask, data)


@given(mask=masks, data=st.binary(max_size=300))
def test_is_an_involution(impl: MaskFunction, mask: bytes, data: bytes) -> None:
    assert impl(mask, impl(mask, data)) == data


@given(
    mask=masks,
    size=st.integers(0, 300),
    offset=st.integers(0, 15),
    backing=st.sampled_from([bytes, bytearray]),
)
def test_any_length_at_any_alignment(
    impl: MaskFunction, mask: bytes, size: int, offset: int, backing: type[bytes]
) -> None:
    # A view that starts `offset` bytes into its buffer: the 8-byte words of the compiled mask
    # are then unaligned, and the payload's first byte still takes the key's first byte.
    data = os.urandom(size)
    view = memoryview(backing(os.urandom(offset) + data + os.urandom(7)))[offset : offset + size]
    assert impl(mask, view) == _reference(mask, data)


def test_every_tail_and_alignment_exhaustively(impl: MaskFunction) -> None:
    mask = b"\x01\x80\xff\x3c"
    buffer = bytes(range(256))
    for offset in range(9):
        for size in range(41):  # every tail length 0..7, several words long
            data = buffer[offset : offset + size]
            view = memoryview(buffer)[offset : offset + size]
            assert impl(mask, view) == _reference(mask, data), (offset, size)


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 7, 8, 9, 125, 126, 65535, 65536, 1 << 20])
def test_sizes(impl: MaskFunction, size: int) -> None:
    data = os.urandom(size)
    mask = b"\x01\x80\xff\x00"
    assert impl(mask, data) == _reference(mask, data)


@pytest.mark.parametrize("size", [(1 << 24) + 5, 3 * (1 << 20) + 2])
def test_large_inputs(impl: MaskFunction, size: int) -> None:
    # Too long for the byte loop: checked against the integer formulation of §5.3 instead,
    # written here independently of both implementations.
    data = os.urandom(size)
    mask = os.urandom(4)
    key = int.from_bytes(mask * (size // 4 + 1), "little") & ((1 << (8 * size)) - 1)
    expected = (int.from_bytes(data, "little") ^ key).to_bytes(size, "little")
    masked = impl(mask, data)
    assert masked == expected
    assert impl(mask, masked) == data


@pytest.mark.parametrize("size", range(1020, 1030))
@pytest.mark.parametrize("mask", [b"\x01\x80\xff\x00", b"\xff\xff\xff\xff", bytes(4)])
def test_both_key_builders_around_their_switch(impl: MaskFunction, size: int, mask: bytes) -> None:
    # Below 1 KiB the pure mask builds the repeated key from bytes, from there by a
    # multiplication whose result has up to 3 bytes more than the payload: every length
    # modulo 4, on both sides.
    data = os.urandom(size)
    assert impl(mask, data) == _reference(mask, data)
    assert impl(mask, bytes(size)) == _reference(mask, bytes(size))


def test_leading_and_trailing_zero_bytes_survive(impl: MaskFunction) -> None:
    # Integers drop leading zeros; the result must keep the payload's length.
    assert impl(b"\x00\x00\x00\x00", b"\x00\x00\x00") == b"\x00\x00\x00"
    assert impl(b"\xff\x00\x00\x00", b"\xff\x00\x00\x00") == bytes(4)
    assert impl(b"\xff\xff\xff\xff", b"\xff" * 4097) == bytes(4097)


def test_accepts_bytearray_and_memoryview(impl: MaskFunction) -> None:
    mask = b"abcd"
    expected = _reference(mask, b"payload")
    assert impl(mask, bytearray(b"payload")) == expected
    assert impl(mask, memoryview(b"payload")) == expected
    assert impl(bytearray(mask), b"payload") == expected
    assert impl(memoryview(b"__abcd")[2:], memoryview(bytearray(b"payload"))) == expected


def test_returns_new_bytes_and_leaves_the_input_alone(impl: MaskFunction) -> None:
    data = bytearray(b"some payload bytes")
    masked = impl(b"\x01\x02\x03\x04", data)
    assert type(masked) is bytes
    assert data == bytearray(b"some payload bytes")
    assert type(impl(b"abcd", bytearray())) is bytes


@given(
    mask=masks,
    data=st.binary(max_size=200),
    start=st.integers(0, 10),
    step=st.integers(-4, 4).filter(bool),
)
def test_non_contiguous_views_read_like_bytes(
    impl: MaskFunction, mask: bytes, data: bytes, start: int, step: int
) -> None:
    # A strided view is masked as bytes(view) would read it.
    view = memoryview(data)[start::step]
    assert impl(mask, view) == _reference(mask, bytes(view))


def test_wide_items_are_counted_in_bytes(impl: MaskFunction) -> None:
    # len() of these views counts 4-byte items or rows; the mask covers every byte.
    items = array.array("i", [1, -2, 3, 1 << 20, 5])
    mask = b"\x10\x20\x30\x40"
    expected = _reference(mask, items.tobytes())
    assert impl(mask, items) == expected  # type: ignore[arg-type]
    assert impl(mask, memoryview(items)) == _reference(mask, items.tobytes())
    grid = memoryview(bytes(range(24))).cast("B", (2, 3, 4))
    assert impl(mask, grid) == _reference(mask, grid.tobytes())
    assert impl(memoryview(mask).cast("B", (2, 2)), b"xyz") == _reference(mask, b"xyz")


@pytest.mark.parametrize("mask", [b"", b"abc", b"abcde", bytearray(8), memoryview(b"abcdef")[1:]])
def test_rejects_bad_key(impl: MaskFunction, mask: bytes) -> None:
    with pytest.raises(ValueError, match="4 bytes, got"):
        impl(mask, b"data")


@pytest.mark.parametrize("bad", [None, 1234, "abcd", "", [1, 2, 3, 4], object()])
def test_rejects_what_is_not_bytes_like(impl: MaskFunction, bad: object) -> None:
    with pytest.raises(TypeError):
        impl(b"abcd", bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        impl(bad, b"data")  # type: ignore[arg-type]


def test_rejects_wrong_argument_counts(impl: MaskFunction) -> None:
    call: types.FunctionType = impl  # type: ignore[assignment]
    with pytest.raises(TypeError):
        call(b"abcd")
    with pytest.raises(TypeError):
        call(b"abcd", b"data", b"more")
    with pytest.raises(TypeError):
        call(mask=b"abcd", data=b"data")  # positional-only, as in the Python signature


def test_buffers_are_released_on_every_path(impl: MaskFunction) -> None:
    # A bytearray cannot be resized while a buffer export of it is held: after each call,
    # successful or not, resizing must work.
    key, data = bytearray(b"abcd"), bytearray(b"payload")
    impl(key, data)
    with pytest.raises(ValueError):
        impl(bytearray(b"abc"), data)
    with pytest.raises(TypeError):
        impl(key, "not bytes")  # type: ignore[arg-type]
    impl(key, memoryview(data)[::2])
    key.append(0)
    data.extend(b"!")
    del key[:], data[:]


def test_selected_implementation() -> None:
    # The public name is the compiled mask when it is importable, else the Python one.
    try:
        compiled = importlib.import_module("aioloom.websocket._mask_c").websocket_mask
    except ImportError:
        compiled = None
    if os.environ.get("AIOLOOM_NO_EXTENSIONS") or compiled is None:
        assert websocket_mask is websocket_mask_python
    else:
        assert websocket_mask is compiled


def test_accelerator_seam_is_used_when_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake(mask: bytes | bytearray | memoryview, data: bytes | bytearray | memoryview) -> bytes:
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
