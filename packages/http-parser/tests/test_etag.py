"""Entity tags: ETag, parse_etag(s), format_etag, comparison (RFC 9110 §8.8.3, §13.1)."""

from __future__ import annotations

import time

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from aioloom.http._etag import (
    ETAG_ANY,
    ETag,
    format_etag,
    parse_etag,
    parse_etags,
    strong_match,
    validate_etag_value,
    weak_match,
)

# etagc = %x21 / %x23-7E / obs-text
OPAQUE = st.from_regex(r"[\x21\x23-\x7e\x80-\xff]*", fullmatch=True)


def test_etag_fields_and_defaults() -> None:
    tag = ETag("abc")
    assert (tag.value, tag.is_weak) == ("abc", False)
    assert ETag(value="abc", is_weak=True).is_weak
    assert ETag("a") == ETag("a", False)
    assert ETag("a") != ETag("a", True)
    assert hash(ETag("a")) == hash(ETag("a"))


def test_etag_is_frozen() -> None:
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ETag("a").value = "b"  # type: ignore[misc]


def test_etag_any() -> None:
    assert ETAG_ANY == "*"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('"xyzzy"', (ETag("xyzzy"),)),
        ('W/"xyzzy"', (ETag("xyzzy", is_weak=True),)),
        ('"xyzzy", "r2d2xxxx", "c3piozzzz"', (ETag("xyzzy"), ETag("r2d2xxxx"), ETag("c3piozzzz"))),
        ('"a",W/"b"', (ETag("a"), ETag("b", True))),
        ('  "a" \t,\t W/"b"  ', (ETag("a"), ETag("b", True))),
        ('"a", , "b",', (ETag("a"), ETag("b"))),  # RFC 9110 §5.6.1.2: empty elements
        ('""', (ETag(""),)),  # opaque-tag = DQUOTE *etagc DQUOTE
        ('"a,b"', (ETag("a,b"),)),  # a comma inside the quotes does not split
        ('"\x80\xff"', (ETag("\x80\xff"),)),  # obs-text
        ("", ()),
        (" , ", ()),
    ],
)
def test_parse_etags(header: str, expected: tuple[ETag, ...]) -> None:
    assert parse_etags(header) == expected


@pytest.mark.parametrize("header", ["*", " * ", "\t*"])
def test_parse_etags_wildcard(header: str) -> None:
    assert parse_etags(header) == ETAG_ANY


@pytest.mark.parametrize(
    "header",
    [
        "xyzzy",  # not quoted
        '"xyzzy',  # unterminated
        'xyzzy"',
        '"a" "b"',  # missing comma
        '"a"x',
        'w/"a"',  # weak is case-sensitive: %s"W/"
        'W/ "a"',
        "W/a",
        '"a b"',  # SP is not etagc
        '"a"b"',
        '"a\x7f"',
        '"a\tb"',
        '"\u0100"',  # beyond obs-text
        '*, "a"',  # the wildcard stands alone
        '"a", *',
        "**",
        '"a"\n',
        '"a";"b"',
    ],
)
def test_parse_etags_malformed(header: str) -> None:
    with pytest.raises(ValueError, match="invalid entity-tag list"):
        parse_etags(header)


@pytest.mark.parametrize(
    "header",
    [" " * 60_000 + "x", '"a",' + " \t" * 30_000 + "x", '"a"' + " " * 60_000 + "x"],
    ids=["blanks", "blanks-after-a-tag-and-comma", "blanks-after-a-tag"],
)
def test_parse_etags_long_blank_runs_stay_linear(header: str) -> None:
    # Two OWS runs around an empty element made a failing match quadratic: an If-None-Match
    # of 8 KiB of blanks cost 0.8 s of server CPU, this one about a minute.
    started = time.perf_counter()
    with pytest.raises(ValueError, match="invalid entity-tag list"):
        parse_etags(header)
    assert time.perf_counter() - started < 1.0


def test_parse_etags_blanks_around_elements() -> None:
    assert parse_etags(' \t"a" \t, ,\tW/"b"\t ') == (ETag("a"), ETag("b", True))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"abc"', ETag("abc")),
        ('W/"abc"', ETag("abc", True)),
        (' "abc" ', ETag("abc")),
        ('""', ETag("")),
        ("*", ETag("*")),
    ],
)
def test_parse_etag(value: str, expected: ETag) -> None:
    assert parse_etag(value) == expected


@pytest.mark.parametrize("value", ["abc", '"abc', 'W/"a" ,', '"a", "b"', '"a b"', "", 'w/"a"'])
def test_parse_etag_malformed(value: str) -> None:
    assert parse_etag(value) is None


@pytest.mark.parametrize(
    ("etag", "expected"),
    [
        ("abc", '"abc"'),
        (ETag("abc"), '"abc"'),
        (ETag("abc", is_weak=True), 'W/"abc"'),
        ("", '""'),
        ("*", "*"),
        (ETag("*", is_weak=True), "*"),
    ],
)
def test_format_etag(etag: ETag | str, expected: str) -> None:
    assert format_etag(etag) == expected


@pytest.mark.parametrize("value", ['a"b', "a b", "a\r\nSet-Cookie: x=y", "a\x00", "\u0100", "a\tb"])
def test_format_etag_rejects_invalid(value: str) -> None:
    with pytest.raises(ValueError, match="not a valid etag"):
        format_etag(value)
    with pytest.raises(ValueError, match="not a valid etag"):
        format_etag(ETag(value, is_weak=True))
    with pytest.raises(ValueError):
        validate_etag_value(value)


def test_validate_accepts_valid() -> None:
    validate_etag_value("*")
    validate_etag_value("")
    validate_etag_value("abc-123/xyz")


@pytest.mark.parametrize(
    ("a", "b", "strong", "weak"),
    [
        # RFC 9110 §8.8.3.2, the example table
        (ETag("1", True), ETag("1", True), False, True),
        (ETag("1", True), ETag("2", True), False, False),
        (ETag("1", True), ETag("1"), False, True),
        (ETag("1"), ETag("1"), True, True),
    ],
)
def test_comparison(a: ETag, b: ETag, strong: bool, weak: bool) -> None:
    assert strong_match(a, b) is strong
    assert strong_match(b, a) is strong
    assert weak_match(a, b) is weak
    assert weak_match(b, a) is weak


@given(st.lists(st.tuples(OPAQUE, st.booleans()), max_size=6))
def test_format_parse_round_trip(tags: list[tuple[str, bool]]) -> None:
    etags = tuple(ETag(value, weak) for value, weak in tags if value != "*")
    header = ", ".join(format_etag(tag) for tag in etags)
    assert parse_etags(header) == etags
    for tag in etags:
        assert parse_etag(format_etag(tag)) == tag
