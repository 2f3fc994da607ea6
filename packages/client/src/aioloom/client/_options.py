"""The keyword options of a session request, as one typed mapping.

``ClientSession.request()`` and its method shortcuts take aiohttp 3.14's per-request
options as keywords; :class:`RequestOptions` types them for ``**kwargs``. ``SENTINEL``
stands for "not given" where None has a meaning of its own (``timeout=None`` disables the
timeouts).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Final, TypedDict

from yarl import URL

from aioloom.http._auth import BasicAuth

from ._cookie_seam import LooseCookies
from ._fingerprint import SSLArg
from ._middleware import ClientMiddlewareType
from ._request import LooseHeaders, Params
from ._timeouts import ClientTimeout

if TYPE_CHECKING:
    from ._response import ClientResponse
    from ._upload import UploadTracker

__all__ = ("SENTINEL", "RaiseForStatus", "RequestOptions", "Sentinel")

RaiseForStatus = bool | Callable[["ClientResponse"], Awaitable[None]]


class Sentinel:
    """The type of :data:`SENTINEL`."""


SENTINEL: Final = Sentinel()


class RequestOptions(TypedDict, total=False):
    """The per-request options (see ``ClientSession.request``)."""

    params: Params | None
    data: Any
    json: Any
    cookies: LooseCookies | None
    headers: LooseHeaders | None
    skip_auto_headers: Iterable[str] | None
    auth: BasicAuth | None
    allow_redirects: bool
    max_redirects: int
    compress: str | bool | None
    chunked: bool | None
    expect100: bool
    raise_for_status: RaiseForStatus | None
    read_until_eof: bool
    proxy: str | URL | None
    proxy_auth: BasicAuth | None
    timeout: ClientTimeout | float | None | Sentinel
    ssl: SSLArg | None
    server_hostname: str | None
    proxy_headers: LooseHeaders | None
    trace_request_ctx: object
    read_bufsize: int | None
    auto_decompress: bool | None
    max_line_size: int | None
    max_field_size: int | None
    max_headers: int | None
    middlewares: Sequence[ClientMiddlewareType] | None
    upload_tracker: UploadTracker | None
