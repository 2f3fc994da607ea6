"""The writer interface that payloads, responses and requests write through."""

from __future__ import annotations

from abc import ABC, abstractmethod

from multidict import CIMultiDict

__all__ = ("AbstractStreamWriter",)


class AbstractStreamWriter(ABC):
    """Abstract stream writer, as aiohttp.abc.AbstractStreamWriter.

    Attributes:
        buffer_size: bytes accepted but not yet handed to the transport.
        output_size: bytes handed to the transport so far (after framing and compression).
        length: the declared body length, or None when unknown (chunked / until close).
    """

    buffer_size: int = 0
    output_size: int = 0
    length: int | None = 0

    @abstractmethod
    async def write(self, chunk: bytes | bytearray | memoryview) -> None:
        """Write a body chunk, applying compression and chunked framing when enabled."""

    @abstractmethod
    async def write_eof(self, chunk: bytes = b"") -> None:
        """Write the last chunk and finish the message."""

    @abstractmethod
    async def drain(self) -> None:
        """Wait until the transport's write buffer is below its high-water mark."""

    @abstractmethod
    def enable_compression(self, encoding: str = "deflate", strategy: int | None = None) -> None:
        """Compress the body with ``encoding`` (deflate, gzip, br, zstd)."""

    @abstractmethod
    def enable_chunking(self) -> None:
        """Frame the body with chunked transfer coding (RFC 9112 §7.1)."""

    @abstractmethod
    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        """Serialize and write (or buffer) the message head."""

    def send_headers(self) -> None:  # noqa: B027 - optional hook with a do-nothing default
        """Flush a buffered head to the transport at once (default: nothing is buffered)."""
