"""``Expect: 100-continue`` on the server: the default expect handler (RFC 9110 §10.1.1).

The server answers ``100 Continue`` only when the handler first waits for body bytes
(the body stream, :class:`~aioloom.web._request_body.ExpectContinueReader`, calls the
expect handler then), through :func:`default_expect_handler` or the ``expect_handler``
given to the server or a route. A declared Content-Length over ``client_max_size`` gets
413 instead, and the body is never sent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aioloom.http import hdrs
from aioloom.http._messages import HttpVersion11

from ._exceptions import HTTPExpectationFailed, HTTPRequestEntityTooLarge

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = ("default_expect_handler",)


async def default_expect_handler(request: BaseRequest) -> None:
    """Answer ``Expect`` as aiohttp does (RFC 9110 §10.1.1).

    For ``100-continue`` on HTTP/1.1 send ``100 Continue``, unless the declared
    Content-Length is over ``client_max_size``; other expectations get 417. HTTP/1.0
    requests are ignored (their Expect must be ignored).

    Raises:
        HTTPRequestEntityTooLarge: the declared body is too large (413).
        HTTPExpectationFailed: an expectation other than 100-continue (417).
    """
    if request.version != HttpVersion11:
        return
    expect = request.headers.get(hdrs.EXPECT, "")
    if expect.lower() != "100-continue":
        raise HTTPExpectationFailed(text=f"Unknown Expect: {expect}")
    max_size = request.client_max_size
    length = request.content_length
    if max_size and length is not None and length > max_size:
        raise HTTPRequestEntityTooLarge(max_size=max_size, actual_size=length)
    request._send_continue()
