"""File-like bodies: aiohttp 3.14's ``IOBasePayload`` family.

This module owns the payloads over file objects: :class:`IOBasePayload` (any binary file),
:class:`BufferedReaderPayload` (``open(path, "rb")``), :class:`TextIOPayload` (text files,
encoded on the fly), :class:`BytesIOPayload` and :class:`StringIOPayload` (in memory). It
registers them in :data:`~aioloom.http.aio._payload.PAYLOAD_REGISTRY` when imported (which
:mod:`._payload` always does).

Disk I/O never runs on the event loop: reads, whole-file reads and ``close()`` go through
``loop.run_in_executor``, :data:`~aioloom.http.aio._payload.READ_SIZE` (256 KiB, aiohttp's
chunk size) at a time, so a file is never read whole to be sent. In-memory ``BytesIO``
bodies are written in the same slices, yielding to the loop between them.

Reuse: the position of the file when the payload first uses it (reading its size, or
writing) is remembered, and every later write seeks back to it, so a redirect can send the
same file again. A file that cannot seek is consumed by its first write.
"""

from __future__ import annotations

import asyncio
import codecs
import io
import os
from pathlib import Path
from typing import IO, Final, Protocol, cast

from aioloom.http import hdrs

from ._abc import AbstractStreamWriter
from ._payload import (
    PAYLOAD_REGISTRY,
    READ_SIZE,
    LooseHeaders,
    Payload,
    StringPayload,
    check_content_length,
    text_encoding,
)

__all__ = (
    "BufferedReaderPayload",
    "BytesIOPayload",
    "FileObject",
    "IOBasePayload",
    "StringIOPayload",
    "TextIOPayload",
    "guess_filename",
)

# What the file payloads accept: typed files and any io.IOBase (io.FileIO, raw files).
FileObject = IO[bytes] | IO[str] | io.IOBase


class _File(Protocol):
    """The file methods the payloads call (``read`` may give None for raw files)."""

    def read(self, size: int = ..., /) -> bytes | str | None: ...

    def tell(self) -> int: ...

    def seek(self, offset: int, whence: int = ..., /) -> int: ...

    def fileno(self) -> int: ...

    def close(self) -> None: ...


# Keeps the executor jobs that close files alive until they finish (close() does not
# wait for them, so that it is safe during cancellation).
_CLOSE_FUTURES: Final[set[asyncio.Future[None]]] = set()


def guess_filename(obj: object, default: str | None = None) -> str | None:
    """Return the base name of a file object's ``name``, or ``default``.

    Names such as ``<stdin>`` (pseudo files) and non-string names (file descriptors) give
    ``default``.
    """
    name = getattr(obj, "name", None)
    if name and isinstance(name, str) and name[0] != "<" and name[-1] != ">":
        return Path(name).name
    return default


class IOBasePayload(Payload):
    """A body read from a binary file object.

    Args:
        value: the file, read from its current position.
        disposition: the ``Content-Disposition`` type set when the file has a name
            (None sets no header).
        headers: extra headers; see :class:`~aioloom.http.aio._payload.Payload`.
        content_type: the media type; guessed from the file name when None.
        filename: the name to send; guessed from ``value.name`` when None.
        encoding: the text encoding of the content, if any.

    Raises:
        TypeError: ``value`` has no ``read`` method.
    """

    _value: _File
    _start_position: int | None = None

    def __init__(
        self,
        value: FileObject,
        disposition: str | None = "attachment",
        headers: LooseHeaders | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: object,
    ) -> None:
        if not callable(getattr(value, "read", None)):
            raise TypeError(f"value argument must be a file object, not {type(value)!r}")
        if filename is None:
            filename = guess_filename(value)
        super().__init__(value, headers, content_type, filename, encoding)
        self._value = cast(_File, value)
        if filename is not None and disposition is not None:
            if hdrs.CONTENT_DISPOSITION not in self._headers:
                self.set_content_disposition(disposition, filename=filename)

    @property
    def size(self) -> int | None:
        """Bytes from the first-use position to the end of the file; None when unknown."""
        try:
            if self._start_position is None:
                self._start_position = self._value.tell()
            return os.fstat(self._value.fileno()).st_size - self._start_position
        except (AttributeError, OSError, ValueError):
            # No fileno() (io.UnsupportedOperation is both OSError and ValueError), or a
            # closed file.
            return None

    def _set_or_restore_start_position(self) -> None:
        """Remember the start position on first use; seek back to it afterwards."""
        try:
            if self._start_position is None:
                self._start_position = self._value.tell()
            else:
                self._value.seek(self._start_position)
        except (AttributeError, OSError, ValueError):
            self._consumed = True  # cannot seek: the data can be read once only

    def _read_bytes(self, size: int) -> bytes:
        """Read up to ``size`` bytes of body (run in the executor)."""
        data = self._value.read(size)
        if isinstance(data, str):
            raise TypeError(f"{type(self).__name__} needs a binary file; use TextIOPayload")
        return data or b""  # a raw file gives None when it has nothing to give

    def _read_first(self, limit: int | None) -> tuple[int | None, bytes]:
        """Rewind, then return the body size and its first chunk (one executor job)."""
        self._set_or_restore_start_position()
        size = self.size
        return size, self._read_bytes(min(READ_SIZE, size or READ_SIZE, limit or READ_SIZE))

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        """Stream the file to ``writer`` in chunks read in the executor.

        Writing stops at the end of the file, after ``size`` bytes when the size is known,
        or after ``content_length`` bytes.
        """
        check_content_length(content_length)
        if content_length == 0:
            return
        loop = asyncio.get_running_loop()
        remaining = content_length
        available, chunk = await loop.run_in_executor(None, self._read_first, remaining)
        written = 0
        while chunk:
            if remaining is None:
                await writer.write(chunk)
            else:
                await writer.write(chunk[:remaining])
                remaining -= len(chunk)
            written += len(chunk)
            if (available is not None and written >= available) or (
                remaining is not None and remaining <= 0
            ):
                return
            size = READ_SIZE if remaining is None else min(READ_SIZE, remaining)
            chunk = await loop.run_in_executor(None, self._read_bytes, size)

    def _read_all(self) -> bytes:
        self._set_or_restore_start_position()
        return self._read_bytes(-1)

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Read the whole file as text. This blocks: not for use on the event loop."""
        return self._read_all().decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """Read the whole file in the executor."""
        return await asyncio.get_running_loop().run_in_executor(None, self._read_all)

    def _close(self) -> None:
        """Close the file in the executor (synchronously when no loop runs)."""
        if self._consumed:
            return
        self._consumed = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._value.close()
            return
        future = loop.run_in_executor(None, self._value.close)
        _CLOSE_FUTURES.add(future)
        future.add_done_callback(_CLOSE_FUTURES.discard)


class BufferedReaderPayload(IOBasePayload):
    """A body read from a buffered binary file (``open(path, "rb")``)."""


class TextIOPayload(IOBasePayload):
    """A body read from a text file, encoded on the fly.

    The encoding is ``encoding``, else the ``charset`` of ``content_type``, else UTF-8.
    :attr:`size` is the file's size on disk, and is only known when the file is decoded
    with the codec the body is encoded with; otherwise the body goes out without a
    ``Content-Length``. (aiohttp reports the disk size for any encoding.)
    """

    def __init__(
        self,
        value: IO[str] | io.TextIOBase,
        disposition: str | None = "attachment",
        headers: LooseHeaders | None = None,
        *,
        encoding: str | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        **kwargs: object,
    ) -> None:
        encoding, content_type = text_encoding(encoding, content_type)
        super().__init__(value, disposition, headers, content_type, filename, encoding)

    @property
    def size(self) -> int | None:
        file_encoding = getattr(self._value, "encoding", None)
        if not isinstance(file_encoding, str) or not _same_codec(file_encoding, self._codec):
            return None
        return super().size

    @property
    def _codec(self) -> str:
        return self._encoding or "utf-8"

    def _read_bytes(self, size: int) -> bytes:
        data = self._value.read(size)
        return data.encode(self._codec) if isinstance(data, str) else data or b""

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        """Read the whole file. This blocks: not for use on the event loop."""
        self._set_or_restore_start_position()
        data = self._value.read()
        return data if isinstance(data, str) else (data or b"").decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """Read and encode the whole file in the executor."""
        actual = self._encoding or encoding

        def read_and_encode() -> bytes:
            self._set_or_restore_start_position()
            data = self._value.read()
            return data.encode(actual, errors) if isinstance(data, str) else data or b""

        return await asyncio.get_running_loop().run_in_executor(None, read_and_encode)


def _same_codec(first: str, second: str) -> bool:
    try:
        return codecs.lookup(first).name == codecs.lookup(second).name
    except LookupError:
        return False


class BytesIOPayload(IOBasePayload):
    """A body held in an ``io.BytesIO``: no executor, and nothing to close."""

    _value: io.BytesIO
    _size: int
    _autoclose = True

    def __init__(
        self,
        value: io.BytesIO,
        disposition: str | None = "attachment",
        headers: LooseHeaders | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        encoding: str | None = None,
        **kwargs: object,
    ) -> None:
        if not isinstance(value, io.BytesIO):
            raise TypeError(f"value argument must be io.BytesIO, not {type(value)!r}")
        super().__init__(value, disposition, headers, content_type, filename, encoding)
        self._start_position = value.tell()
        with value.getbuffer() as view:
            self._size = view.nbytes - self._start_position

    @property
    def size(self) -> int:
        return self._size

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        check_content_length(content_length)
        self._set_or_restore_start_position()
        remaining = self._size if content_length is None else min(content_length, self._size)
        while remaining > 0:
            chunk = self._value.read(min(READ_SIZE, remaining))
            if not chunk:
                return
            await writer.write(chunk)
            remaining -= len(chunk)
            if remaining > 0:
                await asyncio.sleep(0)  # a large buffer must not hold the loop

    def decode(self, encoding: str = "utf-8", errors: str = "strict") -> str:
        self._set_or_restore_start_position()
        return self._value.read().decode(encoding, errors)

    async def as_bytes(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        self._set_or_restore_start_position()
        return self._value.read()

    def _close(self) -> None:
        """Nothing to release: the buffer lives in memory."""


class StringIOPayload(StringPayload):
    """A body held in an ``io.StringIO`` (read and encoded at construction)."""

    def __init__(
        self,
        value: IO[str],
        headers: LooseHeaders | None = None,
        *,
        encoding: str | None = None,
        content_type: str | None = None,
        filename: str | None = None,
        **kwargs: object,
    ) -> None:
        if not callable(getattr(value, "read", None)):
            raise TypeError(f"value argument must be a text file object, not {type(value)!r}")
        super().__init__(
            value.read(),
            headers,
            encoding=encoding,
            content_type=content_type,
            filename=filename,
        )


PAYLOAD_REGISTRY.register(StringIOPayload, io.StringIO)
PAYLOAD_REGISTRY.register(TextIOPayload, io.TextIOBase)
PAYLOAD_REGISTRY.register(BytesIOPayload, io.BytesIO)
PAYLOAD_REGISTRY.register(BufferedReaderPayload, (io.BufferedReader, io.BufferedRandom))
PAYLOAD_REGISTRY.register(IOBasePayload, io.IOBase)
