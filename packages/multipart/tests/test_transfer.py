"""Part codings: incremental transfer decoding/encoding and bounded content decoding."""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioloom.http import ContentEncodingError, DecompressSizeError
from aioloom.multipart._exceptions import PartDecodeError, UnknownPartEncoding
from aioloom.multipart._transfer import (
    PartDecoder,
    PartEncoder,
    normalize_content_encoding,
    normalize_transfer_encoding,
)


def decode_in_pieces(decoder: PartDecoder, data: bytes, cuts: list[int]) -> bytes:
    out: list[bytes] = []
    last = 0
    for cut in [*sorted(cuts), len(data)]:
        for piece in decoder.feed(data[last:cut]):
            assert piece
            out.append(piece)
        last = max(last, cut)
    out.extend(decoder.flush())
    return b"".join(out)


def encode_in_pieces(encoder: PartEncoder, data: bytes, size: int) -> bytes:
    pieces = [encoder.feed(data[i : i + size]) for i in range(0, len(data), size)]
    return b"".join([*pieces, encoder.flush()])


SAMPLE = bytes(range(256)) * 3 + "Grüße, ça va? ==\r\n trailing  \r\n".encode() * 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("BASE64", "base64"), (" Quoted-Printable ", "quoted-printable")]
    + [(name, None) for name in ("binary", "8bit", "7BIT")],
)
def test_normalize_transfer_encoding(value: str | None, expected: str | None) -> None:
    assert normalize_transfer_encoding(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, None), ("GZIP", "gzip"), ("deflate", "deflate"), ("identity", None)],
)
def test_normalize_content_encoding(value: str | None, expected: str | None) -> None:
    assert normalize_content_encoding(value) == expected


@pytest.mark.parametrize("value", ["uuencode", "x-token", ""])
def test_unknown_transfer_encoding(value: str) -> None:
    with pytest.raises(UnknownPartEncoding, match="unknown content transfer encoding") as info:
        PartDecoder(value, None)
    assert isinstance(info.value, RuntimeError)
    assert isinstance(info.value, ValueError)
    assert info.value.code == 400
    with pytest.raises(UnknownPartEncoding):
        PartEncoder(value, None)


@pytest.mark.parametrize("value", ["br", "compress", "zstd", ""])
def test_unknown_content_encoding(value: str) -> None:
    with pytest.raises(UnknownPartEncoding, match="unknown content encoding"):
        PartDecoder(None, value)


def test_base64_split_at_every_position() -> None:
    encoded = base64.encodebytes(SAMPLE).replace(b"\n", b"\r\n")
    for cut in range(len(encoded) + 1):
        assert decode_in_pieces(PartDecoder("base64", None), encoded, [cut]) == SAMPLE


def test_quoted_printable_split_at_every_position() -> None:
    encoded = binascii.b2a_qp(SAMPLE, istext=False)
    assert b"=" in encoded
    for cut in range(len(encoded) + 1):
        assert decode_in_pieces(PartDecoder("quoted-printable", None), encoded, [cut]) == SAMPLE


def test_quoted_printable_soft_line_break_split() -> None:
    encoded = b"abc=\r\ndef=3D=\r\n"
    for cut in range(len(encoded) + 1):
        assert decode_in_pieces(PartDecoder("quoted-printable", None), encoded, [cut]) == (
            b"abcdef="
        )


@pytest.mark.parametrize("data", [b"not*base64", b"QUJD=QUJD", b"QQ=A"])
def test_corrupt_base64(data: bytes) -> None:
    with pytest.raises(PartDecodeError) as info:
        decode_in_pieces(PartDecoder("base64", None), data, [])
    assert info.value.code == 400


def test_truncated_base64() -> None:
    decoder = PartDecoder("base64", None)
    assert list(decoder.feed(b"QUJDR")) == [b"ABC"]
    with pytest.raises(PartDecodeError, match="Truncated"):
        list(decoder.flush())


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as aiohttp writes
        ("deflate", zlib.compress),  # zlib-wrapped, as RFC 9110 §8.4.1.2 describes
    ],
)
def test_content_encodings_split_at_many_positions(coding: str, compress: object) -> None:
    data = SAMPLE * 20
    compressed = compress(data)  # type: ignore[operator]
    for cut in range(0, len(compressed) + 1, 7):
        assert decode_in_pieces(PartDecoder(None, coding), compressed, [cut]) == data


def test_transfer_then_content_decoding() -> None:
    data = SAMPLE * 10
    encoded = base64.b64encode(gzip.compress(data))
    assert decode_in_pieces(PartDecoder("base64", "gzip"), encoded, [5, 100, 101]) == data


def test_decompression_is_bounded() -> None:
    bomb = gzip.compress(b"\x00" * 5_000_000)
    decoder = PartDecoder(None, "gzip", max_size=1_000_000)
    total = 0
    with pytest.raises(DecompressSizeError) as info:
        for piece in decoder.feed(bomb):
            assert len(piece) <= 2**16
            total += len(piece)
    assert total <= 1_000_000
    assert info.value.code == 400


def test_corrupt_and_truncated_compressed_data() -> None:
    with pytest.raises(ContentEncodingError):
        decode_in_pieces(PartDecoder(None, "gzip"), b"\x1f\x8bnot gzip at all", [])
    with pytest.raises(ContentEncodingError, match="truncated"):
        decode_in_pieces(PartDecoder(None, "gzip"), gzip.compress(SAMPLE)[:-10], [])


def test_identity_passes_bytes_through() -> None:
    decoder = PartDecoder("8bit", "identity")
    assert list(decoder.feed(b"abc")) == [b"abc"]
    assert list(decoder.feed(b"")) == []
    assert list(decoder.flush()) == []


# -- encoders ---------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(
    data=st.binary(max_size=2000),
    size=st.integers(min_value=1, max_value=300),
    transfer=st.sampled_from([None, "base64", "quoted-printable", "binary"]),
    coding=st.sampled_from([None, "gzip", "deflate", "identity"]),
)
def test_encoder_decoder_round_trip(
    data: bytes, size: int, transfer: str | None, coding: str | None
) -> None:
    encoded = encode_in_pieces(PartEncoder(transfer, coding), data, size)
    assert decode_in_pieces(PartDecoder(transfer, coding), encoded, [size]) == data
    if transfer is not None and transfer != "binary":
        # RFC 2045 §6.7 rule 5, §6.8: lines of at most 76 characters, CRLF line breaks.
        assert all(len(line) <= 76 for line in encoded.split(b"\r\n"))
        assert b"\n" not in encoded.replace(b"\r\n", b"")
    if transfer == "base64":
        assert not encoded.endswith(b"\r\n")  # the part's CRLF follows in the body


def test_base64_encoder_output_is_standard() -> None:
    encoded = encode_in_pieces(PartEncoder("base64", None), SAMPLE, 10)
    assert base64.b64decode(encoded) == SAMPLE
    assert encoded.split(b"\r\n")[0] == base64.b64encode(SAMPLE[:57])


def test_quoted_printable_encoder_keeps_hard_line_breaks() -> None:
    encoded = encode_in_pieces(PartEncoder("quoted-printable", None), b"a=b \r\nc\td\r\n", 3)
    assert encoded == b"a=3Db=20\r\nc\td\r\n"
    assert binascii.a2b_qp(encoded) == b"a=b \r\nc\td\r\n"


def test_quoted_printable_encoder_cuts_a_long_line() -> None:
    data = b"x" * 10_000
    encoded = encode_in_pieces(PartEncoder("quoted-printable", None), data, 10_000)
    assert max(len(line) for line in encoded.split(b"\r\n")) <= 76
    assert binascii.a2b_qp(encoded) == data


def test_deflate_encoder_writes_raw_deflate() -> None:
    encoded = encode_in_pieces(PartEncoder(None, "deflate"), SAMPLE, 100)
    assert zlib.decompress(encoded, -zlib.MAX_WBITS) == SAMPLE


def test_gzip_encoder() -> None:
    assert gzip.decompress(encode_in_pieces(PartEncoder(None, "gzip"), SAMPLE, 100)) == SAMPLE
