"""The sans-I/O scanner: events, every split position, leniency, limits and malformed input."""

from __future__ import annotations

import time
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import CIMultiDictProxy

from aioloom.http import BadHttpMessage
from aioloom.multipart._exceptions import (
    BoundaryError,
    IncompleteMultipartError,
    MultipartError,
    MultipartFramingError,
    PartHeaderError,
    PartHeadersTooLarge,
)
from aioloom.multipart._parser import (
    DEFAULT_MAX_PREAMBLE,
    Done,
    Event,
    MultipartScanner,
    PartData,
    PartEnd,
    PartStart,
    check_boundary,
)

Norm = tuple[object, ...]


def normalize(events: Iterable[Event]) -> list[Norm]:
    """Events as comparable tuples, adjacent data pieces merged."""
    out: list[Norm] = []
    for event in events:
        if isinstance(event, PartData):
            assert event.data, "empty PartData emitted"
            if out and out[-1][0] == "data":
                out[-1] = ("data", out[-1][1] + event.data)  # type: ignore[operator]
            else:
                out.append(("data", event.data))
        elif isinstance(event, PartStart):
            out.append(("start", event.raw_headers))
        elif isinstance(event, PartEnd):
            out.append(("end",))
        else:
            assert isinstance(event, Done)
            out.append(("done",))
    return out


def scan(chunks: Iterable[bytes], boundary: str = "b", **kwargs: int) -> list[Norm]:
    scanner = MultipartScanner(boundary, **kwargs)  # type: ignore[arg-type]
    events: list[Event] = []
    for chunk in chunks:
        events += scanner.feed(chunk)
    events += scanner.feed_eof()
    return normalize(events)


def scan_error(chunks: Iterable[bytes], boundary: str = "b", **kwargs: int) -> MultipartError:
    with pytest.raises(MultipartError) as info:
        scan(chunks, boundary, **kwargs)
    assert isinstance(info.value, BadHttpMessage)
    assert isinstance(info.value, ValueError)
    assert info.value.code == 400
    return info.value


def part(headers: tuple[tuple[bytes, bytes], ...], data: bytes = b"") -> list[Norm]:
    return [("start", headers), *([("data", data)] if data else []), ("end",)]


CD_A = ((b"Content-Disposition", b'form-data; name="a"'),)

# Bodies for the exhaustive split tests, each with its expected events.
BODIES: dict[str, tuple[bytes, list[Norm]]] = {
    "simple": (
        b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nhello\r\n--b--\r\n',
        [*part(CD_A, b"hello"), ("done",)],
    ),
    "preamble-epilogue": (
        b"preamble line\r\n--b-x\r\n--b\r\n\r\n\r\ndata\r\n\r\n--b--\r\nepilogue --b\r\n",
        [*part((), b"\r\ndata\r\n"), ("done",)],
    ),
    "lookalikes": (
        b"--b\r\nA: 1\r\n\r\nx--b x\r\n-\r\n--\r\n-b\n--bb\n--b\rz\r\n--b\r\n\r\n--b--",
        [*part(((b"A", b"1"),), b"x--b x\r\n-\r\n--\r\n-b\n--bb\n--b\rz"), *part(()), ("done",)],
    ),
    "padding-lf-fold": (
        b"--b \t\nA: x\n y\r\nB:\tz \r\n\n\x00\xff\r\n--b\t\r\n\r\n--b-- \r\n",
        [*part(((b"A", b"x y"), (b"B", b"z")), b"\x00\xff"), *part(()), ("done",)],
    ),
    "empty-content": (
        b"--b\r\nA: 1\r\n\r\n\r\n--b\r\nB: 2\r\n\r\n--b--",
        [*part(((b"A", b"1"),)), *part(((b"B", b"2"),)), ("done",)],
    ),
    "close-only": (b"--b--", [("done",)]),
}


@pytest.mark.parametrize("name", BODIES)
def test_whole_body(name: str) -> None:
    body, expected = BODIES[name]
    assert scan([body]) == expected


@pytest.mark.parametrize("name", BODIES)
def test_every_two_piece_split(name: str) -> None:
    body, expected = BODIES[name]
    for cut in range(len(body) + 1):
        assert scan([body[:cut], body[cut:]]) == expected, cut


@pytest.mark.parametrize("name", BODIES)
def test_byte_by_byte(name: str) -> None:
    body, expected = BODIES[name]
    assert scan([body[i : i + 1] for i in range(len(body))]) == expected


def test_every_split_with_a_70_character_boundary() -> None:
    boundary = "x" * 69 + "9"
    dash = b"--" + boundary.encode()
    body = dash + b"\r\n\r\n" + b"a\r\n-" + dash[:-1] + b"\r\n" + dash + b"--\r\n"
    expected = [*part((), b"a\r\n-" + dash[:-1]), ("done",)]
    for cut in range(len(body) + 1):
        assert scan([body[:cut], body[cut:]], boundary) == expected, cut
    assert scan([body[i : i + 1] for i in range(len(body))], boundary) == expected


def test_part_start_headers_are_a_case_insensitive_proxy() -> None:
    scanner = MultipartScanner(b"b")
    events = scanner.feed(b"--b\r\nX-A: 1\r\nx-a: 2\r\nName: caf\xc3\xa9 \xff\r\n\r\n")
    start = events[0]
    assert isinstance(start, PartStart)
    assert isinstance(start.headers, CIMultiDictProxy)
    assert start.headers.getall("X-A") == ["1", "2"]
    assert start.headers["name"] == "café \udcff"  # UTF-8, surrogateescape for bad bytes
    assert start.raw_headers[2] == (b"Name", b"caf\xc3\xa9 \xff")


def test_data_is_emitted_before_the_part_ends() -> None:
    scanner = MultipartScanner("boundary")
    assert normalize(scanner.feed(b"--boundary\r\n\r\n")) == [("start", ())]
    assert normalize(scanner.feed(b"x" * 1000)) == [("data", b"x" * 1000)]
    # A tail that may start the delimiter is held back, and nothing more.
    assert normalize(scanner.feed(b"y\r\n--bound")) == [("data", b"y")]
    assert normalize(scanner.feed(b"arz")) == [("data", b"\r\n--boundarz")]
    assert normalize(scanner.feed(b"\r")) == []
    assert normalize(scanner.feed(b"\n--boundary--")) == [("end",), ("done",)]


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=300), boundary=st.text("ab-'", min_size=1, max_size=12))
def test_held_back_bytes_never_exceed_the_boundary_plus_three(data: bytes, boundary: str) -> None:
    delimiter = b"\r\n--" + boundary.encode()
    if delimiter in data:
        return
    scanner = MultipartScanner(boundary)
    scanner.feed(b"--" + boundary.encode() + b"\r\n\r\n")
    emitted = b"".join(e.data for e in scanner.feed(data) if isinstance(e, PartData))
    assert data.startswith(emitted)
    assert len(data) - len(emitted) <= len(boundary) + 3


_PIECES = st.sampled_from([b"\r", b"\n", b"-", b"--", b"\r\n", b"\r\n--", b"b", b"x", b"\x00"])


@settings(max_examples=200, deadline=None)
@given(
    contents=st.lists(st.lists(_PIECES, max_size=12).map(b"".join), min_size=1, max_size=4),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=8),
)
def test_random_contents_any_chunking(contents: list[bytes], cuts: list[int]) -> None:
    boundary = b"bnd"
    delimiter = b"\r\n--" + boundary
    contents = [c for c in contents if delimiter not in c + b"\r\n"]
    body = b"".join(b"--bnd\r\nK: v\r\n\r\n" + c + b"\r\n" for c in contents) + b"--bnd--"
    expected: list[Norm] = []
    for content in contents:
        expected += part(((b"K", b"v"),), content)
    expected.append(("done",))
    points = sorted({min(c, len(body)) for c in cuts})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    assert scan(chunks, "bnd") == expected


def test_epilogue_and_calls_after_done_are_ignored() -> None:
    scanner = MultipartScanner("b")
    assert normalize(scanner.feed(b"--b\r\n\r\nx\r\n--b--garbage")) == [
        *part((), b"x"),
        ("done",),
    ]
    assert scanner.done
    assert scanner.feed(b"more --b\r\n stuff") == []
    assert scanner.feed_eof() == []
    assert scanner.feed(b"even more") == []


def test_in_part_mode_starts_inside_content() -> None:
    scanner = MultipartScanner("b", in_part=True)
    events = scanner.feed(b"content\r\n--b\r\nA: 1\r\n\r\n")
    assert normalize(events) == [("data", b"content"), ("end",), ("start", ((b"A", b"1"),))]
    empty = MultipartScanner("b", in_part=True)
    assert normalize(empty.feed(b"--b--")) == [("end",), ("done",)]


# -- boundaries and arguments -----------------------------------------------------------


@pytest.mark.parametrize(
    "boundary", ["", "x" * 71, "caf\u00e9", "a\r\nb", "a\x00", "ends with space ", b"\xff"]
)
def test_invalid_boundaries(boundary: str | bytes) -> None:
    with pytest.raises(BoundaryError) as info:
        check_boundary(boundary)
    assert info.value.code == 400
    with pytest.raises(BoundaryError):
        MultipartScanner(boundary)


@pytest.mark.parametrize("boundary", ["x", "x" * 70, "----WebKitFormBoundaryAbC", "a b", "=_?:"])
def test_valid_boundaries(boundary: str) -> None:
    assert check_boundary(boundary) == boundary.encode()
    assert check_boundary(boundary.encode()) == boundary.encode()


@pytest.mark.parametrize("name", ["max_field_size", "max_headers", "max_preamble"])
def test_limits_must_be_positive(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        MultipartScanner("b", **{name: 0})  # type: ignore[arg-type]


# -- malformed framing ------------------------------------------------------------------


def test_garbage_after_a_delimiter() -> None:
    error = scan_error([b"--b\r\n\r\ndata\r\n--bX\r\n\r\n--b--"])
    assert type(error) is MultipartFramingError
    assert "--b" in str(error)


def test_single_dash_after_a_delimiter_is_garbage() -> None:
    assert type(scan_error([b"--b\r\n\r\ndata\r\n--b-x"])) is MultipartFramingError


@pytest.mark.parametrize("body", [b"", b"no boundary here\r\n", b"--bX\r\n--by", b"-", b"--b"])
def test_missing_opening_boundary(body: bytes) -> None:
    error = scan_error([body])
    assert type(error) is MultipartFramingError
    assert "starting boundary" in error.message


@pytest.mark.parametrize(
    "body",
    [
        b"--b\r\n",  # in the header block
        b"--b\r\nA: 1\r\n",
        b"--b\r\nA: 1",
        b"--b\r\n\r\ncontent",  # in the content
        b"--b\r\n\r\ncontent\r\n--",
        b"--b\r\n\r\ncontent\r\n--b",  # on a delimiter line
        b"--b\r\n\r\ncontent\r\n--b-",
        b"--b\r\n\r\ncontent\r\n--b  \r",
    ],
)
def test_truncated_bodies(body: bytes) -> None:
    for chunks in ([body], [body[i : i + 1] for i in range(len(body))]):
        error = scan_error(chunks)
        assert type(error) is IncompleteMultipartError


@pytest.mark.parametrize(
    ("block", "message"),
    [
        (b"No colon here\r\n", "no colon"),
        (b"Bad Name: x\r\n", "name"),
        (b": empty name\r\n", "name"),
        (b"Name : space before colon\r\n", "name"),
        (b"A: nul \x00 byte\r\n", "character"),
        (b"A: bare \r cr\r\n", "character"),
        (b"A: del \x7f\r\n", "character"),
        (b" folded first: x\r\n", "folded"),
    ],
)
def test_malformed_part_headers(block: bytes, message: str) -> None:
    error = scan_error([b"--b\r\n" + block + b"\r\n--b--"])
    assert type(error) is PartHeaderError
    assert message in error.message


def test_error_after_events_is_raised_by_the_next_call() -> None:
    scanner = MultipartScanner("b")
    events = scanner.feed(b"--b\r\nA: 1\r\n\r\nok\r\n--b\r\nbroken\r\n\r\n")
    assert normalize(events) == part(((b"A", b"1"),), b"ok")
    with pytest.raises(PartHeaderError) as first:
        scanner.feed_eof()
    with pytest.raises(PartHeaderError) as second:
        scanner.feed(b"more")
    assert first.value is second.value


def test_error_without_events_is_raised_at_once() -> None:
    scanner = MultipartScanner("b")
    assert normalize(scanner.feed(b"--b\r\n\r\nx\r\n--b")) == part((), b"x")
    with pytest.raises(MultipartFramingError):
        scanner.feed(b"?")
    with pytest.raises(MultipartFramingError):
        scanner.feed_eof()


# -- limits -----------------------------------------------------------------------------


def test_header_field_size_limit() -> None:
    line = b"A: " + b"x" * 97  # 100 bytes
    assert scan([b"--b\r\n" + line + b"\r\n\r\n--b--"], max_field_size=100)[0] == (
        "start",
        ((b"A", b"x" * 97),),
    )
    error = scan_error([b"--b\r\n" + line + b"x\r\n\r\n--b--"], max_field_size=100)
    assert type(error) is PartHeadersTooLarge
    assert error.limit == 100


def test_folded_lines_count_towards_the_field_size() -> None:
    body = b"--b\r\nA: " + b"x" * 50 + b"\r\n " + b"y" * 50 + b"\r\n\r\n--b--"
    assert type(scan_error([body], max_field_size=100)) is PartHeadersTooLarge


def test_an_unterminated_header_line_fails_at_the_limit() -> None:
    scanner = MultipartScanner("b", max_field_size=1000)
    scanner.feed(b"--b\r\nA: ")
    for _ in range(99):
        assert scanner.feed(b"x" * 10) == []
    with pytest.raises(PartHeadersTooLarge):
        scanner.feed(b"x" * 10)


def test_header_count_limit() -> None:
    block = b"".join(b"H%d: v\r\n" % i for i in range(5))
    assert len(scan([b"--b\r\n" + block + b"\r\n--b--"], max_headers=5)[0][1]) == 5  # type: ignore[arg-type]
    error = scan_error([b"--b\r\n" + block + b"X: 1\r\n\r\n--b--"], max_headers=5)
    assert type(error) is PartHeadersTooLarge
    assert "more than 5" in error.message


def test_preamble_limit() -> None:
    body = b"x" * 100 + b"\r\n--b\r\n\r\n--b--"
    assert scan([body], max_preamble=102) == [*part(()), ("done",)]
    assert type(scan_error([body], max_preamble=101)) is MultipartFramingError


def test_transport_padding_limit() -> None:
    scanner = MultipartScanner("b", max_field_size=100)
    scanner.feed(b"--b\r\n\r\nx\r\n--b" + b" " * 100)
    with pytest.raises(MultipartFramingError, match="padding"):
        scanner.feed(b" ")


# -- endless and adversarial input ends quickly -----------------------------------------


def _assert_fails_within(
    scanner: MultipartScanner, chunk: bytes, max_bytes: int, error: type[MultipartError]
) -> None:
    fed = 0
    start = time.perf_counter()
    with pytest.raises(error):
        while fed <= max_bytes + 100:
            scanner.feed(chunk)
            fed += len(chunk)
    assert time.perf_counter() - start < 5


def test_endless_preamble_without_boundary() -> None:
    scanner = MultipartScanner("b")
    _assert_fails_within(scanner, b"\r\n" * 512, DEFAULT_MAX_PREAMBLE, MultipartFramingError)


def test_endless_crlf_before_the_boundary_byte_by_byte() -> None:
    # python-multipart's CVE-2024-53981 shape: line breaks before the first boundary.
    scanner = MultipartScanner("b", max_preamble=20_000)
    _assert_fails_within(scanner, b"\n", 20_000, MultipartFramingError)


def test_endless_header_line() -> None:
    scanner = MultipartScanner("b")
    scanner.feed(b"--b\r\nContent-Disposition: form-data; name=")
    _assert_fails_within(scanner, b"a", 8190, PartHeadersTooLarge)


def test_endless_header_block() -> None:
    scanner = MultipartScanner("b")
    scanner.feed(b"--b\r\n")
    _assert_fails_within(scanner, b"X-Header: value\r\n", 200 * 17, PartHeadersTooLarge)


def test_endless_part_makes_progress_in_bounded_memory() -> None:
    scanner = MultipartScanner("b")
    scanner.feed(b"--b\r\n\r\n")
    chunk = b"\r\n-" + b"a" * 65533
    emitted = 0
    for _ in range(200):  # 13 MB of content that never ends
        emitted += sum(len(e.data) for e in scanner.feed(chunk) if isinstance(e, PartData))
    assert 200 * len(chunk) - emitted <= len("b") + 3
    with pytest.raises(IncompleteMultipartError):
        scanner.feed_eof()


def test_cve_2024_30251_shape_ends_with_an_error() -> None:
    # A form-data part whose Content-Length runs past the end of a truncated body, with
    # base64 transfer encoding: aiohttp < 3.9.4 looped for ever on it. The scanner frames
    # by delimiters only, so the truncation is an error.
    body = (
        b"--d74496d66958873e\r\n"
        b'Content-Disposition: form-data; name="file"; filename="f.txt"\r\n'
        b"Content-Type: text/plain\r\n"
        b"Content-Transfer-Encoding: base64\r\n"
        b"Content-Length: 100000\r\n\r\n"
        b"aGVsbG8gd29y"
    )
    events = MultipartScanner("d74496d66958873e")
    assert normalize(events.feed(body))[-1] == ("data", b"aGVsbG8gd29y")
    with pytest.raises(IncompleteMultipartError):
        events.feed_eof()
    assert type(scan_error([body], "d74496d66958873e")) is IncompleteMultipartError


def test_content_length_does_not_frame_a_part() -> None:
    body = b"--b\r\nContent-Length: 2\r\n\r\nlonger than two\r\n--b--"
    assert scan([body]) == [*part(((b"Content-Length", b"2"),), b"longer than two"), ("done",)]
