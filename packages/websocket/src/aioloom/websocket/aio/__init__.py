"""aioloom.websocket.aio: the asyncio glue of a WebSocket connection, shared by both ends.

:class:`WebSocketConnection` drives the sans-I/O codec over a transport (message queue with
read back-pressure, drained writes, autoping, autoclose, heartbeat, timeouts, the closing
handshake; large compressed messages compressed in the executor by :class:`FrameSender`);
``aioloom.web.WebSocketResponse`` and ``aioloom.client.ClientWebSocketResponse``
wrap it. :class:`UpgradedProtocol` takes a transport over after an HTTP upgrade where the
HTTP protocol offers no parser seam. Importing this package loads asyncio;
``import aioloom.websocket`` does not.
"""

from __future__ import annotations

from ._connection import (
    DEFAULT_WRITER_LIMIT,
    THRESHOLD_CONNLOST_ACCESS,
    WebSocketConnection,
)
from ._heartbeat import (
    Heartbeat,
)
from ._queue import (
    DEFAULT_READER_LIMIT,
    MessageQueue,
    ReadFlowControl,
)
from ._sender import (
    COMPRESS_OFFLOAD_SIZE,
    FrameSender,
)
from ._upgrade import (
    UpgradedProtocol,
    UpgradeParser,
)

__all__ = (
    "COMPRESS_OFFLOAD_SIZE",
    "DEFAULT_READER_LIMIT",
    "DEFAULT_WRITER_LIMIT",
    "FrameSender",
    "Heartbeat",
    "MessageQueue",
    "ReadFlowControl",
    "THRESHOLD_CONNLOST_ACCESS",
    "UpgradeParser",
    "UpgradedProtocol",
    "WebSocketConnection",
)
