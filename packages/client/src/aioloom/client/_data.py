"""A request's ``data`` argument turned into the :class:`Payload` that is sent.

aiohttp's rules: ``bytes``/``str``/files/async iterables/Payloads go through the payload
registry; a dict, MultiDict or list of pairs of plain values is sent as
``application/x-www-form-urlencoded`` (WHATWG URL §5.2); a ``FormData``, or a form with
files, as ``multipart/form-data`` through ``aioloom.multipart``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from urllib.parse import urlencode

from aioloom.http.aio._payload import BytesPayload, Payload, get_payload

__all__ = ("prepare_data",)

_FORM_SCALARS: Final = (str, int, float)


def _is_simple_form(data: Any) -> list[tuple[str, Any]] | None:
    """The fields of a dict / pairs form whose values are all scalars, else None."""
    if isinstance(data, Mapping):
        items = list(data.items())
    elif isinstance(data, (list, tuple)) and all(
        isinstance(item, tuple) and len(item) == 2 for item in data
    ):
        items = list(data)
    else:
        return None
    if all(isinstance(value, _FORM_SCALARS) for _, value in items):
        return items
    return None


def prepare_data(data: Any) -> Payload:
    """The payload for a request's ``data`` argument (aiohttp's rules).

    ``bytes``/``str``/files/async iterables/Payloads through the payload registry; a
    dict, MultiDict or list of pairs of plain values as ``application/x-www-form-urlencoded``
    (WHATWG URL §5.2); a ``FormData`` or a form with files through ``aioloom.multipart``.

    Raises:
        ImportError: a multipart form needs aioloom.multipart, which is not installed.
        TypeError: ``data`` has no payload type.
    """
    if isinstance(data, Payload):
        return data
    if hasattr(data, "add_field") and callable(data):  # a FormData
        form_payload: Payload = data()
        return form_payload
    fields = _is_simple_form(data)
    if fields is not None:
        encoded = urlencode(fields, doseq=True, encoding="utf-8").encode("ascii")
        return BytesPayload(encoded, content_type="application/x-www-form-urlencoded")
    try:
        return get_payload(data, disposition=None)
    except LookupError:
        pass
    if isinstance(data, (Mapping, list, tuple)):
        return _multipart_form(data)
    raise TypeError(f"data of type {type(data).__name__!r} cannot be sent as a request body")


def _multipart_form(data: Any) -> Payload:
    try:
        from aioloom.multipart._form import FormData
    except ModuleNotFoundError as exc:  # pragma: no cover - the extra is installed in tests
        raise ImportError(
            "sending files or multipart forms needs aioloom.multipart: "
            'pip install "aioloom-client[multipart]"'
        ) from exc
    form_payload: Payload = FormData(data)()
    return form_payload
