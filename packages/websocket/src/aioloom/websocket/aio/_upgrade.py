"""Taking a transport over after an HTTP upgrade: :class:`UpgradedProtocol`.

After ``101 Switching Protocols`` the bytes on the connection are no longer HTTP. The server
hands them to a parser through ``RequestHandler.set_parser``; where the HTTP protocol has
no such seam (the client's pooled ``ResponseHandler``), the transport itself is switched to
an :class:`UpgradedProtocol` with :meth:`asyncio.BaseTransport.set_protocol`, the public
asyncio API for handing a transport to another protocol. It:

* feeds every byte to the parser (a :class:`~._connection.WebSocketConnection`), after the
  bytes the HTTP parser had already read past the upgraded message (``tail``). Its
  ``data_received`` is an instance attribute: the list's ``append`` until the parser is
  set, then the parser's own bound ``feed_data``, so that each read costs the transport
  one call straight into the parser, with no frame of ours in between;
* gives the parser back-pressure in both directions (it is a ``BaseProtocol``);
* tells the parser about the end (EOF or connection lost), and passes ``connection_lost``
  on to the protocol it replaced, so that the HTTP side's bookkeeping (its ``closed``
  future, its pool) sees the connection end as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, Protocol, cast

from aioloom.http.aio._protocol import BaseProtocol

__all__ = ("UpgradeParser", "UpgradedProtocol")


class UpgradeParser(Protocol):
    """What consumes an upgraded connection's bytes (the server's ``set_parser`` seam)."""

    def feed_data(self, data: bytes) -> tuple[bool, bytes]: ...

    def feed_eof(self) -> Any: ...


class UpgradedProtocol(BaseProtocol):
    """The protocol of a transport taken over after an upgrade (see the module docstring).

    Args:
        loop: the event loop.
        previous: the protocol it replaces; its ``connection_lost`` is called too.
    """

    # ``data_received`` is a slot: it shadows asyncio.Protocol's method (module docstring).
    __slots__ = ("_buffer", "_eof", "_parser", "_previous", "data_received")

    def __init__(
        self, loop: asyncio.AbstractEventLoop, previous: asyncio.BaseProtocol | None = None
    ) -> None:
        super().__init__(loop)
        self._previous = previous
        self._parser: UpgradeParser | None = None
        self._buffer: list[bytes] = []
        self._eof = False
        self.data_received: Callable[[bytes], object] = self._buffer.append  # type: ignore[assignment]

    @classmethod
    def take_over(
        cls, transport: asyncio.BaseTransport, previous: asyncio.BaseProtocol | None = None
    ) -> UpgradedProtocol:
        """Switch ``transport`` to a new :class:`UpgradedProtocol` and return it.

        Input goes to the protocol at once; until :meth:`set_parser` it is buffered.
        """
        loop = asyncio.get_running_loop()
        protocol = cls(loop, previous)
        transport.set_protocol(protocol)
        protocol.connection_made(transport)
        return protocol

    def set_parser(self, parser: UpgradeParser, tail: bytes = b"") -> None:
        """Give all input to ``parser``: ``tail`` first, then what was buffered, then the rest.

        Args:
            parser: the consumer of the connection's bytes.
            tail: bytes read past the upgraded message before the take-over.

        Raises:
            RuntimeError: a parser was already set.
        """
        if self._parser is not None:
            raise RuntimeError("The connection already has an upgraded parser")
        self._parser = parser
        pending, self._buffer = self._buffer, []
        self.data_received = parser.feed_data
        for data in (tail, *pending):
            if data:
                parser.feed_data(data)
        if self._eof:
            parser.feed_eof()

    def eof_received(self) -> bool:
        """The peer half-closed: the upgraded protocol ends; the transport closes."""
        self._end()
        return False

    def connection_lost(self, exc: BaseException | None) -> None:
        """End the parser's input, then notify the replaced protocol."""
        super().connection_lost(exc)
        self._end()
        previous, self._previous = self._previous, None
        if previous is not None:
            # asyncio only ever passes an Exception (or None) here.
            previous.connection_lost(cast("Exception | None", exc))

    def _end(self) -> None:
        if self._eof:
            return
        self._eof = True
        if self._parser is not None:
            self._parser.feed_eof()
