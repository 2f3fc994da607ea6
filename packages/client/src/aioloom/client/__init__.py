"""aioloom.client: an asyncio HTTP/1.1 client with aiohttp's ``ClientSession`` API.

Sessions, requests and streamed responses, a keep-alive connection pool with TLS, proxies and
DNS caching, redirects, cookies (RFC 6265), Basic and Digest authentication, tracing, upload
tracking and client middlewares. ``ws_connect`` needs the ``websocket`` extra, and
``FormData`` and multipart form bodies the ``multipart`` extra; both are imported only when
used. Public names follow aiohttp 3.14.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _exceptions, _trace_params
from ._connection import (
    Connection,
)
from ._connector import (
    BaseConnector,
)
from ._cookiejar import (
    AbstractCookieJar,
    ClearCookiePredicate,
    CookieJar,
    DummyCookieJar,
)
from ._digest import (
    DigestAuthMiddleware,
)
from ._exceptions import *  # noqa: F403 (the errors; the list is _exceptions.__all__)
from ._fingerprint import (
    Fingerprint,
)
from ._middleware import (
    ClientHandlerType,
    ClientMiddlewareType,
)
from ._reqrep_info import (
    ConnectionKey,
    RequestInfo,
)
from ._request import (
    ClientRequest,
)
from ._resolver import (
    AbstractResolver,
    AsyncResolver,
    DefaultResolver,
    ResolveResult,
    ThreadedResolver,
)
from ._response import (
    ClientResponse,
)
from ._session import (
    ClientSession,
    request,
)
from ._tcp import (
    AddrInfoType,
    SocketFactoryType,
    TCPConnector,
    UnixConnector,
)
from ._timeouts import (
    ClientTimeout,
    ClientWSTimeout,
)
from ._trace_params import *  # noqa: F403 (the Trace*Params; the list is _trace_params.__all__)
from ._tracing import TraceConfig
from ._upload import UploadTracker
from ._ws import ClientWebSocketResponse

# aioloom.websocket names (WSMsgType, ...) are served lazily by ._ws, and FormData from
# aioloom.multipart, so that importing this package never needs an extra (PEP 562).
if TYPE_CHECKING:
    from aioloom.multipart import FormData as FormData
    from aioloom.websocket import WebSocketError as WebSocketError
    from aioloom.websocket import WSCloseCode as WSCloseCode
    from aioloom.websocket import WSMessage as WSMessage
    from aioloom.websocket import WSMsgType as WSMsgType

_MULTIPART_HINT = 'FormData needs aioloom.multipart: pip install "aioloom-client[multipart]"'


def __getattr__(name: str) -> Any:
    if name in ("WSCloseCode", "WSMessage", "WSMsgType", "WebSocketError"):
        from . import _ws

        return getattr(_ws, name)
    if name == "FormData":
        try:
            from aioloom.multipart import FormData
        except ModuleNotFoundError as exc:
            raise ImportError(_MULTIPART_HINT) from exc
        return FormData
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__: tuple[str, ...] = (
    "AbstractCookieJar",
    "AbstractResolver",
    "AddrInfoType",
    "AsyncResolver",
    "BaseConnector",
    "ClearCookiePredicate",
    "ClientHandlerType",
    "ClientMiddlewareType",
    "ClientRequest",
    "ClientResponse",
    "ClientSession",
    "ClientTimeout",
    "ClientWSTimeout",
    "Connection",
    "ConnectionKey",
    "CookieJar",
    "DefaultResolver",
    "DigestAuthMiddleware",
    "DummyCookieJar",
    "Fingerprint",
    "RequestInfo",
    "ResolveResult",
    "SocketFactoryType",
    "TCPConnector",
    "ThreadedResolver",
    "TraceConfig",
    "UnixConnector",
    "UploadTracker",
    "request",
    "ClientWebSocketResponse",
)
__all__ += _exceptions.__all__
__all__ += _trace_params.__all__
