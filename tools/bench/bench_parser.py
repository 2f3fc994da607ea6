"""The ``parser`` benchmark: HTTP/1.1 messages parsed per second, aioloom against its peers.

Four workloads (requests for the request parsers, responses for the response
parsers), five systems: aioloom's pure-Python parser, aiohttp's pure-Python
parser (the reference), aiohttp's compiled llhttp parser, h11 and httptools.

Every system does the same work per message, and is checked to have done it
before it is timed: the head is parsed, the header fields end up in a
``CIMultiDictProxy[str]`` (aiohttp and aioloom build one themselves; for h11 and
httptools the raw pairs are decoded and put into one, as aiohttp does), and the
body is delivered as one ``bytes`` (chunks joined; aiohttp's StreamReader is
drained with ``read_nowait()``). aiohttp and aioloom also build a ``yarl.URL``
and compute keep-alive/upgrade flags, which h11 and httptools are not asked to.
A fresh parser is made per message (per buffer for the pipelined case), so its
construction is part of the cost, as on a new connection.

The module's top level uses only the standard library and ``harness``: the peers
and aioloom are imported inside the measuring subprocess, and a failed import
makes that system "unavailable" instead of stopping the benchmark.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from harness import Benchmark, Case, CheckFailed, Context, Runner, System, Unavailable, measure

Parsed = list[tuple[Mapping[str, str], bytes]]
"""What one call of a system's parse function returns: (headers, body) per message."""
ParseFn = Callable[[], Parsed]
HeaderBuilder = Callable[[Iterable[tuple[bytes, bytes]]], Mapping[str, str]]

# ---------------------------------------------------------------------------------------------
# Workloads

BROWSER_GET = (
    b"GET /catalog?q=linen+shirt&page=2 HTTP/1.1\r\n"
    b"Host: shop.example.com\r\n"
    b"User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    b"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    b"Accept-Language: en-US,en;q=0.5\r\n"
    b"Accept-Encoding: gzip, deflate, br\r\n"
    b"Connection: keep-alive\r\n"
    b"Cookie: session=8f14e45fceea167a; theme=dark\r\n"
    b"Referer: https://shop.example.com/\r\n"
    b"Upgrade-Insecure-Requests: 1\r\n"
    b"Sec-Fetch-Dest: document\r\n"
    b"Sec-Fetch-Mode: navigate\r\n"
    b"Sec-Fetch-Site: same-origin\r\n"
    b"Cache-Control: max-age=0\r\n"
    b"\r\n"
)

SMALL_BODY = (
    b'{"id":1187,"name":"linen shirt","size":"M","price":"39.90",'
    b'"currency":"EUR","in_stock":true,"qty":1}'
)
SMALL_RESPONSE = (
    b"HTTP/1.1 200 OK\r\n"
    b"Date: Tue, 02 Jun 2026 09:30:00 GMT\r\n"
    b"Server: nginx/1.26.2\r\n"
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"Content-Length: " + str(len(SMALL_BODY)).encode() + b"\r\n"
    b"Cache-Control: no-cache\r\n"
    b'ETag: "5f2b-18c6a1"\r\n'
    b"Vary: Accept-Encoding\r\n"
    b"X-Request-Id: 7d9c2e1a-4b3f-4c8e-9a6d-1f0e2b3c4d5e\r\n"
    b"\r\n" + SMALL_BODY
)

CHUNK_SIZE = 4 * 1024
CHUNK_COUNT = 16  # 64 KiB of body
CHUNK = bytes(range(256)) * (CHUNK_SIZE // 256)
CHUNKED_BODY = CHUNK * CHUNK_COUNT
CHUNKED_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Date: Tue, 02 Jun 2026 09:30:00 GMT\r\n"
    b"Server: nginx/1.26.2\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Cache-Control: no-store\r\n"
    b"\r\n"
)
# RFC 9112 §7.1: each chunk is its size in hex, CRLF, the data, CRLF; then the last chunk
# (size 0) and the CRLF that ends the (empty) trailer section.
CHUNKED_RESPONSE = (
    CHUNKED_HEAD + (b"%x\r\n" % CHUNK_SIZE + CHUNK + b"\r\n") * CHUNK_COUNT + b"0\r\n\r\n"
)

PIPELINED_COUNT = 100
PIPELINED = BROWSER_GET * PIPELINED_COUNT

# What wrk sends to the web benchmark's server, and that benchmark's `post` upload.
WRK_GET = b"GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"
POST_BODY = bytes(range(256)) * 256  # 64 KiB
POST = (
    b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
    b"Content-Length: " + str(len(POST_BODY)).encode() + b"\r\n\r\n" + POST_BODY
)


@dataclass(frozen=True)
class Workload:
    """The bytes of a case and what parsing them must produce.

    Attributes:
        data: One buffer, fed whole to a fresh parser.
        is_request: Request parsers read it (else response parsers).
        header_count: Header fields of each message.
        probe: A (name, value) field each parsed message must carry, looked up
            case-insensitively.
        body: The body of each message.
    """

    data: bytes
    is_request: bool
    header_count: int
    probe: tuple[str, str]
    body: bytes = b""


WORKLOADS = {
    "get": Workload(BROWSER_GET, True, 13, ("sec-fetch-site", "same-origin")),
    "response": Workload(SMALL_RESPONSE, False, 8, ("etag", '"5f2b-18c6a1"'), SMALL_BODY),
    "chunked": Workload(CHUNKED_RESPONSE, False, 5, ("transfer-encoding", "chunked"), CHUNKED_BODY),
    "pipelined": Workload(PIPELINED, True, 13, ("sec-fetch-site", "same-origin")),
    "wrk": Workload(WRK_GET, True, 1, ("host", "127.0.0.1:8080")),
    "post": Workload(POST, True, 2, ("content-length", "65536"), POST_BODY),
}

CASES = (
    Case("get", f"browser GET, 13 header fields, {len(BROWSER_GET)} bytes (request parsers)"),
    Case(
        "response",
        f"200 response, 8 header fields, Content-Length body of {len(SMALL_BODY)} bytes,"
        f" {len(SMALL_RESPONSE)} bytes in all (response parsers)",
    ),
    Case(
        "chunked",
        f"200 response, chunked body of {len(CHUNKED_BODY) // 1024} KiB in"
        f" {CHUNK_COUNT} chunks of {CHUNK_SIZE // 1024} KiB (response parsers; 1 message)",
    ),
    Case(
        "pipelined",
        f"{PIPELINED_COUNT} pipelined `get` requests in one buffer of {len(PIPELINED)} bytes"
        f" (request parsers; counts {PIPELINED_COUNT} messages)",
        units_per_call=PIPELINED_COUNT,
    ),
    Case("wrk", f"wrk's GET to the web benchmark, 1 header field, {len(WRK_GET)} bytes"),
    Case(
        "post",
        f"POST with a Content-Length body of {len(POST_BODY) // 1024} KiB,"
        f" {len(POST)} bytes in all (request parsers)",
    ),
)

# ---------------------------------------------------------------------------------------------
# Shared pieces of the systems


def _import(name: str) -> ModuleType:
    """Import ``name``, turning an import failure into :class:`Unavailable`."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise Unavailable(f"cannot import {name}: {type(exc).__name__}: {exc}") from exc


def _header_builder() -> HeaderBuilder:
    """Raw (name, value) pairs -> ``CIMultiDictProxy[str]``, decoded as aiohttp decodes them."""
    multidict = _import("multidict")
    ci_multidict = multidict.CIMultiDict
    proxy = multidict.CIMultiDictProxy

    def build(pairs: Iterable[tuple[bytes, bytes]]) -> Mapping[str, str]:
        fields = [
            (name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
            for name, value in pairs
        ]
        result: Mapping[str, str] = proxy(ci_multidict(fields))
        return result

    return build


def _verify(case: Case, workload: Workload, parsed: Parsed) -> None:
    """Refuse to time a system whose output is not the case's messages.

    Raises:
        CheckFailed: Wrong message count, header fields or body.
    """
    if len(parsed) != case.units_per_call:
        raise CheckFailed(f"{len(parsed)} messages parsed, {case.units_per_call} expected")
    name, value = workload.probe
    for headers, body in parsed:
        if len(headers) != workload.header_count:
            raise CheckFailed(f"{len(headers)} header fields, {workload.header_count} expected")
        if headers.get(name) != value:
            raise CheckFailed(f"header {name!r} is {headers.get(name)!r}, {value!r} expected")
        if body != workload.body:
            raise CheckFailed(f"body of {len(body)} bytes, {len(workload.body)} expected")


def _runner(factory: Callable[[Workload], ParseFn]) -> Runner:
    """Wrap a parse-function factory into a harness runner: build, check, then time."""

    def run(case: Case, ctx: Context) -> float:
        workload = WORKLOADS[case.name]
        parse = factory(workload)
        _verify(case, workload, parse())
        return measure(parse, ctx.min_time, units=case.units_per_call)

    return run


# ---------------------------------------------------------------------------------------------
# The systems


def _aioloom(workload: Workload) -> ParseFn:
    """aioloom's parser: ``feed_data`` returns heads, body chunks and EndOfMessage markers."""
    return _aioloom_parse(workload, head_cache=True)


def _aioloom_nocache(workload: Workload) -> ParseFn:
    """aioloom's parser with its head cache off: every head is parsed, as a new one is."""
    return _aioloom_parse(workload, head_cache=False)


def _aioloom_parse(workload: Workload, *, head_cache: bool) -> ParseFn:
    """The aioloom systems; without ``head_cache`` each parser's ``_cache`` is set to None."""
    module = _import("aioloom.http._parser")
    parser_class: Any = (
        module.HttpRequestParser if workload.is_request else module.HttpResponseParser
    )
    end_marker = module.EndOfMessage
    # EndOfMessage may be a class or a singleton: match instances of its class either way.
    end_type = end_marker if isinstance(end_marker, type) else type(end_marker)
    method = None if workload.is_request else "GET"
    data = workload.data

    def parse() -> Parsed:
        parser = parser_class()
        if not head_cache:
            parser._cache = None
        if method is not None:
            parser.method = method
        events, _upgraded, _tail = parser.feed_data(data)
        messages: Parsed = []
        head: Any = None
        chunks: list[bytes] = []
        for event in events:
            if isinstance(event, bytes):
                chunks.append(event)
            elif isinstance(event, end_type):
                messages.append((head.headers, b"".join(chunks)))
                chunks = []
            else:
                head = event
        return messages

    return parse


def _aiohttp(suffix: str) -> Callable[[Workload], ParseFn]:
    """aiohttp's parser, ``Py`` or ``C`` flavour, set up as aiohttp's own tests set it up."""

    def factory(workload: Workload) -> ParseFn:
        import asyncio
        import atexit

        http_parser = _import("aiohttp.http_parser")
        base_protocol = _import("aiohttp.base_protocol")
        kind = "HttpRequestParser" if workload.is_request else "HttpResponseParser"
        parser_class: Any = getattr(http_parser, kind + suffix, None)
        if parser_class is None:
            raise Unavailable(
                f"aiohttp.http_parser has no {kind + suffix}"
                " (aiohttp built without its C extension, or AIOHTTP_NO_EXTENSIONS is set)"
            )
        # The loop is never run: the parser only hands it to the StreamReaders it creates.
        loop = asyncio.new_event_loop()
        atexit.register(loop.close)
        protocol = base_protocol.BaseProtocol(loop)
        data = workload.data

        def parse() -> Parsed:
            parser = parser_class(protocol, loop, 2**16, max_line_size=8190, max_field_size=8190)
            messages, _upgraded, _tail = parser.feed_data(data)
            # read_nowait() drains what the payload parser fed into the StreamReader
            # (EMPTY_PAYLOAD for a body-less message gives b"").
            return [(message.headers, payload.read_nowait()) for message, payload in messages]

        return parse

    return factory


# h11 keeps its receive buffer in one bytearray and hands the unparsed rest over as bytes:
# feeding a whole pipelined buffer to each per-message Connection would copy it O(n^2).
# Requests are therefore fed as a server reads a socket, a piece at a time.
H11_PIECE = 4 * 1024


def _h11(workload: Workload) -> ParseFn:
    """h11: a fresh Connection per message, events pulled until EndOfMessage."""
    h11 = _import("h11")
    build = _header_builder()
    connection, server, client = h11.Connection, h11.SERVER, h11.CLIENT
    data_event, end_event, need_data = h11.Data, h11.EndOfMessage, h11.NEED_DATA
    head_events = (h11.Request, h11.Response)
    data = workload.data

    def message(conn: Any, view: memoryview, pos: int) -> tuple[Mapping[str, str], bytes, int]:
        head: Any = None
        chunks: list[bytes] = []
        while True:
            event = conn.next_event()
            if type(event) is data_event:
                chunks.append(event.data)
            elif type(event) is end_event:
                return build(head.headers.raw_items()), b"".join(chunks), pos
            elif event is need_data and pos < len(view):
                conn.receive_data(view[pos : pos + H11_PIECE])
                pos += H11_PIECE
            elif isinstance(event, head_events):
                head = event
            else:
                raise CheckFailed(f"h11 stopped at {event!r} before the end of a message")

    def parse_requests() -> Parsed:
        view = memoryview(data)
        messages: Parsed = []
        pos = 0
        rest = b""
        while rest or pos < len(view):
            conn = connection(server)
            if rest:
                conn.receive_data(rest)
            headers, body, pos = message(conn, view, pos)
            messages.append((headers, body))
            rest = conn.trailing_data[0]
        return messages

    # A client Connection parses a response only after it has sent a request: the cost of
    # sending this prebuilt one is part of h11's figure (it is small next to the parse).
    request = h11.Request(method="GET", target="/", headers=[("Host", "shop.example.com")])

    def parse_response() -> Parsed:
        conn = connection(client)
        conn.send(request)
        conn.receive_data(data)
        headers, body, _pos = message(conn, memoryview(b""), 0)
        return [(headers, body)]

    return parse_requests if workload.is_request else parse_response


class _HttptoolsSink:
    """The callback object of an httptools parser: collects fields and body chunks."""

    __slots__ = ("_build", "_chunks", "_fields", "_headers", "messages")

    def __init__(self, build: HeaderBuilder) -> None:
        self._build = build
        self._fields: list[tuple[bytes, bytes]] = []
        self._chunks: list[bytes] = []
        self._headers: Mapping[str, str] = {}
        self.messages: Parsed = []

    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields.append((name, value))

    def on_headers_complete(self) -> None:
        self._headers = self._build(self._fields)
        self._fields = []

    def on_body(self, body: bytes) -> None:
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        self.messages.append((self._headers, b"".join(self._chunks)))
        self._chunks = []


def _httptools(workload: Workload) -> ParseFn:
    """httptools (llhttp): a fresh parser per buffer, callbacks into a :class:`_HttptoolsSink`."""
    httptools = _import("httptools")
    build = _header_builder()
    parser_class: Any = (
        httptools.HttpRequestParser if workload.is_request else httptools.HttpResponseParser
    )
    data = workload.data

    def parse() -> Parsed:
        sink = _HttptoolsSink(build)
        parser_class(sink).feed_data(data)
        return sink.messages

    return parse


SYSTEMS = (
    System(
        "aioloom",
        "`aioloom.http._parser` HttpRequestParser / HttpResponseParser (pure Python), fresh per"
        " buffer; events walked, body chunks joined",
        _runner(_aioloom),
    ),
    System(
        "aioloom-nocache",
        "`aioloom` with the parsers' head cache off (`parser._cache = None`): a repeated head"
        " is parsed again instead of reused (the start-line and Host caches stay on)",
        _runner(_aioloom_nocache),
    ),
    System(
        "aiohttp-py",
        "`aiohttp.http_parser.HttpRequestParserPy` / `HttpResponseParserPy` (pure Python) with a"
        " BaseProtocol and an idle loop, fresh per buffer; payload drained with read_nowait()",
        _runner(_aiohttp("Py")),
    ),
    System(
        "aiohttp-c",
        "`aiohttp.http_parser.HttpRequestParserC` / `HttpResponseParserC` (llhttp), set up as"
        " aiohttp-py",
        _runner(_aiohttp("C")),
    ),
    System(
        "h11",
        "`h11.Connection` per message (requests fed 4 KiB at a time, responses after a"
        " prebuilt GET is sent), events pulled until EndOfMessage; fields into CIMultiDictProxy",
        _runner(_h11),
    ),
    System(
        "httptools",
        "`httptools` parser per buffer; callbacks collect fields into a list (CIMultiDictProxy at"
        " headers-complete) and body chunks into a list",
        _runner(_httptools),
    ),
)

BENCHMARK = Benchmark(
    name="parser",
    title="HTTP/1.1 parser",
    description=(
        "Messages parsed per second from whole buffers: each system gets the case's bytes in"
        " one `feed_data` (h11: see below), must deliver every message's header fields as a"
        " case-insensitive mapping and its body as bytes (checked before timing), and builds a"
        " fresh parser per message, or per buffer for `pipelined`. aiohttp and aioloom also"
        " build the request URL and the keep-alive/upgrade flags; h11 and httptools do not."
    ),
    unit="msg/s",
    cases=CASES,
    systems=SYSTEMS,
    reference="aiohttp-py",
    packages=("aioloom-http", "aiohttp", "h11", "httptools", "multidict", "yarl", "propcache"),
)
