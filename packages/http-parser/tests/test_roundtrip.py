"""Round trips: what the serializer writes, the parsers read back exactly (hypothesis).

The serializer (``_serialize``) and the parsers (``_parser``) were written independently; these
properties pin them to each other. Each message is fed whole and split at a drawn position.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDict

from aioloom.http import (
    EndOfMessage,
    HttpRequestParser,
    HttpResponseParser,
    RawRequestMessage,
    RawResponseMessage,
    encode_chunk,
    last_chunk,
    serialize_head,
)
from aioloom.http._framing import _SINGLETONS
from aioloom.http._serialize import _FORBIDDEN_TRAILERS

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Names the framing rules give a meaning to are left to the examples that set them, and so
# are the names a request may not repeat and the one it may not carry at all (hypothesis
# draws names from the constants in the code under test, so it does find them).
RESERVED = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "trailer",
    "sec-websocket-key1",
    *(name.lower() for name in _SINGLETONS),
}

names = st.text(alphabet=TCHAR, min_size=1, max_size=20).filter(lambda n: n.lower() not in RESERVED)
# RFC 9110 §5.5: field-value = *field-content; visible ASCII and SP/HTAB inside, no OWS at the
# edges (the parser strips it), obs-text allowed.
values = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E) | st.sampled_from("\t\xe9"),
    max_size=40,
).map(lambda v: v.strip(" \t"))
fields = st.lists(st.tuples(names, values), max_size=12)
# RFC 9110 §6.5.1: framing, routing, authentication and control fields never go in trailers
# (the serializer refuses them; the test that it does is in test_serialize.py).
trailer_fields = st.lists(
    st.tuples(names.filter(lambda n: n.lower() not in _FORBIDDEN_TRAILERS), values), max_size=6
)
bodies = st.binary(max_size=3000)
methods = st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "X-CUSTOM"])
paths = st.from_regex(r"\A/[A-Za-z0-9._~!$&'()*+,;=:@/%-]{0,40}(\?[A-Za-z0-9=&%]{0,20})?\Z")


def feed(parser: HttpRequestParser | HttpResponseParser, wire: bytes, cut: int) -> list[object]:
    events: list[object] = []
    for piece in (wire[:cut], wire[cut:]):
        got, upgraded, tail = parser.feed_data(piece)
        assert not upgraded and tail == b""
        events.extend(got)
    return events


def chunked_body(body: bytes, sizes: list[int]) -> bytes:
    out, pos = [], 0
    for size in sizes:
        if pos >= len(body):
            break
        out.append(encode_chunk(body[pos : pos + size]))
        pos += size
    out.append(encode_chunk(body[pos:]))
    return b"".join(out)


def split(events: list[object]) -> tuple[list[object], bytes, list[EndOfMessage]]:
    heads: list[object] = [
        e for e in events if isinstance(e, RawRequestMessage | RawResponseMessage)
    ]
    body = b"".join(e for e in events if isinstance(e, bytes))
    ends = [e for e in events if isinstance(e, EndOfMessage)]
    return heads, body, ends


@settings(max_examples=150, deadline=None)
@given(
    method=methods,
    path=paths,
    extra=fields,
    body=bodies,
    chunked=st.booleans(),
    sizes=st.lists(st.integers(1, 700), max_size=8),
    trailers=trailer_fields,
    cut=st.integers(0, 10_000),
)
def test_request_round_trip(
    method: str,
    path: str,
    extra: list[tuple[str, str]],
    body: bytes,
    chunked: bool,
    sizes: list[int],
    trailers: list[tuple[str, str]],
    cut: int,
) -> None:
    headers = [("Host", "example.com"), *extra]
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        wire_body = chunked_body(body, sizes) + last_chunk(dict(trailers) or None)
    else:
        headers.append(("Content-Length", str(len(body))))
        wire_body = body
    wire = serialize_head(f"{method} {path} HTTP/1.1", _multi(headers)) + wire_body
    heads, got_body, ends = split(feed(HttpRequestParser(), wire, cut % (len(wire) + 1)))

    assert len(heads) == 1 and len(ends) == 1
    msg = heads[0]
    assert isinstance(msg, RawRequestMessage)
    assert (msg.method, msg.path, msg.version) == (method, path, (1, 1))
    assert [(k.decode(), v.decode("utf-8")) for k, v in msg.raw_headers] == headers
    assert msg.chunked is chunked
    assert got_body == body
    if chunked:
        assert list(ends[0].trailers.items()) == list(dict(trailers).items())


@settings(max_examples=150, deadline=None)
@given(
    status=st.integers(200, 599).filter(lambda s: s not in (204, 304)),
    reason=st.text(alphabet=TCHAR + " ", max_size=20).map(str.strip),
    extra=fields,
    body=bodies,
    chunked=st.booleans(),
    sizes=st.lists(st.integers(1, 700), max_size=8),
    cut=st.integers(0, 10_000),
)
def test_response_round_trip(
    status: int,
    reason: str,
    extra: list[tuple[str, str]],
    body: bytes,
    chunked: bool,
    sizes: list[int],
    cut: int,
) -> None:
    headers = list(extra)
    if chunked:
        headers.append(("Transfer-Encoding", "chunked"))
        wire_body = chunked_body(body, sizes) + last_chunk()
    else:
        headers.append(("Content-Length", str(len(body))))
        wire_body = body
    wire = serialize_head(f"HTTP/1.1 {status} {reason}".rstrip(), _multi(headers)) + wire_body
    parser = HttpResponseParser(lax=False)
    heads, got_body, ends = split(feed(parser, wire, cut % (len(wire) + 1)))

    assert len(heads) == 1 and len(ends) == 1
    msg = heads[0]
    assert isinstance(msg, RawResponseMessage)
    assert (msg.code, msg.reason, msg.version) == (status, reason, (1, 1))
    assert [(k.decode(), v.decode("utf-8")) for k, v in msg.raw_headers] == headers
    assert got_body == body
    assert msg.should_close is False


def _multi(pairs: list[tuple[str, str]]) -> CIMultiDict[str]:
    return CIMultiDict(pairs)
