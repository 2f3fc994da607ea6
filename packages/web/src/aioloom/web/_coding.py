"""Content codings of responses: :class:`ContentCoding` and Accept-Encoding negotiation.

:func:`negotiate_coding` reads an Accept-Encoding value (RFC 9110 §12.5.3) with its
q-values and picks the acceptable coding of highest weight; on equal weight deflate, then
gzip, then br, the order of aiohttp's ``ContentCoding``. ``br`` is offered only when the
``brotli`` package is installed. :func:`compress_body` compresses a whole body at once
(used by :class:`~aioloom.web.Response`, which then knows its Content-Length).
"""

from __future__ import annotations

import enum
from typing import Final

from aioloom.http._codings import SUPPORTED_ENCODINGS, Compressor

__all__ = ("ContentCoding", "compress_body", "negotiate_coding")


class ContentCoding(enum.Enum):
    """The content codings a response can be compressed with (RFC 9110 §8.4.1)."""

    deflate = "deflate"
    gzip = "gzip"
    identity = "identity"
    br = "br"


# Negotiation order on equal q-values: aiohttp's (deflate, gzip), then brotli when it is
# installed.
_NEGOTIABLE: Final = tuple(
    coding
    for coding in (ContentCoding.deflate, ContentCoding.gzip, ContentCoding.br)
    if coding.value in SUPPORTED_ENCODINGS
)


def _parse_qvalue(param: str) -> float:
    name, _, value = param.partition("=")
    if name.strip().lower() != "q":
        return 1.0
    try:
        q = float(value.strip())
    except ValueError:
        return 0.0
    # RFC 9110 §12.4.2: qvalue is 0 to 1 with up to three decimals; out of range is invalid.
    return q if 0.0 <= q <= 1.0 else 0.0


def negotiate_coding(accept_encoding: str) -> ContentCoding | None:
    """Pick the coding to compress with from an Accept-Encoding value (RFC 9110 §12.5.3).

    Args:
        accept_encoding: the request's field value, e.g. ``"gzip;q=0.8, br"``.

    Returns:
        The acceptable coding with the highest weight, or None when none is acceptable
        (identity is then sent).
    """
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        name = name.strip()
        if name:
            weights.setdefault(name, _parse_qvalue(params) if params else 1.0)
    wildcard = weights.get("*", 0.0)
    best: ContentCoding | None = None
    best_q = 0.0
    for coding in _NEGOTIABLE:
        q = weights.get(coding.value, wildcard)
        if q > best_q:
            best, best_q = coding, q
    return best


def compress_body(coding: str, strategy: int | None, body: bytes | bytearray) -> bytes:
    """Compress ``body`` in one piece with ``coding`` (called inline or in an executor)."""
    compressor = Compressor(coding, strategy=strategy)
    return compressor.compress(body) + compressor.flush()
