"""aioloom.multipart: streaming multipart reader and writer, and FormData.

A sans-I/O boundary scanner (:class:`MultipartScanner`) underneath an asyncio reader
(:class:`MultipartReader`, :class:`BodyPartReader`) that streams parts without loading them
whole; :class:`MultipartWriter` and :class:`FormData` build bodies from payloads. The server
(``request.post()``/``request.multipart()``) and the client (``data=FormData(...)``) use it
through their ``multipart`` extras. Public names follow aiohttp 3.14.
"""

from __future__ import annotations

from aioloom.http._content_disposition import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    content_disposition_filename,
    parse_content_disposition,
)

from ._exceptions import (
    BoundaryError,
    IncompleteMultipartError,
    MultipartError,
    MultipartFramingError,
    PartDecodeError,
    PartHeaderError,
    PartHeadersTooLarge,
    UnknownPartEncoding,
)
from ._form import (
    FormData,
)
from ._parser import (
    Done,
    MultipartScanner,
    PartData,
    PartEnd,
    PartStart,
    check_boundary,
)
from ._writer import (
    BodyPartReaderPayload,
    MultipartWriter,
)
from .aio import BodyPartReader, MultipartReader, MultipartResponseWrapper

__all__ = (
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "BodyPartReader",
    "MultipartReader",
    "MultipartResponseWrapper",
    "content_disposition_filename",
    "parse_content_disposition",
    "BodyPartReaderPayload",
    "BoundaryError",
    "Done",
    "FormData",
    "IncompleteMultipartError",
    "MultipartError",
    "MultipartFramingError",
    "MultipartScanner",
    "MultipartWriter",
    "PartData",
    "PartDecodeError",
    "PartEnd",
    "PartHeaderError",
    "PartHeadersTooLarge",
    "PartStart",
    "UnknownPartEncoding",
    "check_boundary",
)
