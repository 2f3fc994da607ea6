"""``FormData``: an HTML form body, urlencoded or ``multipart/form-data`` (aiohttp 3.14).

Fields that are all strings, with no file name and no content type, make an
``application/x-www-form-urlencoded`` body (WHATWG URL §5, the HTML form default); any
file, bytes value, file name or content type switches the form to ``multipart/form-data``
(RFC 7578), built with :class:`~aioloom.multipart.MultipartWriter`.

Calling the form returns its payload. The multipart payload is built once and returned
again by later calls, and its parts are reusable where their source allows (bytes and
strings always, seekable files by seeking back, async iterables not), so a client can send
the same form again after a 307/308 redirect.

A field name, file name or content type holding CR, LF or NUL raises ``ValueError``: it
would end the part's header line early (header injection).
"""

from __future__ import annotations

import codecs
import io
import re
import warnings
from collections import deque
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlencode

from multidict import MultiDict, MultiDictProxy

from aioloom.http import hdrs
from aioloom.http.aio._payload import BytesPayload, Payload, get_payload
from aioloom.http.aio._payload_io import guess_filename
from aioloom.multipart._writer import MultipartWriter

__all__ = ("FormData",)

_UNSAFE_RE: Final = re.compile(r"[\r\n\x00]")
# RFC 9110 §5.6.2 token: the charset goes into a Content-Type parameter unquoted.
_TOKEN_RE: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")

_Field = tuple[MultiDict[str], dict[str, str], Any]


def _check_text(what: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be an instance of str. Got: {value!r}")
    if _UNSAFE_RE.search(value) is not None:
        raise ValueError(
            f"Newline, carriage return or NUL in the {what} {value!r}: "
            "potential header injection attack"
        )
    return value


class FormData:
    """Helper to build a form body (aiohttp's ``FormData``).

    Args:
        fields: initial fields: a dict, a MultiDict, ``(name, value)`` pairs or file
            objects (see :meth:`add_fields`).
        quote_fields: percent-encode non-ASCII names and file names in the parts'
            Content-Disposition (``False`` sends them as raw UTF-8, as browsers do).
        charset: the charset of the text fields (default UTF-8).
        default_to_multipart: build ``multipart/form-data`` even for plain text fields.

    Raises:
        ValueError: ``charset`` is not a known codec name.
    """

    def __init__(
        self,
        fields: Iterable[Any] = (),
        quote_fields: bool = True,
        charset: str | None = None,
        *,
        default_to_multipart: bool = False,
    ) -> None:
        if charset is not None:
            _check_charset(charset)
        self._writer = MultipartWriter("form-data")
        self._fields: list[_Field] = []
        self._is_multipart = default_to_multipart
        self._quote_fields = quote_fields
        self._charset = charset
        if isinstance(fields, dict):
            fields = list(fields.items())
        elif not isinstance(fields, (list, tuple)):
            fields = (fields,)
        self.add_fields(*fields)

    @property
    def is_multipart(self) -> bool:
        """True when the form is sent as ``multipart/form-data``."""
        return self._is_multipart

    def add_field(
        self,
        name: str,
        value: Any,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        content_transfer_encoding: str | None = None,
    ) -> None:
        """Add one field.

        Args:
            name: the field name.
            value: a ``str``; or bytes, a file object or anything :func:`get_payload`
                accepts (these make the form multipart).
            content_type: the part's Content-Type (makes the form multipart).
            filename: the file name (makes the form multipart); guessed from a file
                object's name when None.
            content_transfer_encoding: deprecated (RFC 7578 §4.7): the part is
                transfer-encoded with it.

        Raises:
            TypeError: ``name``, ``filename``, ``content_type`` or
                ``content_transfer_encoding`` is not a ``str``.
            ValueError: one of them holds CR, LF or NUL.
        """
        _check_text("field name", name)
        if isinstance(value, io.IOBase):
            self._is_multipart = True
        elif isinstance(value, (bytes, bytearray, memoryview)):
            if filename is None and content_transfer_encoding is None:
                warnings.warn(
                    "In v4, passing bytes will no longer create a file field. "
                    "Please explicitly use the filename parameter or pass a BytesIO object.",
                    DeprecationWarning,
                    stacklevel=2,
                )
                filename = name
        type_options: MultiDict[str] = MultiDict({"name": name})
        if filename is None and isinstance(value, io.IOBase):
            filename = guess_filename(value, name)
        if filename is not None:
            type_options["filename"] = _check_text("filename", filename)
            self._is_multipart = True
        headers: dict[str, str] = {}
        if content_type is not None:
            headers[hdrs.CONTENT_TYPE] = _check_text("content_type", content_type)
            self._is_multipart = True
        if content_transfer_encoding is not None:
            _check_text("content_transfer_encoding", content_transfer_encoding)
            warnings.warn(
                "content_transfer_encoding is deprecated. "
                "To maintain compatibility with v4 please pass a BytesPayload.",
                DeprecationWarning,
                stacklevel=2,
            )
            headers[hdrs.CONTENT_TRANSFER_ENCODING] = content_transfer_encoding
            self._is_multipart = True
        self._fields.append((type_options, headers, value))

    def add_fields(self, *fields: Any) -> None:
        """Add several fields.

        Each item is a file object (its name is the field name, else ``unknown``), a
        MultiDict or MultiDictProxy (its items are added), or a ``(name, value)`` pair.

        Raises:
            TypeError: an item is none of those.
        """
        to_add: deque[Any] = deque(fields)
        while to_add:
            rec = to_add.popleft()
            if isinstance(rec, io.IOBase):
                self.add_field(guess_filename(rec) or "unknown", rec)
            elif isinstance(rec, (MultiDictProxy, MultiDict)):
                to_add.extend(rec.items())
            elif isinstance(rec, (list, tuple)) and len(rec) == 2:
                name, value = rec
                self.add_field(name, value)
            else:
                raise TypeError(
                    "Only io.IOBase, multidict and (name, file) pairs allowed, use "
                    f".add_field() for passing more complex parameters, got {rec!r}"
                )

    def _gen_form_urlencoded(self) -> BytesPayload:
        data: list[tuple[str, str]] = []
        for type_options, _, value in self._fields:
            if not isinstance(value, str):
                raise TypeError(f"expected str, got {value!r}")
            data.append((type_options["name"], value))
        charset = self._charset if self._charset is not None else "utf-8"
        content_type = "application/x-www-form-urlencoded"
        if charset != "utf-8":
            content_type += f"; charset={charset}"
        return BytesPayload(
            urlencode(data, doseq=True, encoding=charset).encode(), content_type=content_type
        )

    def _gen_form_data(self) -> MultipartWriter:
        """Append the fields added since the last call to the multipart writer."""
        for type_options, headers, value in self._fields:
            options: dict[str, Any] = {"headers": headers, "encoding": self._charset}
            if hdrs.CONTENT_TYPE in headers:
                options["content_type"] = headers[hdrs.CONTENT_TYPE]
            try:
                part = get_payload(value, **options)
            except Exception as exc:
                raise TypeError(
                    f"Can not serialize value type: {type(value)!r}\n "
                    f"headers: {headers!r}\n value: {value!r}"
                ) from exc
            part.set_content_disposition(
                "form-data", quote_fields=self._quote_fields, **type_options
            )
            # RFC 7578 §4.8: no Content-Length in a form-data part.
            part.headers.popall(hdrs.CONTENT_LENGTH, None)
            self._writer.append_payload(part)
        self._fields.clear()
        return self._writer

    def __call__(self) -> Payload:
        """The body: a multipart writer or an urlencoded bytes payload."""
        if self._is_multipart:
            return self._gen_form_data()
        return self._gen_form_urlencoded()


def _check_charset(charset: str) -> None:
    if not isinstance(charset, str) or _TOKEN_RE.fullmatch(charset) is None:
        raise ValueError(f"Invalid charset {charset!r}")
    try:
        codecs.lookup(charset)
    except LookupError:
        raise ValueError(f"Unknown charset {charset!r}") from None
