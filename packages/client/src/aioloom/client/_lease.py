"""``Connection``: one pooled connection, lent by a connector for one request.

It returns the protocol to the pool (:meth:`Connection.release`) or closes it
(:meth:`Connection.close`), and runs the callbacks registered for that moment (the
request's total deadline is disarmed that way). One left unreleased is reported as a
``ResourceWarning`` when it is collected.
"""

from __future__ import annotations

import asyncio
import traceback
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._connection import ResponseHandler
    from ._connector import BaseConnector
    from ._reqrep_info import ConnectionKey

__all__ = ("Connection",)


class Connection:
    """A connection lent by a connector for one request.

    Args:
        connector: the connector it comes from.
        key: its pool key.
        protocol: the connection's protocol.
        loop: the event loop.
        reused: True when it came from the pool (it served a request before).
    """

    __slots__ = (
        "__weakref__",
        "_callbacks",
        "_connector",
        "_key",
        "_loop",
        "_protocol",
        "_source_traceback",
        "reused",
    )

    def __init__(
        self,
        connector: BaseConnector,
        key: ConnectionKey,
        protocol: ResponseHandler,
        loop: asyncio.AbstractEventLoop,
        *,
        reused: bool = False,
    ) -> None:
        self._connector = connector
        self._key = key
        self._protocol: ResponseHandler | None = protocol
        self._loop = loop
        self._callbacks: list[Callable[[], None]] = []
        self.reused = reused
        self._source_traceback = traceback.extract_stack(limit=16) if loop.get_debug() else None

    def __repr__(self) -> str:
        return f"Connection<{self._key}>"

    def __del__(self, _warnings: Any = warnings) -> None:
        if self._protocol is None:
            return
        _warnings.warn(f"Unclosed connection {self!r}", ResourceWarning, source=self)
        if self._loop.is_closed():
            return
        self._connector._release(self._key, self._protocol, should_close=True)
        context: dict[str, object] = {"client_connection": self, "message": "Unclosed connection"}
        if self._source_traceback is not None:
            context["source_traceback"] = self._source_traceback
        self._loop.call_exception_handler(context)

    @property
    def key(self) -> ConnectionKey:
        """The pool key."""
        return self._key

    @property
    def transport(self) -> asyncio.Transport | None:
        """The transport, None once released."""
        return None if self._protocol is None else self._protocol.transport

    @property
    def protocol(self) -> ResponseHandler | None:
        """The protocol, None once released."""
        return self._protocol

    @property
    def closed(self) -> bool:
        """True once released or closed, or when the transport is gone."""
        return self._protocol is None or not self._protocol.is_connected()

    def add_callback(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` when the connection is released or closed."""
        if callback is not None:
            self._callbacks.append(callback)

    def _notify_release(self) -> None:
        callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a tracing/timer callback must not break the release
                self._loop.call_exception_handler(
                    {"message": "Exception in connection release callback", "connection": self}
                )

    def release(self) -> None:
        """Give the connection back: pooled when reusable, closed otherwise."""
        if self._callbacks:
            self._notify_release()
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._connector._release(self._key, protocol)  # it reads protocol.should_close

    def close(self) -> None:
        """Close the connection."""
        self._notify_release()
        protocol = self._protocol
        if protocol is not None:
            self._protocol = None
            self._connector._release(self._key, protocol, should_close=True)
