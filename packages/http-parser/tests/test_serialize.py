"""Tests of aioloom.http._serialize: heads, chunked framing, trailers; h11 reads them back."""

from __future__ import annotations

import array
from collections.abc import Mapping

import h11
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from aioloom.http import _serialize
from aioloom.http._serialize import (
    _FORBIDDEN_TRAILERS,
    LAST_CHUNK,
    chunk_prefix,
    encode_chunk,
    last_chunk,
    serialize_head,
)

TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
INJECTIONS = ["\r", "\n", "\r\n", "\x00", "\r\nSet-Cookie: evil=1", "\n\nHTTP/1.1 200 OK"]


def read_response(wire: bytes) -> list[object]:
    """Parse a response with h11, an independent HTTP/1.1 implementation."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "example.com")]))
    conn.send(h11.EndOfMessage())
    conn.receive_data(wire)
    events: list[object] = []
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            break
        events.append(event)
        if isinstance(event, h11.EndOfMessage):
            break
    return events


# -- serialize_head ---------------------------------------------------------------------


def test_status_line_and_headers() -> None:
    head = serialize_head(
        "HTTP/1.1 200 OK", CIMultiDict([("Content-Type", "text/plain"), ("Content-Length", "2")])
    )
    assert head == b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\n"


def test_repeated_names_keep_their_order_and_case() -> None:
    headers = CIMultiDict([("Set-Cookie", "a=1"), ("X", "y"), ("set-cookie", "b=2")])
    head = serialize_head("HTTP/1.1 204 No Content", headers)
    assert head == (
        b"HTTP/1.1 204 No Content\r\nSet-Cookie: a=1\r\nX: y\r\nset-cookie: b=2\r\n\r\n"
    )


def test_plain_mapping_and_no_headers() -> None:
    assert serialize_head("GET / HTTP/1.1", {"Host": "h"}) == b"GET / HTTP/1.1\r\nHost: h\r\n\r\n"
    assert serialize_head("HTTP/1.1 200 OK", {}) == b"HTTP/1.1 200 OK\r\n\r\n"
    assert serialize_head("HTTP/1.1 200 OK", CIMultiDict()) == b"HTTP/1.1 200 OK\r\n\r\n"


def test_utf8_and_surrogate_escapes() -> None:
    # A target decoded with surrogateescape goes back out as the original bytes.
    target = b"/caf\xe9".decode("utf-8", "surrogateescape")
    head = serialize_head(f"GET {target} HTTP/1.1", {"X-Name": "caf\u00e9"})
    assert head == b"GET /caf\xe9 HTTP/1.1\r\nX-Name: caf\xc3\xa9\r\n\r\n"


def test_lone_surrogate_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        serialize_head("HTTP/1.1 200 OK", {"X": "\ud800"})


def test_every_tchar_is_a_valid_name() -> None:
    head = serialize_head("HTTP/1.1 200 OK", {TCHARS: "v"})
    assert head == b"HTTP/1.1 200 OK\r\n" + TCHARS.encode() + b": v\r\n\r\n"


def test_values_may_hold_colons_tabs_and_spaces() -> None:
    head = serialize_head("HTTP/1.1 200 OK", {"Date": "Sun, 06 Nov 1994 08:49:37 GMT\tx "})
    assert head.endswith(b"Date: Sun, 06 Nov 1994 08:49:37 GMT\tx \r\n\r\n")


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injection_in_start_line(bad: str) -> None:
    with pytest.raises(ValueError, match="detected in HTTP start line"):
        serialize_head(f"HTTP/1.1 200 OK{bad}", {"A": "b"})


@pytest.mark.parametrize("bad", INJECTIONS)
@pytest.mark.parametrize("position", [0, 1, 2])
def test_injection_in_a_value(bad: str, position: int) -> None:
    headers = CIMultiDict([("A", "1"), ("B", "2"), ("C", "3")])
    name = "ABC"[position]
    headers[name] = f"x{bad}y"
    with pytest.raises(ValueError, match=rf"detected in HTTP header field '{name}'"):
        serialize_head("HTTP/1.1 200 OK", headers)


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injection_in_a_name(bad: str) -> None:
    with pytest.raises(ValueError, match="not a token"):
        serialize_head("HTTP/1.1 200 OK", {"Good": "1", f"X{bad}Y": "v"})


def test_crlf_pairs_cannot_cancel_out() -> None:
    # One value with an extra CR and another with an extra LF: counts alone would differ.
    with pytest.raises(ValueError, match="Newline or carriage return"):
        serialize_head("HTTP/1.1 200 OK", {"A": "x\r", "B": "\ny"})


def test_nul_in_a_value_is_named() -> None:
    with pytest.raises(ValueError, match="NUL character detected in HTTP header field 'A'"):
        serialize_head("HTTP/1.1 200 OK", {"A": "x\x00y"})


@pytest.mark.parametrize(
    "name", ["", " ", "A B", "A:", ":authority", "Ä", "(x)", "a\tb", "a,b", 'a"b', "a/b", "a@b"]
)
def test_names_must_be_tokens(name: str) -> None:
    with pytest.raises(ValueError, match="not a token"):
        serialize_head("HTTP/1.1 200 OK", {"First": "1", name: "v", "Last": "2"})


def test_a_bad_name_hidden_behind_a_case_insensitive_twin_is_refused() -> None:
    # multidict's keys() lists "k" once for "k" and the KELVIN SIGN ("\u212a".lower() is
    # "k"): the name check must still see the non-token spelling.
    headers = CIMultiDict([("k", "1"), ("\u212a", "2")])
    assert len(headers.keys()) == 1
    with pytest.raises(ValueError, match="not a token"):
        serialize_head("HTTP/1.1 200 OK", headers)


def test_a_remembered_name_does_not_excuse_a_bad_one() -> None:
    serialize_head("HTTP/1.1 200 OK", {"X-Known": "1"})
    assert "X-Known" in _serialize._token_names
    with pytest.raises(ValueError, match="not a token"):
        serialize_head("HTTP/1.1 200 OK", {"X-Known": "1", "X Bad": "2"})
    assert "X Bad" not in _serialize._token_names


def test_remembered_names_are_bounded() -> None:
    for index in range(_serialize._NAME_CACHE_SIZE + 10):
        serialize_head("HTTP/1.1 200 OK", {f"X-Name-{index}": "v"})
        assert len(_serialize._token_names) <= _serialize._NAME_CACHE_SIZE
    long_name = "X" * (_serialize._NAME_CACHEABLE + 1)
    assert serialize_head("HTTP/1.1 200 OK", {long_name: "v"}).endswith(b": v\r\n\r\n")
    assert long_name not in _serialize._token_names


def test_start_line_error_is_named_before_a_field_error() -> None:
    with pytest.raises(ValueError, match="start line"):
        serialize_head("HTTP/1.1 200 OK\r\n", {"Bad Name": "x\r\n"})


def test_non_string_value_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        serialize_head("HTTP/1.1 200 OK", {"Content-Length": 5})  # type: ignore[dict-item]


names = st.text(alphabet=TCHARS, min_size=1, max_size=20)
# RFC 9110 §5.5 field-value without leading/trailing whitespace (h11 strips OWS).
values = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30
) | st.builds(lambda a, b: f"{a} \t{b}", st.text("abc", min_size=1), st.text("xyz", min_size=1))


@settings(max_examples=200)
@given(fields=st.lists(st.tuples(names, values), max_size=12))
def test_h11_reads_back_any_valid_head(fields: list[tuple[str, str]]) -> None:
    fields = [
        pair for pair in fields if pair[0].lower() not in ("content-length", "transfer-encoding")
    ]
    headers = CIMultiDict(fields + [("Content-Length", "0")])
    events = read_response(serialize_head("HTTP/1.1 200 OK", headers))
    response = events[0]
    assert isinstance(response, h11.Response)
    assert response.status_code == 200
    parsed = [(bytes(k), bytes(v)) for k, v in response.headers.raw_items()]
    assert parsed == [(k.encode(), v.encode()) for k, v in headers.items()]
    assert isinstance(events[-1], h11.EndOfMessage)


@given(
    fields=st.lists(st.tuples(names, values), max_size=5),
    bad=st.sampled_from(["\r", "\n", "\x00"]),
    where=st.sampled_from(["name", "value"]),
    index=st.integers(min_value=0, max_value=30),
)
def test_any_cr_lf_nul_anywhere_is_refused(
    fields: list[tuple[str, str]], bad: str, where: str, index: int
) -> None:
    name, value = "X-Target", "value"
    if where == "name":
        name = name[: index % len(name)] + bad + name[index % len(name) :]
    else:
        value = value[: index % len(value)] + bad + value[index % len(value) :]
    headers = CIMultiDict([*fields, (name, value)])
    with pytest.raises(ValueError):
        serialize_head("HTTP/1.1 200 OK", headers)


def test_request_head_read_by_h11_server() -> None:
    head = serialize_head("POST /path?q=1 HTTP/1.1", {"Host": "example.com", "Content-Length": "0"})
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(head)
    request = conn.next_event()
    assert isinstance(request, h11.Request)
    assert request.method == b"POST"
    assert request.target == b"/path?q=1"
    assert isinstance(conn.next_event(), h11.EndOfMessage)


# -- chunked framing --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "wire"),
    [
        (b"a", b"1\r\na\r\n"),
        (b"x" * 10, b"a\r\nxxxxxxxxxx\r\n"),
        (b"y" * 255, b"ff\r\n" + b"y" * 255 + b"\r\n"),
        (bytes(4096), b"1000\r\n" + bytes(4096) + b"\r\n"),
    ],
)
def test_encode_chunk(data: bytes, wire: bytes) -> None:
    assert encode_chunk(data) == wire
    assert encode_chunk(bytearray(data)) == wire
    assert encode_chunk(memoryview(data)) == wire


def test_encode_chunk_counts_bytes_of_a_wide_memoryview() -> None:
    items = memoryview(array.array("I", [1, 2, 3]))
    assert len(items) == 3
    assert encode_chunk(items) == b"c\r\n" + items.tobytes() + b"\r\n"


@pytest.mark.parametrize("empty", [b"", bytearray(), memoryview(b"")])
def test_empty_chunk_is_nothing(empty: bytes) -> None:
    # A zero-size chunk would end the body (RFC 9112 §7.1).
    assert encode_chunk(empty) == b""


def test_chunk_prefix() -> None:
    assert chunk_prefix(1) == b"1\r\n"
    assert chunk_prefix(0xABCDEF) == b"abcdef\r\n"


@pytest.mark.parametrize("size", [0, -1])
def test_chunk_prefix_needs_a_positive_size(size: int) -> None:
    with pytest.raises(ValueError, match="positive size"):
        chunk_prefix(size)


def test_last_chunk_without_trailers() -> None:
    assert last_chunk() == b"0\r\n\r\n" == LAST_CHUNK
    assert last_chunk({}) == LAST_CHUNK
    assert last_chunk(CIMultiDict()) == LAST_CHUNK


def test_last_chunk_with_trailers() -> None:
    trailers = CIMultiDict([("X-Checksum", "abc"), ("Server-Timing", "db;dur=53")])
    assert last_chunk(trailers) == b"0\r\nX-Checksum: abc\r\nServer-Timing: db;dur=53\r\n\r\n"


@pytest.mark.parametrize(
    "name",
    [
        "Content-Length",
        "transfer-encoding",
        "HOST",
        "Trailer",
        "Authorization",
        "Content-Type",
        "Set-Cookie",
        "Content-Encoding",
        "TE",
        "Cache-Control",
    ],
)
def test_last_chunk_refuses_fields_that_cannot_trail(name: str) -> None:
    with pytest.raises(ValueError, match=r"not allowed in a trailer section \(RFC 9110 §6.5.1\)"):
        last_chunk({"X-Ok": "1", name: "1"})


@pytest.mark.parametrize("bad", INJECTIONS)
def test_last_chunk_refuses_injection(bad: str) -> None:
    with pytest.raises(ValueError, match="detected in HTTP trailer field 'X-Sum'"):
        last_chunk({"X-Sum": f"1{bad}"})
    with pytest.raises(ValueError, match="trailer field name"):
        last_chunk({f"X{bad}Sum": "1"})


@pytest.mark.parametrize("name", ["", "A B", "A:"])
def test_last_chunk_refuses_bad_names(name: str) -> None:
    with pytest.raises(ValueError, match="not a token"):
        last_chunk({name: "1"})


@settings(max_examples=150)
@given(
    chunks=st.lists(st.binary(max_size=300), max_size=10),
    trailers=st.dictionaries(
        names.filter(lambda n: n.lower() not in _FORBIDDEN_TRAILERS),
        st.text(alphabet="abcdefgh0123;=", min_size=1, max_size=12),
        max_size=3,
    ),
)
def test_h11_reads_back_chunked_body_and_trailers(
    chunks: list[bytes], trailers: Mapping[str, str]
) -> None:
    end = last_chunk(trailers)
    head = serialize_head("HTTP/1.1 200 OK", {"Transfer-Encoding": "chunked"})
    wire = head + b"".join(map(encode_chunk, chunks)) + end
    events = read_response(wire)
    body = b"".join(bytes(e.data) for e in events if isinstance(e, h11.Data))
    assert body == b"".join(chunks)
    eom = events[-1]
    assert isinstance(eom, h11.EndOfMessage)
    got = [(bytes(k), bytes(v)) for k, v in eom.headers.raw_items()]
    assert got == [(k.encode(), v.encode()) for k, v in trailers.items()]


def test_h11_reads_back_chunks_split_anywhere() -> None:
    head = serialize_head("HTTP/1.1 200 OK", {"Transfer-Encoding": "chunked"})
    wire = head + encode_chunk(b"hello ") + encode_chunk(b"world") + last_chunk({"X-A": "1"})
    conn = h11.Connection(h11.CLIENT)
    conn.send(h11.Request(method="GET", target="/", headers=[("Host", "h")]))
    conn.send(h11.EndOfMessage())
    body = b""
    done = False
    for index in range(len(wire)):
        conn.receive_data(wire[index : index + 1])
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                break
            if isinstance(event, h11.Data):
                body += bytes(event.data)
            if isinstance(event, h11.EndOfMessage):
                done = True
                assert list(event.headers.raw_items()) == [(b"X-A", b"1")]
                break
    assert done
    assert body == b"hello world"
