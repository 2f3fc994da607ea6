"""Sending files: :class:`FileResponse` (aiohttp's ``web.FileResponse``).

A :class:`FileResponse` is a :class:`~aioloom.web.StreamResponse` whose :meth:`prepare`
does all the work:

1. In the default executor (the event loop never waits on the disk): pick the
   representation (a precompressed ``.br``/``.zst``/``.gz`` sibling the client accepts,
   else the file itself), ``stat`` and open it, and guess its Content-Type.
2. Evaluate the preconditions in RFC 9110 §13.2.2 order: If-Match / If-Unmodified-Since
   (412), If-None-Match / If-Modified-Since (304).
3. Evaluate ``Range`` with ``If-Range`` (RFC 9110 §14.2, §13.1.5): one satisfiable byte
   range gives 206 with Content-Range; an unsatisfiable one 416 with
   ``Content-Range: bytes */size``.
4. Send the bytes with ``loop.sendfile`` (zero copy), or, when that cannot be used (TLS,
   compression, chunked framing, ``AIOLOOM_NOSENDFILE`` set, a loop without sendfile),
   in ``chunk_size`` pieces read in the executor, the next read overlapping the write.

A missing file answers 404, an unreadable one or a non-regular file (a directory, a
socket, a device) 403, as aiohttp does. The validators are aiohttp's: a strong ETag
``"<st_mtime_ns hex>-<st_size hex>"`` and Last-Modified from ``st_mtime``.

Deliberate differences from aiohttp 3.14, each an RFC rule aiohttp does not follow:
a multi-range request is answered 200 with the whole file (RFC 9110 §14.2 lets a server
ignore Range; aiohttp answers 416), ``bytes=-0`` is unsatisfiable (416; aiohttp sends the
whole file as 206), an entity-tag ``If-Range`` is compared strongly with the ETag (aiohttp
ignores it and applies the range), a range unit other than ``bytes`` is ignored, precondition
order follows RFC 9110 §13.2.2, and ``Vary: Accept-Encoding`` is also sent with the
uncompressed file when a compressed sibling exists (so caches keep both apart).
"""

from __future__ import annotations

import asyncio
import functools
import mimetypes
import os
import pathlib
import re
import sys
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass
from stat import S_ISREG
from typing import TYPE_CHECKING, BinaryIO, Final

from aioloom.http import hdrs
from aioloom.http._dates import parse_http_date
from aioloom.http._etag import ETAG_ANY, ETag, parse_etag
from aioloom.http.aio._abc import AbstractStreamWriter

from ._stream_response import StreamResponse, must_be_empty_body
from ._typedefs import LooseHeaders

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ("NOSENDFILE", "FileResponse", "resolve_range")

NOSENDFILE: Final[bool] = bool(os.environ.get("AIOLOOM_NOSENDFILE"))
"""Never use ``loop.sendfile`` (set the ``AIOLOOM_NOSENDFILE`` environment variable)."""

FALLBACK_CONTENT_TYPE: Final = "application/octet-stream"

# Precompressed siblings, in order of preference on equal q-values (smallest output first).
_SIBLINGS: Final = ((".br", "br"), (".zst", "zstd"), (".gz", "gzip"))

# Compression-only formats, so "x.tar.gz" is sent as application/gzip, never as a tar.
_EXTRA_TYPES: Final = (
    ("application/gzip", ".gz"),
    ("application/x-brotli", ".br"),
    ("application/zstd", ".zst"),
    ("application/x-bzip2", ".bz2"),
    ("application/x-compress", ".Z"),
    ("application/x-xz", ".xz"),
)

_BYTE_RANGE_RE: Final = re.compile(r"[ \t]*([0-9]*)[ \t]*-[ \t]*([0-9]*)[ \t]*")

# File objects whose close() runs in the executor: kept referenced until it finishes.
_CLOSE_FUTURES: set[asyncio.Future[None]] = set()


class _Full:
    """Marker: ignore Range and send the whole representation (200)."""


class _Unsatisfiable:
    """Marker: no requested range overlaps the representation (416)."""


FULL: Final = _Full()
UNSATISFIABLE: Final = _Unsatisfiable()
RangeResult = tuple[int, int] | _Full | _Unsatisfiable


@functools.lru_cache(maxsize=1)
def _content_types() -> mimetypes.MimeTypes:
    # A private table (the built-in defaults only, so the answer is the same on every host)
    # with the coding suffixes cleared: guessing is by the last extension alone.
    types = mimetypes.MimeTypes()
    types.encodings_map.clear()
    for content_type, extension in _EXTRA_TYPES:
        types.add_type(content_type, extension)
    return types


def guess_content_type(path: pathlib.Path) -> str:
    """The Content-Type for ``path`` by its extension; text types get ``charset=utf-8``."""
    types = _content_types()
    if sys.version_info >= (3, 13):
        guessed = types.guess_file_type(path)[0]
    else:
        guessed = types.guess_type(str(path))[0]
    if guessed is None:
        return FALLBACK_CONTENT_TYPE
    return f"{guessed}; charset=utf-8" if guessed.startswith("text/") else guessed


def _coding_weights(accept_encoding: str) -> dict[str, float]:
    """Coding name -> q-value from an Accept-Encoding value (RFC 9110 §12.5.3)."""
    weights: dict[str, float] = {}
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        name = name.strip()
        if not name:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    q = float(value.strip())
                except ValueError:
                    q = 0.0
                # RFC 9110 §12.4.2: a qvalue is between 0 and 1.
                q = q if 0.0 <= q <= 1.0 else 0.0
        weights.setdefault(name, q)
    return weights


def resolve_range(value: str, size: int) -> RangeResult:
    """Decide what a ``Range`` value asks of a ``size``-byte representation.

    Args:
        value: the Range field value, e.g. ``"bytes=0-499"``.
        size: the representation's length.

    Returns:
        ``(start, count)`` for one satisfiable byte range (RFC 9110 §14.1.2: the last
        position is clamped to the end, a suffix longer than the file is the whole file);
        :data:`FULL` when the header is to be ignored (another range unit, or several
        ranges of which one is satisfiable: RFC 9110 §14.2 lets a server send 200);
        :data:`UNSATISFIABLE` for a malformed byte range set or one that no range of the
        representation satisfies (``bytes=-0``, a start at or past the end).
    """
    unit, sep, specs = value.partition("=")
    if not sep:
        return UNSATISFIABLE
    if unit.strip(" \t").lower() != "bytes":
        return FULL  # RFC 9110 §14.2: a range unit the server does not understand is ignored
    parts = [part for part in specs.split(",") if part.strip(" \t")]  # §5.6.1.2 empty items
    if not parts:
        return UNSATISFIABLE
    resolved = [_resolve_spec(part, size) for part in parts]
    if any(result is None for result in resolved):
        return UNSATISFIABLE  # RFC 9110 §14.2: an invalid ranges-specifier may be rejected
    satisfiable = [result for result in resolved if isinstance(result, tuple)]
    if not satisfiable:
        return UNSATISFIABLE  # RFC 9110 §15.5.17
    if len(parts) > 1:
        return FULL  # several ranges: the whole representation, not multipart/byteranges
    return satisfiable[0]


def _resolve_spec(spec: str, size: int) -> tuple[int, int] | _Unsatisfiable | None:
    """One byte-range-spec: ``(start, count)``, unsatisfiable, or None when malformed."""
    match = _BYTE_RANGE_RE.fullmatch(spec)
    if match is None:
        return None
    first, last = match.group(1, 2)
    try:
        start = int(first) if first else None
        end = int(last) if last else None
    except ValueError:  # more digits than int() converts
        return None
    if start is None:
        if end is None:
            return None
        # RFC 9110 §14.1.2 suffix-range: the last `end` bytes; zero of them is unsatisfiable.
        if end == 0 or size == 0:
            return UNSATISFIABLE
        count = min(end, size)
        return (size - count, count)
    if end is not None and end < start:
        return None  # RFC 9110 §14.1.2: last-pos before first-pos is invalid
    if start >= size:
        return UNSATISFIABLE  # RFC 9110 §14.1.1: first-pos must be below the length
    stop = size if end is None else min(end + 1, size)
    return (start, stop - start)


def _if_range_holds(value: str, etag: str, mtime: float) -> bool:
    """RFC 9110 §13.1.5: does the If-Range validator still describe the file?"""
    value = value.strip(" \t")
    if value.startswith(('"', "W/")):
        tag = parse_etag(value)
        # An entity tag is compared strongly: a weak one never matches.
        return tag is not None and not tag.is_weak and tag.value == etag
    date = parse_http_date(value)
    return date is not None and mtime <= date.timestamp()


def _etag_matches(tags: Iterable[ETag], etag: str, *, weak: bool) -> bool:
    tags = tuple(tags)
    if len(tags) == 1 and tags[0].value == ETAG_ANY:
        return True  # "*": any current representation
    return any(tag.value == etag for tag in tags if weak or not tag.is_weak)


def _read_at(fobj: BinaryIO, offset: int, size: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(fobj.fileno(), size, offset)  # no shared file position to race on
    fobj.seek(offset)
    return fobj.read(size)


def _close_opened(future: asyncio.Future[_OpenFile | None]) -> None:
    if not future.cancelled() and future.exception() is None:
        opened = future.result()
        if opened is not None:
            opened.fobj.close()


@dataclass(slots=True)
class _OpenFile:
    """The representation chosen by :meth:`FileResponse._open` (built in the executor)."""

    fobj: BinaryIO
    size: int
    mtime: float
    etag: str
    coding: str | None  # the Content-Encoding of a precompressed sibling
    content_type: str
    varies: bool  # a precompressed sibling exists: the answer depends on Accept-Encoding


class FileResponse(StreamResponse):
    """A response that sends a file from disk (aiohttp's ``FileResponse``).

    Args:
        path: the file.
        chunk_size: the read size when the file is sent by reading it (not by sendfile).
        status: the status of a full answer (ranges apply to 200 answers only).
        reason: the reason phrase.
        headers: extra headers; a Content-Type given here is kept.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        chunk_size: int = 256 * 1024,
        status: int = 200,
        reason: str | None = None,
        headers: LooseHeaders | None = None,
    ) -> None:
        super().__init__(status=status, reason=reason, headers=headers)
        self._path = pathlib.Path(path)
        self._chunk_size = chunk_size

    # -- choosing and opening the representation (runs in the executor) -----------------

    def _open(self, accept_encoding: str) -> _OpenFile | None:
        """Pick, stat and open the file; None when it is not a regular file.

        Raises:
            OSError: the file is missing (404) or unreadable (PermissionError: 403).
        """
        path = self._path
        weights = _coding_weights(accept_encoding) if accept_encoding else {}
        wildcard = weights.get("*", 0.0)
        best: tuple[pathlib.Path, str] | None = None
        best_q = 0.0
        varies = False
        for suffix, name in _SIBLINGS:
            sibling = path.with_name(path.name + suffix)
            try:
                # lstat: a symlinked sibling is never followed (it could leave a static root).
                if not S_ISREG(sibling.lstat().st_mode):
                    continue
            except (OSError, ValueError):
                continue
            varies = True
            q = weights.get(name, wildcard)
            if q > best_q:
                best, best_q = (sibling, name), q
        coding: str | None = None
        if best is not None:
            path, coding = best
        elif not S_ISREG(path.stat().st_mode):
            return None
        fobj = path.open("rb")
        try:
            st = os.fstat(fobj.fileno())  # the opened file, even if the path changed since
            content_type = guess_content_type(self._path)
        except BaseException:
            fobj.close()
            raise
        return _OpenFile(
            fobj=fobj,
            size=st.st_size,
            mtime=st.st_mtime,
            etag=f"{st.st_mtime_ns:x}-{st.st_size:x}",
            coding=coding,
            content_type=content_type,
            varies=varies,
        )

    # -- prepare ---------------------------------------------------------------------

    async def prepare(self, request: BaseRequest) -> AbstractStreamWriter | None:
        """Answer ``request`` with the file (or 304/403/404/412/416); sends the body too.

        Returns:
            The writer, or None when the response was already finished.
        """
        if self.prepared:
            return await super().prepare(request)
        loop = asyncio.get_running_loop()
        accept_encoding = request.headers.get(hdrs.ACCEPT_ENCODING, "")
        opening = loop.run_in_executor(None, self._open, accept_encoding)
        try:
            # Shielded: a cancelled request must still close a file the executor opened.
            opened = await asyncio.shield(opening)
        except asyncio.CancelledError:
            opening.add_done_callback(_close_opened)
            raise
        except PermissionError:
            return await self._empty_answer(request, 403)
        except (OSError, ValueError):
            # Missing, a symlink loop, a name too long or with a NUL byte: not found.
            return await self._empty_answer(request, 404)
        if opened is None:
            return await self._empty_answer(request, 403)  # a directory, socket, device...
        try:
            return await self._prepare_open_file(request, opened)
        finally:
            # The close is not awaited: the connection can serve its next request meanwhile.
            close = loop.run_in_executor(None, opened.fobj.close)
            _CLOSE_FUTURES.add(close)
            close.add_done_callback(_CLOSE_FUTURES.discard)

    async def _empty_answer(self, request: BaseRequest, status: int) -> AbstractStreamWriter | None:
        self.set_status(status)
        if not self._chunked:
            self.content_length = 0
        return await super().prepare(request)

    def _precondition_status(self, request: BaseRequest, opened: _OpenFile) -> int | None:
        """RFC 9110 §13.2.2: 412, 304 or None (the request proceeds)."""
        safe = request.method in (hdrs.METH_GET, hdrs.METH_HEAD)
        if_match = request.if_match
        if if_match is not None:  # step 1
            if not _etag_matches(if_match, opened.etag, weak=False):
                return 412
        else:  # step 2
            since = request.if_unmodified_since
            if since is not None and opened.mtime > since.timestamp():
                return 412
        if_none_match = request.if_none_match
        if if_none_match is not None:  # step 3
            if _etag_matches(if_none_match, opened.etag, weak=True):
                return 304 if safe else 412
        elif safe:  # step 4
            since = request.if_modified_since
            if since is not None and opened.mtime <= since.timestamp():
                return 304
        return None

    def _set_validators(self, opened: _OpenFile) -> None:
        headers = self._headers
        self.etag = opened.etag
        self.last_modified = opened.mtime
        if opened.varies:
            vary = headers.get(hdrs.VARY)
            if vary is None:
                headers[hdrs.VARY] = hdrs.ACCEPT_ENCODING
            elif hdrs.ACCEPT_ENCODING.lower() not in vary.lower() and vary.strip() != "*":
                headers[hdrs.VARY] = f"{vary}, {hdrs.ACCEPT_ENCODING}"

    def _range_of(self, request: BaseRequest, opened: _OpenFile) -> RangeResult:
        value = request.headers.get(hdrs.RANGE)
        # RFC 9110 §14.2: range handling is defined for GET (HEAD mirrors GET) and for
        # a 200 answer only.
        if value is None or self._status != 200:
            return FULL
        if request.method not in (hdrs.METH_GET, hdrs.METH_HEAD):
            return FULL
        if_range = request.headers.get(hdrs.IF_RANGE)
        if if_range is not None and not _if_range_holds(if_range, opened.etag, opened.mtime):
            return FULL  # RFC 9110 §13.1.5: the client's copy is stale: send it all
        return resolve_range(value, opened.size)

    async def _prepare_open_file(
        self, request: BaseRequest, opened: _OpenFile
    ) -> AbstractStreamWriter | None:
        headers = self._headers
        status = self._precondition_status(request, opened)
        if status == 304:
            self.set_status(304)
            self._set_validators(opened)
            headers.popall(hdrs.CONTENT_LENGTH, None)  # RFC 9110 §15.4.5: no content
            return await super().prepare(request)
        if status is not None:
            return await self._empty_answer(request, status)

        if hdrs.CONTENT_TYPE not in headers:
            headers[hdrs.CONTENT_TYPE] = opened.content_type
        if opened.coding is not None:
            headers[hdrs.CONTENT_ENCODING] = opened.coding
            self._compression = False  # already compressed: never compress twice
        self._set_validators(opened)
        headers[hdrs.ACCEPT_RANGES] = "bytes"  # RFC 9110 §14.3

        size = opened.size
        resolved = self._range_of(request, opened)
        if isinstance(resolved, _Unsatisfiable):
            headers[hdrs.CONTENT_RANGE] = f"bytes */{size}"  # RFC 9110 §14.4
            return await self._empty_answer(request, 416)
        if isinstance(resolved, tuple):
            start, count = resolved
            self.set_status(206)
            headers[hdrs.CONTENT_RANGE] = f"bytes {start}-{start + count - 1}/{size}"
        else:
            start, count = 0, size
        if not self._chunked:
            self.content_length = count
        if count == 0 or must_be_empty_body(request.method, self._status):
            return await super().prepare(request)
        return await self._send(request, opened.fobj, start, count)

    # -- sending -------------------------------------------------------------------------

    async def _send(
        self, request: BaseRequest, fobj: BinaryIO, offset: int, count: int
    ) -> AbstractStreamWriter:
        writer = await super().prepare(request)
        assert writer is not None
        transport = request.transport
        if (
            NOSENDFILE
            or self._compression
            or self._chunked
            or transport is None
            or transport.get_extra_info("sslcontext") is not None
        ):
            await self._send_chunks(writer, fobj, offset, count)
        else:
            writer.send_headers()  # the buffered head goes out before the file's bytes
            try:
                await asyncio.get_running_loop().sendfile(transport, fobj, offset, count)
            except NotImplementedError:  # a loop without sendfile (uvloop)
                await self._send_chunks(writer, fobj, offset, count)
            except RuntimeError as exc:
                # asyncio raises RuntimeError before sending anything: the transport is
                # closing, or it is of a kind sendfile does not support.
                if transport.is_closing():
                    raise ConnectionResetError("Connection closed before sendfile") from exc
                await self._send_chunks(writer, fobj, offset, count)
            else:
                writer.output_size += count
        await super().write_eof()
        return writer

    async def _send_chunks(
        self, writer: AbstractStreamWriter, fobj: BinaryIO, offset: int, count: int
    ) -> None:
        """Read ``count`` bytes from ``offset`` in the executor and write them.

        The next read runs while the current chunk is written and drained, so the disk
        and the socket work at the same time.
        """
        loop = asyncio.get_running_loop()
        chunk_size = self._chunk_size
        pending: asyncio.Future[bytes] | None = loop.run_in_executor(
            None, _read_at, fobj, offset, min(chunk_size, count)
        )
        try:
            while pending is not None:
                chunk = await pending
                pending = None
                if not chunk:
                    break  # the file shrank: Content-Length is not met, the client sees it
                offset += len(chunk)
                count -= len(chunk)
                if count > 0:
                    pending = loop.run_in_executor(
                        None, _read_at, fobj, offset, min(chunk_size, count)
                    )
                await writer.write(chunk)
        finally:
            if pending is not None:
                # Never leave a read running on a file that is about to be closed.
                with suppress(Exception):
                    await asyncio.wait({pending})
                    pending.exception()
