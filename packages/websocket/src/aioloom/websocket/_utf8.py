"""UTF-8 validation of text messages and close reasons (RFC 6455 §5.6, §8.1; RFC 3629).

A text message split into fragments is decoded fragment by fragment with an incremental
decoder, so an invalid sequence fails the connection on the fragment that carries it, not once
the whole message has been buffered ("fail fast"), and a character split across two fragments
is still accepted.
"""

from __future__ import annotations

import codecs
from typing import Final

from ._models import WebSocketError, WSCloseCode

__all__ = ("Utf8Decoder", "decode_utf8")

_UTF8_DECODER: Final = codecs.getincrementaldecoder("utf-8")


def _invalid() -> WebSocketError:
    # RFC 6455 §8.1: invalid UTF-8 in a text message fails the connection with 1007.
    return WebSocketError(WSCloseCode.INVALID_TEXT, "Invalid UTF-8 text message")


def decode_utf8(data: bytes) -> str:
    """Decode a complete UTF-8 text.

    Args:
        data: the whole text.

    Returns:
        The text.

    Raises:
        WebSocketError: ``data`` is not valid UTF-8 (code 1007, INVALID_TEXT).
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise _invalid() from None


class Utf8Decoder:
    """Decode a UTF-8 text arriving in pieces, failing as soon as a piece is invalid."""

    __slots__ = ("_decoder",)

    def __init__(self) -> None:
        self._decoder = _UTF8_DECODER("strict")

    def decode(self, data: bytes, *, final: bool) -> str:
        """Decode the next piece.

        Args:
            data: the piece.
            final: whether this is the last piece of the text.

        Returns:
            The characters completed by this piece; the bytes of a character that continues
            in the next piece are kept.

        Raises:
            WebSocketError: the text so far cannot be the start of valid UTF-8, or it ends
                inside a character when ``final`` is set (code 1007). The decoder is reset.
        """
        try:
            text: str = self._decoder.decode(data, final)
        except UnicodeDecodeError:
            self._decoder.reset()
            raise _invalid() from None
        if not final:
            self._check_pending()
        return text

    def _check_pending(self) -> None:
        # CPython's decoder rejects every invalid prefix at once except that of a UTF-16
        # surrogate (ED A0..ED BF), which it only rejects once the character is complete.
        # RFC 3629 §4 excludes surrogates, so such a prefix can never become valid.
        pending: bytes = self._decoder.getstate()[0]
        if len(pending) > 1 and pending[0] == 0xED and pending[1] > 0x9F:
            self._decoder.reset()
            raise _invalid()

    def reset(self) -> None:
        """Forget any partial character, ready for a new text."""
        self._decoder.reset()
