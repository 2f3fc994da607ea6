"""Access logging: :class:`AbstractAccessLogger` and the format-driven :class:`AccessLogger`.

The server protocol calls ``access_logger.log(request, response, time)`` once per answered
request (``time`` is the seconds spent serving it) when ``access_logger.enabled`` is true.
:class:`AccessLogger` turns an Apache-style format (aiohttp's directives, below) into one
``logger.info`` record; a format string is compiled once per process into a ``%``-template
and a list of small formatter functions, so logging a request costs one call per directive.

It also owns the package's logger objects: ``aioloom.web.access`` (access records),
``aioloom.web.server`` (protocol errors) and ``aioloom.web`` (the framework).
"""

from __future__ import annotations

import logging
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Final, NamedTuple

if TYPE_CHECKING:
    from ._request import BaseRequest
    from ._stream_response import StreamResponse

__all__ = (
    "AbstractAccessLogger",
    "AccessLogger",
    "access_logger",
    "server_logger",
    "web_logger",
)

access_logger: Final = logging.getLogger("aioloom.web.access")
"""Where :func:`~aioloom.web.run_app` and the runners send access records by default."""
server_logger: Final = logging.getLogger("aioloom.web.server")
"""Protocol-level errors (bad requests, failing handlers)."""
web_logger: Final = logging.getLogger("aioloom.web")
"""The framework's own messages."""


class AbstractAccessLogger(ABC):
    """The base of access loggers (``aiohttp.abc.AbstractAccessLogger``).

    A subclass implements :meth:`log`; the server builds one per connection as
    ``cls(logger, log_format)``.

    Args:
        logger: the logger records go to.
        log_format: the format string (its meaning is up to the subclass).
    """

    __slots__ = ("log_format", "logger")

    def __init__(self, logger: logging.Logger, log_format: str) -> None:
        self.logger = logger
        self.log_format = log_format

    @abstractmethod
    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Record one answered request.

        Args:
            request: the request.
            response: the response that was sent.
            time: seconds spent serving the request.
        """

    @property
    def enabled(self) -> bool:
        """False lets the server skip timing and calling :meth:`log` (default: True)."""
        return True


_Formatter = Callable[["BaseRequest | None", "StreamResponse", float], object]


class KeyMethod(NamedTuple):
    """One compiled directive: its ``extra`` key and the function producing its value."""

    key: str | tuple[str, str]
    method: _Formatter


_MONTHS: Final = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()


def _format_a(request: BaseRequest | None, response: StreamResponse, time: float) -> str:
    if request is None:
        return "-"
    remote = request.remote
    return remote if remote is not None else "-"


def _format_t(request: BaseRequest | None, response: StreamResponse, time: float) -> str:
    # Apache's %t: the local time the request started, English month names whatever the
    # locale, "[10/Oct/2000:13:55:36 -0700]". astimezone() applies the current DST offset.
    start = datetime.now().astimezone() - timedelta(seconds=time)
    month = _MONTHS[start.month - 1]
    return f"[{start.day:02d}/{month}/{start.year:04d}:{start:%H:%M:%S %z}]"


def _format_p(request: BaseRequest | None, response: StreamResponse, time: float) -> str:
    return f"<{os.getpid()}>"


def _format_r(request: BaseRequest | None, response: StreamResponse, time: float) -> str:
    if request is None:
        return "-"
    version = request.version
    return f"{request.method} {request.path_qs} HTTP/{version.major}.{version.minor}"


def _format_s(request: BaseRequest | None, response: StreamResponse, time: float) -> int:
    return response.status


def _format_b(request: BaseRequest | None, response: StreamResponse, time: float) -> int:
    return response.body_length


def _format_big_t(request: BaseRequest | None, response: StreamResponse, time: float) -> str:
    return str(round(time))


def _format_tf(request: BaseRequest | None, response: StreamResponse, time: float) -> str:
    return f"{time:06f}"


def _format_d(request: BaseRequest | None, response: StreamResponse, time: float) -> str:
    return str(round(time * 1_000_000))


def _request_header(name: str) -> _Formatter:
    def format_i(request: BaseRequest | None, response: StreamResponse, time: float) -> str:
        if request is None:
            return "(no headers)"
        return request.headers.get(name, "-")

    return format_i


def _response_header(name: str) -> _Formatter:
    def format_o(request: BaseRequest | None, response: StreamResponse, time: float) -> str:
        return response.headers.get(name, "-")

    return format_o


# Directive -> (the key of its value in the record's ``extra``, its formatter).
_SIMPLE: Final[dict[str, tuple[str, _Formatter]]] = {
    "a": ("remote_address", _format_a),
    "t": ("request_start_time", _format_t),
    "P": ("process_id", _format_p),
    "r": ("first_request_line", _format_r),
    "s": ("response_status", _format_s),
    "b": ("response_size", _format_b),
    "T": ("request_time", _format_big_t),
    "Tf": ("request_time_frac", _format_tf),
    "D": ("request_time_micro", _format_d),
}
_HEADER: Final[dict[str, tuple[str, Callable[[str], _Formatter]]]] = {
    "i": ("request_header", _request_header),
    "o": ("response_header", _response_header),
}

# "%{Name}i" / "%{Name}o", one of the simple directives ("Tf" before "T"), or "%%".
_FORMAT_RE: Final = re.compile(r"%(?:\{([A-Za-z0-9\-_]+)\}([io])|(Tf|[atPrsbTD])|(%))")


class AccessLogger(AbstractAccessLogger):
    """Writes one line per request in an Apache-like format (aiohttp's ``AccessLogger``).

    Directives:

    ========== ===========================================================================
    ``%%``     a percent sign
    ``%a``     the client address (the proxy's when behind one, unless ``remote`` is set)
    ``%t``     the local time the request started, ``[10/Oct/2000:13:55:36 +0200]``
    ``%P``     the process id, ``<1234>``
    ``%r``     the request line, ``GET /path?q=1 HTTP/1.1``
    ``%s``     the response status
    ``%b``     the bytes sent for the response, head included
    ``%T``     seconds taken, rounded
    ``%Tf``    seconds taken, with a fraction (``%06f``)
    ``%D``     microseconds taken
    ``%{H}i``  the request header ``H`` (``-`` when absent)
    ``%{H}o``  the response header ``H`` (``-`` when absent)
    ========== ===========================================================================

    Any other text is copied as is. Each value is also passed in the record's ``extra``
    (``remote_address``, ``first_request_line``, ``request_header: {"H": ...}``...), so a
    structured handler can use the fields.

    Args:
        logger: the logger records go to (at INFO level).
        log_format: the format; default :attr:`LOG_FORMAT`.
    """

    LOG_FORMAT: ClassVar[str] = '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'
    """aiohttp's default format (the Apache combined log format, without the user)."""

    _FORMAT_CACHE: ClassVar[dict[str, tuple[str, tuple[KeyMethod, ...]]]] = {}

    __slots__ = ("_log_format", "_methods")

    def __init__(self, logger: logging.Logger, log_format: str = LOG_FORMAT) -> None:
        super().__init__(logger, log_format)
        compiled = self._FORMAT_CACHE.get(log_format)
        if compiled is None:
            compiled = self.compile_format(log_format)
            self._FORMAT_CACHE[log_format] = compiled
        self._log_format, self._methods = compiled

    @staticmethod
    def compile_format(log_format: str) -> tuple[str, tuple[KeyMethod, ...]]:
        """Translate ``log_format`` into a ``%``-template and its value producers.

        ``'%a "%r"'`` becomes ``('%s "%s"', (a-method, r-method))``; literal ``%`` signs
        outside directives are doubled so the template renders them unchanged.

        Returns:
            The template and one :class:`KeyMethod` per directive, in order.
        """
        methods: list[KeyMethod] = []
        pieces: list[str] = []
        pos = 0
        for match in _FORMAT_RE.finditer(log_format):
            pieces.append(log_format[pos : match.start()].replace("%", "%%"))
            pos = match.end()
            header, kind, simple, percent = match.groups()
            if percent is not None:
                pieces.append("%%")  # a literal percent sign
                continue
            pieces.append("%s")
            if simple is not None:
                key, method = _SIMPLE[simple]
                methods.append(KeyMethod(key, method))
            else:
                key, factory = _HEADER[kind]
                methods.append(KeyMethod((key, header), factory(header)))
        pieces.append(log_format[pos:].replace("%", "%%"))
        return "".join(pieces), tuple(methods)

    @property
    def enabled(self) -> bool:
        """True when the logger would emit an INFO record (else lines are not built)."""
        return self.logger.isEnabledFor(logging.INFO)

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        """Format and emit the record; a failing directive is logged, never raised."""
        try:
            values: list[object] = []
            extra: dict[str, Any] = {}
            for key, method in self._methods:
                value = method(request, response, time)
                values.append(value)
                if isinstance(key, str):
                    extra[key] = value
                else:
                    group, name = key
                    extra.setdefault(group, {})[name] = value
            self.logger.info(self._log_format % tuple(values), extra=extra)
        except Exception:
            self.logger.exception("Error in logging")
