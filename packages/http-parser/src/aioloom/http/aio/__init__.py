"""aioloom.http.aio: the asyncio glue shared by client, web and websocket.

Flow control (:class:`BaseProtocol`), body streams (:class:`StreamReader`), the stream writer
and payloads live here, so that ``import aioloom.http`` itself never loads asyncio.
"""

from __future__ import annotations

from ._abc import (
    AbstractStreamWriter,
)
from ._dataqueue import (
    AsyncStreamIterator,
    DataQueue,
    EofStream,
    FlowControlDataQueue,
)
from ._payload import (
    PAYLOAD_REGISTRY,
    READ_SIZE,
    TOO_LARGE_BYTES_BODY,
    AsyncIterablePayload,
    BytesPayload,
    JsonPayload,
    Order,
    Payload,
    PayloadRegistry,
    StreamReaderPayload,
    StringPayload,
    get_payload,
    payload_type,
    register_payload,
)
from ._payload_io import (
    BufferedReaderPayload,
    BytesIOPayload,
    IOBasePayload,
    StringIOPayload,
    TextIOPayload,
    guess_filename,
)
from ._protocol import (
    BaseProtocol,
)
from ._streams import (
    DEFAULT_LIMIT,
    EMPTY_PAYLOAD,
    ChunkTupleAsyncStreamIterator,
    EmptyStreamReader,
    ReadTimer,
    StreamReader,
)
from ._writer import StreamWriter

__all__ = (
    "AbstractStreamWriter",
    "AsyncIterablePayload",
    "AsyncStreamIterator",
    "BaseProtocol",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "ChunkTupleAsyncStreamIterator",
    "DEFAULT_LIMIT",
    "DataQueue",
    "EMPTY_PAYLOAD",
    "EmptyStreamReader",
    "EofStream",
    "FlowControlDataQueue",
    "IOBasePayload",
    "JsonPayload",
    "Order",
    "PAYLOAD_REGISTRY",
    "Payload",
    "PayloadRegistry",
    "READ_SIZE",
    "ReadTimer",
    "StreamReader",
    "StreamReaderPayload",
    "StringIOPayload",
    "StringPayload",
    "TOO_LARGE_BYTES_BODY",
    "TextIOPayload",
    "get_payload",
    "guess_filename",
    "payload_type",
    "register_payload",
    "StreamWriter",
)
