"""HTTP processing errors shared by every aioloom package.

The names, constructors and attributes follow aiohttp's ``http_exceptions`` module.
Each error carries ``code``: the status a server should answer with.

Hierarchy::

    HttpProcessingError
     └── BadHttpMessage (400)
          ├── HttpBadRequest
          ├── PayloadEncodingError
          │    ├── ContentEncodingError
          │    ├── TransferEncodingError
          │    ├── ContentLengthError
          │    └── DecompressSizeError
          ├── LineTooLong        (400; 431 for header fields)
          ├── TooManyHeaders     (431)
          ├── InvalidHeader
          ├── BadStatusLine
          │    └── BadHttpMethod
          └── InvalidURLError
"""

from __future__ import annotations

from textwrap import indent

from multidict import CIMultiDict

__all__ = (
    "BadHttpMessage",
    "BadHttpMethod",
    "BadStatusLine",
    "ContentEncodingError",
    "ContentLengthError",
    "DecompressSizeError",
    "HttpBadRequest",
    "HttpProcessingError",
    "InvalidHeader",
    "InvalidURLError",
    "LineTooLong",
    "PayloadEncodingError",
    "TooManyHeaders",
    "TransferEncodingError",
)


class HttpProcessingError(Exception):
    """Base of every HTTP processing error.

    Attributes:
        code: the HTTP status that answers the error (0 when none applies).
        message: a human readable description naming the offending part.
        headers: headers to send with the error answer, if any.
    """

    code = 0
    message = ""
    headers: CIMultiDict[str] | None = None

    def __init__(
        self,
        *,
        code: int | None = None,
        message: str = "",
        headers: CIMultiDict[str] | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        self.headers = headers
        self.message = message

    def __str__(self) -> str:
        msg = indent(self.message, "  ")
        return f"{self.code}, message:\n{msg}"

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}: {self.code}, message={self.message!r}>"


class BadHttpMessage(HttpProcessingError):
    """A malformed message; answered with 400 unless a subclass says otherwise."""

    code = 400
    message = "Bad Request"

    def __init__(self, message: str, *, headers: CIMultiDict[str] | None = None) -> None:
        super().__init__(message=message, headers=headers)
        self.args = (message,)


class HttpBadRequest(BadHttpMessage):
    code = 400
    message = "Bad Request"


class PayloadEncodingError(BadHttpMessage):
    """The body could not be decoded."""


class ContentEncodingError(PayloadEncodingError):
    """A Content-Encoding (gzip, deflate, br, zstd) could not be decoded."""


class TransferEncodingError(PayloadEncodingError):
    """A Transfer-Encoding (chunked framing) is malformed."""


class ContentLengthError(PayloadEncodingError):
    """The body ended before Content-Length bytes, or the length is invalid."""


class DecompressSizeError(PayloadEncodingError):
    """Decompressed data would exceed the configured bound (a "zip bomb")."""


class LineTooLong(BadHttpMessage):
    """A start line or header field is longer than the configured limit.

    ``code`` is 400 for a start line and 431 (RFC 6585 §5) for header fields.
    """

    def __init__(
        self,
        line: str,
        limit: str | int = "Unknown",
        actual_size: str | int = "Unknown",
        *,
        code: int = 400,
    ) -> None:
        super().__init__(f"Got more than {limit} bytes ({actual_size}) when reading {line}.")
        self.code = code
        self.args = (line, limit, actual_size)


class TooManyHeaders(BadHttpMessage):
    """More header fields than ``max_headers``; answered with 431 (RFC 6585 §5)."""

    code = 431

    def __init__(self, limit: int) -> None:
        super().__init__(f"Too many headers: more than {limit} header fields")
        self.limit = limit


class InvalidHeader(BadHttpMessage):
    """A header field name or value breaks RFC 9110 §5 grammar."""

    def __init__(self, hdr: bytes | str) -> None:
        hdr_s = hdr.decode(errors="backslashreplace") if isinstance(hdr, bytes) else hdr
        super().__init__(f"Invalid HTTP header: {hdr!r}")
        self.hdr = hdr_s
        self.args = (hdr,)


class BadStatusLine(BadHttpMessage):
    """A malformed request line or status line."""

    def __init__(self, line: str = "", error: str | None = None) -> None:
        super().__init__(error or f"Bad status line {line!r}")
        self.args = (line,)
        self.line = line


class BadHttpMethod(BadStatusLine):
    """The request method is not an RFC 9110 §9.1 token."""

    def __init__(self, line: str = "", error: str | None = None) -> None:
        super().__init__(line, error or f"Bad HTTP method in status line {line!r}")


class InvalidURLError(BadHttpMessage):
    """The request-target cannot be parsed."""
