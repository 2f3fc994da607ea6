"""HttpRequestParser against h11 (a test-only peer): agreement, and the disagreements we keep.

A differential fuzz (random and mutated requests, and requests built from smuggling-prone
Content-Length / Transfer-Encoding / chunk-size variants, fed to both parsers) found no
message that both parsers accept with different framing.  Where only one of them accepts,
the cases below are the deliberate differences, each pinned to our side with its reason;
h11 is more lenient on most of them (it has no other consumer to disagree with), stricter
on a few.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioloom.http._exceptions import (
    BadHttpMessage,
    BadStatusLine,
    HttpProcessingError,
    InvalidHeader,
    InvalidURLError,
    TransferEncodingError,
)
from aioloom.http._framing import _SINGLETONS
from aioloom.http._parser import EndOfMessage, HttpRequestParser

h11 = pytest.importorskip("h11")

Message = tuple[bytes, bytes, bytes, list[tuple[bytes, bytes]], bytes]


def ours(data: bytes) -> list[Message]:
    """The complete messages aioloom reads from ``data`` (raises on a malformed one)."""
    parser = HttpRequestParser()
    events, upgraded, _ = parser.feed_data(data)
    assert not upgraded
    out: list[Message] = []
    head: tuple[bytes, bytes, bytes, list[tuple[bytes, bytes]]] | None = None
    body = b""
    for event in events:
        if isinstance(event, bytes):
            body += event
        elif isinstance(event, EndOfMessage):
            assert head is not None
            out.append((*head, body))
            body = b""
        else:
            head = (
                event.method.encode(),
                event.path.encode("utf-8", "surrogateescape"),
                b"%d.%d" % event.version,
                [(name.lower(), value) for name, value in event.raw_headers],
            )
    return out


def theirs(data: bytes) -> list[Message]:
    """The complete messages h11 (as a server) reads from ``data``."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    out: list[Message] = []
    head: tuple[bytes, bytes, bytes, list[tuple[bytes, bytes]]] | None = None
    body = b""
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            return out
        if event is h11.PAUSED:
            conn.send(h11.Response(status_code=204, headers=[]))
            conn.send(h11.EndOfMessage())
            conn.start_next_cycle()
        elif isinstance(event, h11.Request):
            items = [(name.lower(), value) for name, value in event.headers.raw_items()]
            head = (event.method, event.target, event.http_version, items)
        elif isinstance(event, h11.Data):
            body += bytes(event.data)
        elif isinstance(event, h11.EndOfMessage):
            assert head is not None
            out.append((*head, body))
            body = b""


# --- agreement on well-formed requests ----------------------------------------------------

TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Names with a framing meaning, the names aioloom refuses to see twice (aiohttp's singleton
# rule: a disagreement kept on purpose, below) and the one it refuses outright.
RESERVED = {
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "upgrade",
    "expect",
    "sec-websocket-key1",
    *(name.lower() for name in _SINGLETONS),
}
names = st.text(alphabet=TCHAR, min_size=1, max_size=12).filter(lambda n: n.lower() not in RESERVED)
values = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E) | st.just(" "), max_size=20
).map(lambda v: v.strip(" "))
paths = st.from_regex(r"\A/[A-Za-z0-9._~!$&'()*+,;=:@/%-]{0,30}(\?[A-Za-z0-9=&%]{0,20})?\Z")
chunk_exts = st.sampled_from([b"", b";a", b";a=b", b';a="b c"', b";a=b;c"])


@st.composite
def requests(draw: st.DrawFn, versions: tuple[bytes, ...]) -> bytes:
    method = draw(st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"X-CUSTOM"]))
    version = draw(st.sampled_from(versions))
    fields = [(b"Host", b"example.com")]
    fields += [(n.encode(), v.encode()) for n, v in draw(st.lists(st.tuples(names, values)))]
    body = draw(st.binary(max_size=200))
    if version == b"HTTP/1.1" and draw(st.booleans()):
        fields.append((b"Transfer-Encoding", b"chunked"))
        sizes = draw(st.lists(st.integers(1, 50), max_size=5))
        wire, pos = b"", 0
        for size in sizes:
            piece = body[pos : pos + size]
            if piece:
                wire += b"%x%s\r\n%s\r\n" % (len(piece), draw(chunk_exts), piece)
            pos += size
        if body[pos:]:
            wire += b"%x\r\n%s\r\n" % (len(body[pos:]), body[pos:])
        wire += b"0\r\n\r\n"
    else:
        fields.append((b"Content-Length", b"%d" % len(body)))
        wire = body
    head = b"%s %s %s\r\n" % (method, draw(paths).encode(), version)
    head += b"".join(b"%s: %s\r\n" % field for field in fields)
    return head + b"\r\n" + wire


@settings(max_examples=300, deadline=None)
@given(
    messages=st.lists(requests((b"HTTP/1.1",)), max_size=3),
    last=requests((b"HTTP/1.1", b"HTTP/1.0")),  # h11 closes after HTTP/1.0: last only
)
def test_well_formed_requests_read_the_same(messages: list[bytes], last: bytes) -> None:
    data = b"".join(messages) + last
    assert ours(data) == theirs(data)


# --- deliberate disagreements ---------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    data: bytes
    error: type[HttpProcessingError] | None  # None: aioloom accepts the message
    why: str


H = b"Host: a\r\n"
DISAGREEMENTS = {
    # h11 accepts these, aioloom refuses them (400):
    "bare-lf": Case(
        b"GET / HTTP/1.1\nHost: a\n\n",
        BadHttpMessage,
        "RFC 9112 §2.2 only allows a recipient to accept bare LF; requests stay strict",
    ),
    "obs-fold": Case(
        b"GET / HTTP/1.1\r\n" + H + b"X: a\r\n b\r\n\r\n",
        InvalidHeader,
        "RFC 9112 §5.2: a server rejects obs-fold (h11 unfolds it)",
    ),
    "cl-and-te": Case(
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nTransfer-Encoding: chunked\r\n"
        b"\r\n0\r\n\r\n",
        BadHttpMessage,
        "RFC 9112 §6.3 step 3 and §11.2: the classic smuggling shape; h11 lets TE win",
    ),
    "repeated-equal-cl": Case(
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 1\r\n\r\nx",
        BadHttpMessage,
        "RFC 9110 §8.6 allows either; a repeated Content-Length is refused (aiohttp)",
    ),
    "cl-list": Case(
        b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1, 1\r\n\r\nx",
        InvalidHeader,
        "Content-Length = 1*DIGIT; a list is a malformed value in a request",
    ),
    "repeated-singleton": Case(
        b"GET / HTTP/1.1\r\n" + H + b"User-Agent: a\r\nUser-Agent: b\r\n\r\n",
        BadHttpMessage,
        "aiohttp refuses repeated singleton fields in requests",
    ),
    "ctl-in-value": Case(
        b"GET / HTTP/1.1\r\n" + H + b"X: a\x0bb\r\n\r\n",
        InvalidHeader,
        "RFC 9110 §5.5: no CTL but HTAB in a field value",
    ),
    "bad-chunk-ext": Case(
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n1;a=\x01\r\nx\r\n"
        b"0\r\n\r\n",
        TransferEncodingError,
        "RFC 9112 §7.1.1: chunk extensions are validated, then ignored (h11 skips them)",
    ),
    "http-1.9": Case(
        b"GET / HTTP/1.9\r\n" + H + b"\r\n",
        BadStatusLine,
        "only HTTP/1.0 and HTTP/1.1 are spoken here",
    ),
    "target-not-a-form": Case(
        b"GET x HTTP/1.1\r\n" + H + b"\r\n",
        InvalidURLError,
        "RFC 9112 §3.2: a request-target is one of the four forms",
    ),
    "invalid-host": Case(
        b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
        InvalidHeader,
        "RFC 9112 §3.2: a server MUST answer 400 to an invalid Host value",
    ),
    # aioloom accepts these, h11 refuses them:
    "bws-before-chunk-ext": Case(
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n1 ;a=b\r\nx\r\n0\r\n\r\n",
        None,
        "RFC 9112 §7.1.1: chunk-ext = *( BWS ';' BWS name [ BWS '=' BWS value ] )",
    ),
    "obs-text-target": Case(
        b"GET /caf\xc3\xa9 HTTP/1.1\r\n" + H + b"\r\n",
        None,
        "real clients send UTF-8 paths; aiohttp accepts obs-text in the target",
    ),
    "coding-before-chunked": Case(
        b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        None,
        "RFC 9112 §6.3 step 4: the final chunked frames it (aiohttp); the body is not decoded",
    ),
    "data-after-close": Case(
        b"GET / HTTP/1.1\r\n" + H + b"Connection: close\r\n\r\nGARBAGE",
        None,
        "RFC 9112 §9.6: nothing after the request that closes is processed (h11: error)",
    ),
}


@pytest.mark.parametrize("case", DISAGREEMENTS.values(), ids=DISAGREEMENTS.keys())
def test_deliberate_disagreements(case: Case) -> None:
    if case.error is None:
        messages = ours(case.data)
        assert len(messages) == 1, case.why
        return
    with pytest.raises(case.error) as info:
        ours(case.data)
    assert info.value.code == 400, case.why


def test_methods_are_upper_cased_where_h11_keeps_them() -> None:
    # aiohttp's pure-Python parser upper-cases the method token (RFC 9110 §9.1 says methods
    # are case-sensitive; h11 keeps the case).
    data = b"get / HTTP/1.1\r\n" + H + b"\r\n"
    assert ours(data)[0][0] == b"GET"
    assert theirs(data)[0][0] == b"get"
