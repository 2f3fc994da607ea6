"""aioloom.web: an asyncio web server framework with ``aiohttp.web``'s API.

The server protocol and low-level :class:`Server`, requests and responses (streaming, files,
JSON), every HTTP exception, :class:`Application` with its router, middlewares, signals and
sub-applications, static files, runners and sites, :func:`run_app`, and access logging.
``request.post()``/``multipart()`` on multipart bodies need the ``multipart`` extra and
``WebSocketResponse`` the ``websocket`` extra; both are imported only when used. The gunicorn
workers live in :mod:`aioloom.web.worker` (not imported here). Public names follow aiohttp 3.14.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import _exceptions
from ._app import (
    Application,
    CleanupError,
)
from ._coding import (
    ContentCoding,
)
from ._exceptions import *  # noqa: F403 (every HTTP exception; the list is _exceptions.__all__)
from ._fileresponse import (
    FileResponse,
)
from ._keys import (
    AppKey,
    RequestKey,
    ResponseKey,
)
from ._log import (
    AbstractAccessLogger,
    AccessLogger,
)
from ._middlewares import (
    middleware,
    normalize_path_middleware,
)
from ._protocol import (
    PayloadAccessError,
    RequestHandler,
    RequestPayloadError,
)
from ._request import (
    BaseRequest,
    FileField,
    Request,
)
from ._resources import (
    DynamicResource,
    PlainResource,
    Resource,
)
from ._response import (
    Response,
    StreamResponse,
    json_bytes_response,
    json_response,
)
from ._routedef import (
    AbstractRouteDef,
    RouteDef,
    RouteTableDef,
    StaticDef,
    delete,
    get,
    head,
    options,
    patch,
    post,
    put,
    route,
    static,
    view,
)
from ._routing import (
    AbstractMatchInfo,
    AbstractResource,
    AbstractRoute,
    AbstractRouter,
    MatchInfoError,
    ResourceRoute,
    SystemRoute,
    UrlMappingMatchInfo,
)
from ._run_app import (
    run_app,
)
from ._runner import (
    AppRunner,
    BaseRunner,
    BaseSite,
    GracefulExit,
    ServerRunner,
    SockSite,
    TCPSite,
    UnixSite,
)
from ._server import (
    Server,
)
from ._static import (
    StaticResource,
)
from ._subapp_resources import (
    AbstractRuleMatching,
    Domain,
    MaskDomain,
    MatchedSubAppResource,
    PrefixedSubAppResource,
    PrefixResource,
)
from ._urldispatcher import (
    UrlDispatcher,
)
from ._view import (
    AbstractView,
    View,
)
from ._ws import WebSocketReady, WebSocketResponse, shutdown_websockets

# aioloom.websocket names (WSMsgType, ...) are served lazily by ._ws, so that importing
# this package never needs the websocket extra (PEP 562).
if TYPE_CHECKING:
    from aioloom.websocket import WSCloseCode as WSCloseCode
    from aioloom.websocket import WSMessage as WSMessage
    from aioloom.websocket import WSMsgType as WSMsgType


def __getattr__(name: str) -> Any:
    if name in ("WSCloseCode", "WSMessage", "WSMsgType"):
        from . import _ws

        return getattr(_ws, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AbstractAccessLogger",
    "AbstractMatchInfo",
    "AbstractResource",
    "AbstractRoute",
    "AbstractRouteDef",
    "AbstractRouter",
    "AbstractRuleMatching",
    "AbstractView",
    "AccessLogger",
    "AppKey",
    "AppRunner",
    "Application",
    "BaseRequest",
    "BaseRunner",
    "BaseSite",
    "CleanupError",
    "ContentCoding",
    "Domain",
    "DynamicResource",
    "FileField",
    "FileResponse",
    "GracefulExit",
    "MaskDomain",
    "MatchInfoError",
    "MatchedSubAppResource",
    "PayloadAccessError",
    "PlainResource",
    "PrefixResource",
    "PrefixedSubAppResource",
    "Request",
    "RequestHandler",
    "RequestKey",
    "RequestPayloadError",
    "Resource",
    "ResourceRoute",
    "Response",
    "ResponseKey",
    "RouteDef",
    "RouteTableDef",
    "Server",
    "ServerRunner",
    "SockSite",
    "StaticDef",
    "StaticResource",
    "StreamResponse",
    "SystemRoute",
    "TCPSite",
    "UnixSite",
    "UrlDispatcher",
    "UrlMappingMatchInfo",
    "View",
    "delete",
    "get",
    "head",
    "json_bytes_response",
    "json_response",
    "middleware",
    "normalize_path_middleware",
    "options",
    "patch",
    "post",
    "put",
    "route",
    "run_app",
    "static",
    "view",
    "WebSocketReady",
    "WebSocketResponse",
    "shutdown_websockets",
]
__all__ += _exceptions.__all__
