"""Content-Type and Content-Length views shared by requests and responses.

:class:`HeadersMixin` gives an object with a ``_headers`` multidict aiohttp's
``content_type``, ``charset`` and ``content_length`` properties. The Content-Type value is
parsed (RFC 9110 §8.3.1) only when it changed since the last look, so reading the
properties in a loop costs one dict lookup each.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from aioloom.http import hdrs
from aioloom.http._mime import parse_content_type

__all__ = ("DEFAULT_CONTENT_TYPE", "HeadersMixin")

# RFC 9110 §8.3: a recipient may assume application/octet-stream when the field is absent.
DEFAULT_CONTENT_TYPE: Final = "application/octet-stream"

_UNSET: Final = object()


class HeadersMixin:
    """``content_type``, ``charset`` and ``content_length`` computed from ``_headers``.

    The class keeps no per-instance state until a property is read: the cache lives in
    three attributes with class-level defaults (so subclasses need an instance ``__dict__``).
    """

    _headers: Mapping[str, str]
    _content_type: str = DEFAULT_CONTENT_TYPE
    _content_dict: dict[str, str] | None = None
    _stored_content_type: object = _UNSET

    def _parse_content_type(self, raw: str | None) -> None:
        self._stored_content_type = raw
        if raw is None:
            self._content_type = DEFAULT_CONTENT_TYPE
            self._content_dict = {}
        else:
            content_type, params = parse_content_type(raw)
            self._content_type = content_type
            self._content_dict = dict(params)  # a copy: the response setters mutate it

    @property
    def content_type(self) -> str:
        """The media type of Content-Type, lower-cased; ``application/octet-stream`` if absent."""
        raw = self._headers.get(hdrs.CONTENT_TYPE)
        if self._stored_content_type != raw:
            self._parse_content_type(raw)
        return self._content_type

    @property
    def charset(self) -> str | None:
        """The ``charset`` parameter of Content-Type, or None."""
        raw = self._headers.get(hdrs.CONTENT_TYPE)
        if self._stored_content_type != raw or self._content_dict is None:
            self._parse_content_type(raw)
        assert self._content_dict is not None
        return self._content_dict.get("charset")

    @property
    def content_length(self) -> int | None:
        """The value of Content-Length as an int, or None when absent."""
        value = self._headers.get(hdrs.CONTENT_LENGTH)
        return None if value is None else int(value)
