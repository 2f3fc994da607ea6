"""Copies of a request with some attributes replaced: what ``request.clone()`` builds.

A clone shares the body stream, the connection, the writer and the task with the
original, starts from a copy of its state mapping, and re-parses nothing: the new head is
the old :class:`~aioloom.http.RawRequestMessage` with the replaced fields. A body that
waits for ``100 Continue`` is handed to the clone (its ``client_max_size`` then decides).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ._request_body import ExpectContinueReader
from ._typedefs import LooseHeaders, StrOrURL

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ("SENTINEL", "clone_request")

SENTINEL: Final[Any] = object()
"""The default of every ``clone()`` argument: keep the original's value."""


def clone_request(
    request: BaseRequest,
    *,
    method: str,
    rel_url: StrOrURL,
    headers: LooseHeaders,
    scheme: str,
    host: str,
    remote: str,
    client_max_size: int,
    client_max_fields: int,
) -> BaseRequest:
    """A request of ``request``'s class like it, with the non-:data:`SENTINEL` arguments.

    Raises:
        RuntimeError: the body was already read.
    """
    if request._read_bytes:
        raise RuntimeError("Cannot clone request after reading its content")
    changes: dict[str, Any] = {}
    if method is not SENTINEL:
        changes["method"] = method
    if rel_url is not SENTINEL:
        new_url = URL(rel_url)
        changes["url"] = new_url
        changes["path"] = str(new_url)
    if headers is not SENTINEL:
        new_headers = CIMultiDictProxy(CIMultiDict(headers))
        changes["headers"] = new_headers
        changes["raw_headers"] = tuple(
            (k.encode("utf-8"), v.encode("utf-8")) for k, v in new_headers.items()
        )
    message = request._message._replace(**changes)
    overrides: dict[str, str] = {}
    for name, value in (("scheme", scheme), ("host", host), ("remote", remote)):
        if value is not SENTINEL:
            overrides[name] = value
    payload = request._payload
    clone = request.__class__(
        message,
        payload,
        request._protocol,
        request._payload_writer,
        request._task,
        request._loop,
        client_max_size=(
            request._client_max_size if client_max_size is SENTINEL else client_max_size
        ),
        client_max_fields=(
            request._client_max_fields if client_max_fields is SENTINEL else client_max_fields
        ),
        state=request._state.copy(),
        **overrides,
    )
    if isinstance(payload, ExpectContinueReader) and payload.expect_request is request:
        payload.expect_request = clone  # the clone's client_max_size applies
    return clone
