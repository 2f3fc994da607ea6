"""Form bodies of requests: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

:func:`read_urlencoded` decodes an urlencoded body with the request's charset (HTML
§4.10.21.7); :func:`read_multipart` walks a ``multipart/form-data`` body (RFC 7578) with
aioloom.multipart's reader, keeping text fields as str, other fields as bytes, and files
spooled to temporary files (:class:`FileField`) written off the event loop. Both enforce
``client_max_size`` over the whole form. The multipart package is an optional extra,
imported only when such a body is read.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import io
import tempfile
from typing import Any, Final, cast
from urllib.parse import parse_qsl

from multidict import CIMultiDictProxy, MultiDict

from aioloom.http import hdrs

from ._exceptions import HTTPRequestEntityTooLarge, HTTPUnsupportedMediaType

__all__ = (
    "FileField",
    "FormValue",
    "multipart_reader_class",
    "read_multipart",
    "read_urlencoded",
    "too_many_fields",
)

MULTIPART_HINT: Final = (
    'multipart/form-data needs the multipart extra: pip install "aioloom-web[multipart]"'
)


@dataclasses.dataclass(frozen=True)
class FileField:
    """A file uploaded in a multipart/form-data body, as ``request.post()`` returns it."""

    name: str
    filename: str
    file: io.BufferedReader
    content_type: str
    headers: CIMultiDictProxy[str]


FormValue = str | bytes | FileField


def multipart_reader_class() -> Any:
    """Return ``aioloom.multipart.MultipartReader``.

    Raises:
        ModuleNotFoundError: the multipart extra is not installed (the message names the
            pip command).
    """
    try:
        module = importlib.import_module("aioloom.multipart")
        return module.MultipartReader
    except (ImportError, AttributeError) as exc:
        raise ModuleNotFoundError(MULTIPART_HINT) from exc


def too_many_fields(max_fields: int) -> HTTPRequestEntityTooLarge:
    """The 413 answer for a form with more than ``max_fields`` fields (aiohttp 3.14)."""
    return HTTPRequestEntityTooLarge(
        max_fields, text=f"Maximum number of form fields {max_fields} exceeded."
    )


def read_urlencoded(data: bytes, charset: str, max_fields: int, out: MultiDict[FormValue]) -> None:
    """Decode an urlencoded form body into ``out`` (blank values kept, as aiohttp).

    Raises:
        HTTPUnsupportedMediaType: the charset is unknown.
        HTTPRequestEntityTooLarge: more than ``max_fields`` fields (0: no limit).
    """
    if not data:
        return
    try:
        query = data.rstrip().decode(charset)
    except LookupError as exc:
        raise HTTPUnsupportedMediaType() from exc
    try:
        pairs = parse_qsl(
            query,
            keep_blank_values=True,
            encoding=charset,
            max_num_fields=max_fields if max_fields > 0 else None,
        )
    except ValueError as exc:  # raised by parse_qsl past max_num_fields
        raise too_many_fields(max_fields) from exc
    out.extend(pairs)


async def read_multipart(
    multipart: Any,
    max_size: int,
    max_fields: int,
    out: MultiDict[FormValue],
    loop: asyncio.AbstractEventLoop,
) -> None:
    """Read every field of a ``MultipartReader`` into ``out``.

    Raises:
        HTTPRequestEntityTooLarge: the fields add up to more than ``max_size`` bytes, or
            there are more than ``max_fields`` of them (0: no limit).
        ValueError: a field is itself multipart (needs a custom reader, as in aiohttp).
    """
    try:
        await _read_fields(multipart, max_size, max_fields, out, loop)
    except BaseException:
        # A refused or broken form: close the files already spooled before re-raising.
        for value in out.values():
            if isinstance(value, FileField):
                value.file.close()
        raise


async def _read_fields(
    multipart: Any,
    max_size: int,
    max_fields: int,
    out: MultiDict[FormValue],
    loop: asyncio.AbstractEventLoop,
) -> None:
    total = 0
    field = await multipart.next()
    while field is not None:
        if 0 < max_fields <= len(out):
            raise too_many_fields(max_fields)
        if not hasattr(field, "read_chunk"):
            raise ValueError("To decode nested multipart you need to use custom reader")
        value: FormValue
        if field.filename:
            value, size = await _spool_file(field, max_size, total, loop)
        else:
            # The size is checked piece by piece, so an oversized field is refused before
            # it is held in memory whole.
            data = bytearray()
            async for piece in field.iter_decoded():
                data += piece
                if max_size and total + len(data) > max_size:
                    raise HTTPRequestEntityTooLarge(
                        max_size=max_size, actual_size=total + len(data)
                    )
            size = len(data)
            field_ct = field.headers.get(hdrs.CONTENT_TYPE)
            if field_ct is None or field_ct.startswith("text/"):
                value = data.decode(field.get_charset(default="utf-8"))
            else:
                value = bytes(data)
        total += size
        out.add(field.name, value)
        field = await multipart.next()


async def _spool_file(
    field: Any, max_size: int, total: int, loop: asyncio.AbstractEventLoop
) -> tuple[FileField, int]:
    # RFC 7578 §4.4: Content-Type is optional, even for files.
    field_ct = field.headers.get(hdrs.CONTENT_TYPE) or "application/octet-stream"
    tmp = await loop.run_in_executor(None, tempfile.TemporaryFile)
    size = 0
    try:
        # One decoder across the whole part: a gzip-encoded part may span many reads.
        async for chunk in field.iter_decoded():
            size += len(chunk)
            if max_size and total + size > max_size:
                raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=total + size)
            await loop.run_in_executor(None, tmp.write, chunk)
        await loop.run_in_executor(None, tmp.seek, 0)
    except BaseException:
        tmp.close()
        raise
    file = cast(io.BufferedReader, tmp)
    return FileField(field.name, field.filename, file, field_ct, field.headers), size
