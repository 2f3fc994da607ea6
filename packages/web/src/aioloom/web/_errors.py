"""Error answers of the server: the pages for failed requests and failed handlers.

The protocol answers a request the parser rejected with the parser error's status (400,
413, 431...) and its message as text, and a failing handler with 500. The 500 page is
plain text, or HTML when the client accepts ``text/html``; it shows the traceback only in
debug mode. Every error answer closes the connection.
"""

from __future__ import annotations

import traceback
from html import escape as html_escape
from http import HTTPStatus
from typing import Final

import yarl
from multidict import CIMultiDict, CIMultiDictProxy

from aioloom.http._messages import HttpVersion11, RawRequestMessage

from ._response import Response

__all__ = ("ERROR_MESSAGE", "ErrInfo", "error_response")

# The stand-in head of a request that could not be parsed (the error handler's request).
ERROR_MESSAGE: Final = RawRequestMessage(
    "UNKNOWN",
    "/",
    HttpVersion11,
    CIMultiDictProxy(CIMultiDict()),
    (),
    True,
    None,
    False,
    False,
    yarl.URL("/"),
)

_TITLE_500: Final = "500 Internal Server Error"


class ErrInfo:
    """A request that could not be parsed, queued in order with the good ones."""

    __slots__ = ("exc", "message", "status")

    def __init__(self, status: int, exc: BaseException, message: str) -> None:
        self.status = status
        self.exc = exc
        self.message = message


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _page_500(exc: BaseException | None, *, debug: bool, html: bool) -> tuple[str, str]:
    tb = None
    if debug and exc is not None:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    msg = HTTPStatus.INTERNAL_SERVER_ERROR.description
    if html:
        if tb:
            msg = f"<h2>Traceback:</h2>\n<pre>{html_escape(tb)}</pre>"
        page = (
            f"<html><head><title>{_TITLE_500}</title></head><body>\n<h1>{_TITLE_500}</h1>"
            f"\n{msg}\n</body></html>\n"
        )
        return page, "text/html"
    return f"{_TITLE_500}\n\n{tb or msg}", "text/plain"


def error_response(
    status: int,
    exc: BaseException | None = None,
    message: str | None = None,
    *,
    debug: bool = False,
    accept: str = "",
) -> Response:
    """Build the answer for an error; it closes the connection.

    Args:
        status: the status to answer with.
        exc: the error, for the 500 page's traceback.
        message: the text of a non-500 answer (default: ``"<status> <reason>"``).
        debug: show the traceback on a 500 page.
        accept: the request's Accept header (HTML 500 page for ``text/html``).
    """
    if status == 500:
        text, content_type = _page_500(exc, debug=debug, html="text/html" in accept)
    else:
        text = message or f"{status} {_phrase(status)}".rstrip()
        content_type = "text/plain"
    resp = Response(status=status, text=text, content_type=content_type)
    resp.force_close()
    return resp
