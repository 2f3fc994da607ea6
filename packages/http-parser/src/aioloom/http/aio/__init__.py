"""aioloom.http.aio: the asyncio glue shared by client, web and websocket.

Flow control, body streams, the stream writer and payloads live here, so that
``import aioloom.http`` itself never loads asyncio.
"""

from __future__ import annotations

from ._abc import AbstractStreamWriter

__all__ = ("AbstractStreamWriter",)
