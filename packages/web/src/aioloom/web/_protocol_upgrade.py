"""Upgraded server connections: the seam the WebSocket integration uses.

When the parser reports an upgrade (``Upgrade: websocket`` with ``Connection: upgrade``,
or CONNECT; RFC 9110 §7.8), the request goes to the handler as usual. A handler that
accepts it calls :meth:`~aioloom.web.RequestHandler.set_parser` with an
:class:`~aioloom.web._protocol_types.UpgradedParser` (``feed_data(data) -> (eof, tail)``
and ``feed_eof()``); every byte after the request head (the parser's tail, then all later
input) goes to it. Until then the input is kept, with reading paused once it outgrows the
read buffer. When the handler returns, the connection is closed, upgraded or not (the
HTTP parser cannot resume after an upgrade).

The protocol's ``data_received`` feeds an attached parser without a callback directly
(the WebSocket hot path, one call per read); the other cases come here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ._protocol_types import UpgradedParser

if TYPE_CHECKING:
    from ._protocol import RequestHandler

__all__ = ("attach_parser", "feed_upgraded")


def feed_upgraded(handler: RequestHandler, data: bytes) -> None:
    """Input after an upgrade: keep it until a parser is attached, else feed it."""
    parser = handler._upgrade_parser
    if parser is None:
        handler._message_tail += data
        if len(handler._message_tail) > handler._read_bufsize:
            handler.pause_reading()  # nobody took the connection yet
        return
    if handler._data_received_cb is not None:
        handler._data_received_cb()
    eof, _ = parser.feed_data(data)
    if eof:
        handler.close()


def attach_parser(
    handler: RequestHandler,
    parser: UpgradedParser,
    data_received_cb: Callable[[], None] | None,
) -> None:
    """Hand the connection's input to ``parser``, the kept input first.

    Raises:
        RuntimeError: a parser was already attached.
    """
    if handler._upgrade_parser is not None:
        raise RuntimeError("The connection already has an upgraded parser")
    handler._upgraded = True
    handler._upgrade_parser = parser
    handler._data_received_cb = data_received_cb
    tail, handler._message_tail = handler._message_tail, b""
    if tail:
        eof, _ = parser.feed_data(tail)
        if eof:
            handler.close()
    handler.resume_reading()
