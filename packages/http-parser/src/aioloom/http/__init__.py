"""aioloom.http: the HTTP/1.1 core that every aioloom package builds on.

This namespace holds the sans-I/O part (parsers, serializers, codings, shared vocabulary)
and never imports asyncio; the asyncio glue (streams, flow control, the stream writer,
payloads) lives in :mod:`aioloom.http.aio`. Header-name constants are in
:mod:`aioloom.http.hdrs`.
"""

from __future__ import annotations

from . import hdrs
from ._auth import (
    BasicAuth,
    encode_basic_auth,
)
from ._chainmap import (
    ChainMapProxy,
)
from ._codings import (
    SUPPORTED_ENCODINGS,
    Compressor,
    Decompressor,
    accept_encoding,
)
from ._content_disposition import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    content_disposition_filename,
    content_disposition_header,
    parse_content_disposition,
)
from ._cookies import (
    format_set_cookie,
    parse_cookie_date,
    parse_cookie_header,
    parse_set_cookie,
    parse_set_cookie_headers,
)
from ._dates import (
    format_http_date,
    parse_http_date,
)
from ._etag import (
    ETAG_ANY,
    ETag,
    format_etag,
    parse_etag,
    parse_etags,
    strong_match,
    validate_etag_value,
    weak_match,
)
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
from ._mime import (
    DEFAULT_CONTENT_TYPE,
    MimeType,
    parse_content_type,
    parse_mimetype,
)
from ._parser import EndOfMessage, HttpRequestParser, HttpResponseParser
from ._quoting import (
    is_token,
    quote_string,
    split_list,
    unquote_string,
)
from ._serialize import encode_chunk, last_chunk, serialize_head
from ._zlib_backend import set_zlib_backend

__all__ = (
    "hdrs",
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "BadHttpMessage",
    "BadHttpMethod",
    "BadStatusLine",
    "BasicAuth",
    "ChainMapProxy",
    "ContentEncodingError",
    "ContentLengthError",
    "DEFAULT_CONTENT_TYPE",
    "DecompressSizeError",
    "ETAG_ANY",
    "ETag",
    "HttpBadRequest",
    "HttpProcessingError",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "InvalidHeader",
    "InvalidURLError",
    "LineTooLong",
    "MimeType",
    "PayloadEncodingError",
    "RawHeaders",
    "RawRequestMessage",
    "RawResponseMessage",
    "TooManyHeaders",
    "TransferEncodingError",
    "content_disposition_filename",
    "content_disposition_header",
    "format_etag",
    "format_http_date",
    "format_set_cookie",
    "is_token",
    "parse_content_disposition",
    "parse_content_type",
    "parse_cookie_date",
    "parse_cookie_header",
    "parse_etag",
    "parse_etags",
    "parse_http_date",
    "parse_mimetype",
    "parse_set_cookie",
    "parse_set_cookie_headers",
    "quote_string",
    "split_list",
    "strong_match",
    "unquote_string",
    "validate_etag_value",
    "weak_match",
    "Compressor",
    "Decompressor",
    "SUPPORTED_ENCODINGS",
    "accept_encoding",
    "serialize_head",
    "encode_chunk",
    "last_chunk",
    "encode_basic_auth",
    "set_zlib_backend",
    "EndOfMessage",
    "HttpRequestParser",
    "HttpResponseParser",
)
