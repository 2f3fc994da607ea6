"""Property tests: random input and mutated messages raise only HttpProcessingError.

Also: splitting the input never changes the outcome, and the fast field splitter agrees
with the reference line-by-line parser on every field section it accepts.
"""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aioloom.http._exceptions import HttpProcessingError
from aioloom.http._headparse import check_field_lines, parse_field_lines, split_fields_fast
from aioloom.http._parser import HttpRequestParser, HttpResponseParser

FUZZ = settings(
    max_examples=300,
    deadline=2000,  # a hang (or quadratic blow-up) fails the test
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

VALID_REQUESTS = [
    b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
    b"POST /p?q=1 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc",
    b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n\x81\x00",
    b"CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\ntunnel",
    b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
    b"OPTIONS * HTTP/1.1\r\nHost: a\r\nX-A: b\t c\r\n\r\n",
]
VALID_RESPONSES = [
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\nxx",
    b"HTTP/1.0 200 OK\nServer: x\n folded\n\nbody until close",
    b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
]
INTERESTING = b'\r\n\x00\t :;,="\\\x7f\xff0123456789abcdefABCDEF-+/?#*%HTP.\x16'

Factory = Callable[[], HttpRequestParser | HttpResponseParser]


def _response(lax: bool) -> Factory:
    def make() -> HttpResponseParser:
        return HttpResponseParser(lax=lax, max_line_size=200, max_field_size=200, max_headers=20)

    return make


def _request() -> HttpRequestParser:
    return HttpRequestParser(max_line_size=200, max_field_size=200, max_headers=20)


FACTORIES: list[Factory] = [_request, _response(True), _response(False)]


def _outcome(factory: Factory, chunks: list[bytes]) -> tuple[object, ...]:
    """Feed chunks then EOF; return a comparable summary.  Only parser errors may escape."""
    parser = factory()
    events: list[object] = []
    try:
        for index, chunk in enumerate(chunks):
            new, upgraded, tail = parser.feed_data(chunk)
            events.extend(new)
            if upgraded:
                return ("switched", _joined(events), tail + b"".join(chunks[index + 1 :]))
        events.extend(parser.feed_eof())
    except HttpProcessingError as exc:
        assert isinstance(exc.code, int) and 400 <= exc.code < 500
        return ("error", type(exc), exc.code)
    return ("ok", _joined(events))


def _joined(events: list[object]) -> list[object]:
    out: list[object] = []
    for event in events:
        if isinstance(event, bytes) and out and isinstance(out[-1], bytes):
            out[-1] += event
        else:
            out.append(event)
    return out


def _check_every_split(factory: Factory, data: bytes, cuts: list[int]) -> None:
    whole = _outcome(factory, [data])
    bytewise = _outcome(factory, [data[i : i + 1] for i in range(len(data))])
    points = sorted({min(c, len(data)) for c in cuts})
    pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
    for other in (bytewise, _outcome(factory, pieces)):
        assert other == whole, (data, pieces)


@FUZZ
@given(
    data=st.binary(max_size=300),
    cuts=st.lists(st.integers(0, 300), max_size=6),
    which=st.integers(0, 2),
)
def test_random_bytes(data: bytes, cuts: list[int], which: int) -> None:
    _check_every_split(FACTORIES[which], data, cuts)


@st.composite
def mutated(draw: st.DrawFn, corpus: list[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.integers(0, 3))
        pos = draw(st.integers(0, len(data)))
        if kind == 0:  # insert interesting bytes
            data[pos:pos] = draw(
                st.binary(min_size=1, max_size=3).map(
                    lambda b: bytes(INTERESTING[x % len(INTERESTING)] for x in b)
                )
            )
        elif kind == 1 and data:  # delete a run
            del data[pos : pos + draw(st.integers(1, 4))]
        elif kind == 2 and pos < len(data):  # replace a byte
            data[pos] = INTERESTING[draw(st.integers(0, len(INTERESTING) - 1))]
        else:  # duplicate a run
            end = min(len(data), pos + draw(st.integers(1, 40)))
            data[pos:pos] = data[pos:end]
    return bytes(data)


@FUZZ
@given(data=mutated(VALID_REQUESTS), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_mutated_requests(data: bytes, cuts: list[int]) -> None:
    _check_every_split(_request, data, cuts)


@FUZZ
@given(
    data=mutated(VALID_RESPONSES), cuts=st.lists(st.integers(0, 400), max_size=6), lax=st.booleans()
)
def test_mutated_responses(data: bytes, cuts: list[int], lax: bool) -> None:
    _check_every_split(_response(lax), data, cuts)


def test_valid_corpus_parses() -> None:
    for data in VALID_REQUESTS:
        assert _outcome(_request, [data])[0] in ("ok", "switched"), data
    for data in VALID_RESPONSES:
        assert _outcome(_response(True), [data])[0] in ("ok", "switched"), data


FIELD_ALPHABET = st.sampled_from(list(b'aZ09-_:;, \t\r\n\x00\x01\x7f\x80\xff"()'))


@settings(max_examples=1000, deadline=None)
@given(lines=st.lists(st.lists(FIELD_ALPHABET, max_size=12).map(bytes), min_size=1, max_size=6))
def test_fast_splitter_agrees_with_the_reference(lines: list[bytes]) -> None:
    section = b"".join(line + b"\r\n" for line in lines)
    data = b"X\r\n" + section
    fast = split_fields_fast(data, 3, len(data))
    try:
        checked = check_field_lines(section, lax=False, max_field_size=1000, max_headers=100)
        _, raw = parse_field_lines(checked, lax=False, max_field_size=1000)
    except HttpProcessingError:
        assert fast is None, (section, fast)
        return
    if fast is not None:
        assert tuple(fast) == raw, section


TOKEN_TEXT = st.text(alphabet="!#$%&'*+-.^_`|~09azAZ", min_size=1, max_size=8)
VALUE_BYTES = st.lists(st.sampled_from(list(b'a; =,\t \x80\xff"\x01\x00\x7f')), max_size=10).map(
    bytes
)


@settings(max_examples=1000, deadline=None)
@given(
    fields=st.lists(
        st.tuples(TOKEN_TEXT, st.sampled_from([b":", b": ", b" :", b":\t"]), VALUE_BYTES),
        min_size=1,
        max_size=6,
    )
)
def test_fast_splitter_on_near_valid_sections(fields: list[tuple[str, bytes, bytes]]) -> None:
    section = b"".join(name.encode() + colon + value + b"\r\n" for name, colon, value in fields)
    data = b"X\r\n" + section
    fast = split_fields_fast(data, 3, len(data))
    try:
        checked = check_field_lines(section, lax=False, max_field_size=1000, max_headers=100)
        _, raw = parse_field_lines(checked, lax=False, max_field_size=1000)
    except HttpProcessingError:
        assert fast is None, (section, fast)
        return
    # Every strictly valid section takes the fast path, with the same result.
    assert fast is not None, section
    assert tuple(fast) == raw, section
