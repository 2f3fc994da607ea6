"""aioloom.http: the HTTP/1.1 core that every aioloom package builds on.

This namespace holds the sans-I/O part (parsers, serializers, codings, shared vocabulary)
and never imports asyncio; the asyncio glue (streams, flow control, the stream writer,
payloads) lives in :mod:`aioloom.http.aio`.
"""

from __future__ import annotations

from ._exceptions import (
    BadHttpMessage,
    BadHttpMethod,
    BadStatusLine,
    ContentEncodingError,
    ContentLengthError,
    DecompressSizeError,
    HttpBadRequest,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    LineTooLong,
    PayloadEncodingError,
    TooManyHeaders,
    TransferEncodingError,
)
from ._messages import (
    HttpVersion,
    HttpVersion10,
    HttpVersion11,
    RawHeaders,
    RawRequestMessage,
    RawResponseMessage,
)

__all__ = (
    "BadHttpMessage",
    "BadHttpMethod",
    "BadStatusLine",
    "ContentEncodingError",
    "ContentLengthError",
    "DecompressSizeError",
    "HttpBadRequest",
    "HttpProcessingError",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "InvalidHeader",
    "InvalidURLError",
    "LineTooLong",
    "PayloadEncodingError",
    "RawHeaders",
    "RawRequestMessage",
    "RawResponseMessage",
    "TooManyHeaders",
    "TransferEncodingError",
)
