"""The errors a malformed multipart body raises.

Every error is an :class:`aioloom.http.BadHttpMessage` (so a server answers it with its
``code``, 400) and also a :class:`ValueError`, which is what aiohttp's multipart reader
raised for the same inputs, so ``except ValueError`` in ported code keeps working.

Hierarchy::

    BadHttpMessage, ValueError
     └── MultipartError
          ├── BoundaryError              the boundary parameter is absent or invalid
          ├── MultipartFramingError      a delimiter is missing or malformed
          │    └── IncompleteMultipartError   the body ended before the close delimiter
          ├── PartHeaderError            a part's header block is malformed
          │    └── PartHeadersTooLarge        a header field or the field count is over a limit
          └── PartDecodeError            a part's transfer/content coding cannot be decoded
               └── UnknownPartEncoding        the coding is not one we know (also RuntimeError,
                                              as aiohttp raised RuntimeError for it)
"""

from __future__ import annotations

from aioloom.http import BadHttpMessage

__all__ = (
    "BoundaryError",
    "IncompleteMultipartError",
    "MultipartError",
    "MultipartFramingError",
    "PartDecodeError",
    "PartHeaderError",
    "PartHeadersTooLarge",
    "UnknownPartEncoding",
)


class MultipartError(BadHttpMessage, ValueError):
    """Base of every error about a malformed multipart body (status 400)."""


class BoundaryError(MultipartError):
    """The ``boundary`` parameter is missing or breaks RFC 2046 §5.1.1 (1..70 characters)."""


class MultipartFramingError(MultipartError):
    """The delimiters do not frame the body: no opening delimiter, or garbage after one."""


class IncompleteMultipartError(MultipartFramingError):
    """The body ended before the close delimiter (a truncated upload)."""


class PartHeaderError(MultipartError):
    """A part's header block is malformed (no colon, invalid name or value, bad folding)."""


class PartHeadersTooLarge(PartHeaderError):
    """A part header field is longer than ``max_field_size`` or there are too many fields.

    Attributes:
        limit: the limit that was passed.
    """

    def __init__(self, message: str, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class PartDecodeError(MultipartError):
    """A part's Content-Transfer-Encoding or Content-Encoding data is corrupt."""


class UnknownPartEncoding(PartDecodeError, RuntimeError):
    """A part names a Content-Transfer-Encoding or Content-Encoding we cannot decode.

    It is also a :class:`RuntimeError`, the type aiohttp raised for this case.
    """
