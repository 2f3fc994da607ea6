"""Access logging: AccessLogger directives, format compilation, AbstractAccessLogger, wiring."""

from __future__ import annotations

import asyncio
import logging
import os
import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from aioloom.web._log import (
    AbstractAccessLogger,
    AccessLogger,
    access_logger,
    server_logger,
    web_logger,
)
from aioloom.web._protocol import RequestHandler
from aioloom.web._request import BaseRequest
from aioloom.web._response import Response, StreamResponse
from aioloom.web._server import Server

RAW = (
    b"GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nReferer: http://ref/\r\n"
    b"User-Agent: curl/8\r\n\r\n"
)


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def capture() -> Any:
    logger = logging.getLogger("test.access")
    handler = Capture()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)


def _response(
    status: int = 200, body_length: int = 0, headers: dict[str, str] | None = None
) -> StreamResponse:
    resp = Response(status=status, headers=headers)
    resp._body_length = body_length
    return resp


def test_logger_names() -> None:
    assert access_logger.name == "aioloom.web.access"
    assert server_logger.name == "aioloom.web.server"
    assert web_logger.name == "aioloom.web"


def test_default_format_is_aiohttps() -> None:
    assert AccessLogger.LOG_FORMAT == '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'


def test_default_format_line(make_request: Any, capture: Any) -> None:
    logger, handler = capture
    request = make_request(RAW, peername=("10.1.2.3", 5555))
    AccessLogger(logger).log(request, _response(404, 123), 0.5)
    (record,) = handler.records
    assert record.levelno == logging.INFO
    message = record.getMessage()
    pattern = (
        r"10\.1\.2\.3 \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] "
        r'"GET /path\?q=1 HTTP/1\.1" 404 123 "http://ref/" "curl/8"'
    )
    assert re.fullmatch(pattern, message), message
    extra: Any = record.__dict__
    assert extra["remote_address"] == "10.1.2.3"
    assert extra["first_request_line"] == "GET /path?q=1 HTTP/1.1"
    assert extra["response_status"] == 404
    assert extra["response_size"] == 123
    assert extra["request_header"] == {"Referer": "http://ref/", "User-Agent": "curl/8"}


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ("%T", "2"),
        ("%Tf", "1.500000"),
        ("%D", "1500000"),
        ("%s", "201"),
        ("%b", "77"),
        ("%P", f"<{os.getpid()}>"),
        ("%r", "GET /path?q=1 HTTP/1.1"),
        ("%{User-Agent}i %{X-Missing}i", "curl/8 -"),
        ("%{X-Out}o|%{X-None}o", "yes|-"),
        ("100%% done %s", "100% done 201"),
        ("%x %{Env}e", "%x %{Env}e"),  # not directives: copied as they are
        ("plain text", "plain text"),
        ("%Tf%T", "1.5000002"),
    ],
)
def test_directives(make_request: Any, capture: Any, fmt: str, expected: str) -> None:
    logger, handler = capture
    request = make_request(RAW)
    AccessLogger(logger, fmt).log(request, _response(201, 77, {"X-Out": "yes"}), 1.5)
    assert handler.records[-1].getMessage() == expected


def test_remote_missing(make_request: Any, capture: Any) -> None:
    logger, handler = capture
    request = make_request(RAW, peername=None)
    AccessLogger(logger, "%a").log(request, _response(), 0.0)
    assert handler.records[-1].getMessage() == "-"


def test_time_directive_is_start_time(make_request: Any, capture: Any) -> None:
    logger, handler = capture
    AccessLogger(logger, "%t").log(make_request(RAW), _response(), 3600.0)
    message = handler.records[-1].getMessage()
    logged = datetime.strptime(message, "[%d/%b/%Y:%H:%M:%S %z]")
    expected = datetime.now().astimezone() - timedelta(seconds=3600)
    assert abs((logged - expected).total_seconds()) < 5


def test_format_is_compiled_once() -> None:
    log = logging.getLogger("test.compile")
    first = AccessLogger(log, "%a %s")
    second = AccessLogger(log, "%a %s")
    assert first._methods is second._methods
    template, methods = AccessLogger.compile_format('%a "%{H}i" 50%%')
    assert template == '%s "%s" 50%%'
    assert [m.key for m in methods] == ["remote_address", ("request_header", "H")]


def test_enabled_follows_logger_level() -> None:
    log = logging.getLogger("test.enabled")
    log.setLevel(logging.WARNING)
    assert AccessLogger(log).enabled is False
    log.setLevel(logging.INFO)
    assert AccessLogger(log).enabled is True


def test_failing_directive_is_logged_not_raised(capture: Any) -> None:
    logger, handler = capture

    class Broken:
        @property
        def remote(self) -> str:
            raise RuntimeError("boom")

    AccessLogger(logger, "%a").log(Broken(), _response(), 0.0)  # type: ignore[arg-type]
    (record,) = handler.records
    assert record.levelno == logging.ERROR
    assert record.getMessage() == "Error in logging"
    assert record.exc_info is not None and isinstance(record.exc_info[1], RuntimeError)


def test_abstract_access_logger() -> None:
    with pytest.raises(TypeError):
        AbstractAccessLogger(logging.getLogger("x"), "")  # type: ignore[abstract]

    class Custom(AbstractAccessLogger):
        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            self.logger.info("custom %s", response.status)

    custom = Custom(logging.getLogger("x"), "fmt")
    assert custom.enabled is True
    assert custom.log_format == "fmt"


async def _one_request(port: int, raw: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    data = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    return data


async def test_server_logs_each_request(serve: Any, capture: Any) -> None:
    logger, handler = capture

    async def hello(request: BaseRequest) -> StreamResponse:
        return Response(text="hello")

    kwargs = {
        "access_log_class": AccessLogger,
        "access_log": logger,
        "access_log_format": '%a "%r" %s %b %{Content-Type}o',
    }
    async with serve(hello, **kwargs) as (port, _):
        data = await _one_request(port, b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    (record,) = handler.records
    assert record.getMessage() == (
        f'127.0.0.1 "GET /x HTTP/1.1" 200 {len(data)} text/plain; charset=utf-8'
    )


async def test_server_skips_disabled_logger(serve: Any, capture: Any) -> None:
    logger, handler = capture
    logger.setLevel(logging.WARNING)

    async def hello(request: BaseRequest) -> StreamResponse:
        return Response(text="hello")

    async with serve(hello, access_log_class=AccessLogger, access_log=logger) as (port, _):
        await _one_request(port, b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert handler.records == []


async def test_custom_logger_class_in_server(serve: Any) -> None:
    seen: list[tuple[str, int, float]] = []

    class Recorder(AbstractAccessLogger):
        def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
            seen.append((request.path, response.status, time))

    async def slow(request: BaseRequest) -> StreamResponse:
        await asyncio.sleep(0.05)
        return Response(status=204)

    server_kwargs = {"access_log_class": Recorder, "access_log": logging.getLogger("test.rec")}
    async with serve(slow, **server_kwargs) as (port, _):
        await _one_request(port, b"GET /rec HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
    assert len(seen) == 1
    path, status, elapsed = seen[0]
    assert (path, status) == ("/rec", 204)
    assert 0.04 <= elapsed < 5


async def test_protocol_defaults_to_access_logger(loop: asyncio.AbstractEventLoop) -> None:
    # The protocol builds its access logger as cls(logger, format) from these defaults.
    protocol = RequestHandler(Server(_unused), loop=loop)
    assert isinstance(protocol.access_logger, AccessLogger)
    assert protocol.access_logger.logger is access_logger
    assert protocol.access_logger.log_format == AccessLogger.LOG_FORMAT


async def _unused(request: BaseRequest) -> StreamResponse:
    raise AssertionError("not called")
