"""aioloom.http.hdrs: the same names as aiohttp.hdrs, canonical spellings, istr values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from multidict import CIMultiDict, istr

from aioloom.http import hdrs

NAMES_FILE = Path(__file__).parent / "data" / "aiohttp_hdrs_names.txt"
METHOD_NAMES = {name for name in dir(hdrs) if name.startswith("METH_")}
HEADER_NAMES = {
    name for name in dir(hdrs) if name.isupper() and name not in METHOD_NAMES and name != "HOST_ALL"
}
TOKEN_RE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _public_names() -> set[str]:
    return {name for name in vars(hdrs) if not name.startswith("_") and name.isupper()}


def test_names_equal_aiohttp_list() -> None:
    expected = set(NAMES_FILE.read_text(encoding="ascii").split())
    assert len(expected) == 144
    assert _public_names() == expected


def test_no_stray_public_names() -> None:
    # Only constants (plus the imported helpers) live in the module namespace.
    stray = {
        name
        for name in vars(hdrs)
        if not name.startswith("_")
        and not name.isupper()
        and name not in {"annotations", "itertools", "Final", "istr"}
    }
    assert stray == set()


@pytest.mark.parametrize("name", sorted(HEADER_NAMES))
def test_header_constants_are_istr_tokens(name: str) -> None:
    value = getattr(hdrs, name)
    assert isinstance(value, istr)
    # RFC 9110 §5.1: field-name = token
    assert TOKEN_RE.fullmatch(value), value


@pytest.mark.parametrize("name", sorted(HEADER_NAMES))
def test_header_constant_matches_its_python_name(name: str) -> None:
    assert getattr(hdrs, name).upper().replace("-", "_") == name


@pytest.mark.parametrize(
    ("name", "spelling"),
    [
        ("ETAG", "ETag"),
        ("WWW_AUTHENTICATE", "WWW-Authenticate"),
        ("CONTENT_MD5", "Content-MD5"),
        ("CONTENT_ID", "Content-ID"),
        ("TE", "TE"),
        ("SEC_WEBSOCKET_KEY", "Sec-WebSocket-Key"),
        ("SEC_WEBSOCKET_KEY1", "Sec-WebSocket-Key1"),
        ("X_FORWARDED_FOR", "X-Forwarded-For"),
        ("X_REAL_IP", "X-Real-IP"),
        ("X_RATELIMIT_LIMIT", "X-RateLimit-Limit"),
        ("CDN_CACHE_CONTROL", "CDN-Cache-Control"),
        ("ACCEPT_CH", "Accept-CH"),
        ("SEC_CH_UA_MOBILE", "Sec-CH-UA-Mobile"),
        ("BAGGAGE", "baggage"),
        ("TRACEPARENT", "traceparent"),
        ("NEL", "NEL"),
        ("URI", "URI"),
        ("TRANSFER_ENCODING", "Transfer-Encoding"),
        ("CONTENT_SECURITY_POLICY_REPORT_ONLY", "Content-Security-Policy-Report-Only"),
    ],
)
def test_canonical_spelling(name: str, spelling: str) -> None:
    value = getattr(hdrs, name)
    assert str(value) == spelling
    # CIMultiDict folds case: a lower-case wire spelling finds the constant.
    assert CIMultiDict({spelling.lower(): "v"})[value] == "v"


def test_header_values_are_distinct() -> None:
    values = [str(getattr(hdrs, name)).lower() for name in HEADER_NAMES]
    assert len(values) == len(set(values))


def test_methods() -> None:
    assert hdrs.METH_GET == "GET"
    assert hdrs.METH_ANY == "*"
    assert hdrs.METH_ALL == {
        "CONNECT",
        "DELETE",
        "GET",
        "HEAD",
        "OPTIONS",
        "PATCH",
        "POST",
        "PUT",
        "TRACE",
    }
    assert hdrs.METH_ANY not in hdrs.METH_ALL
    for name in METHOD_NAMES - {"METH_ALL", "METH_ANY"}:
        value = getattr(hdrs, name)
        assert type(value) is str  # methods are case-sensitive (RFC 9110 §9.1)
        assert value in hdrs.METH_ALL
        assert name == f"METH_{value}"


def test_host_all_is_every_case_spelling() -> None:
    assert len(hdrs.HOST_ALL) == 16
    assert {"host", "HOST", "Host", "hOsT"} <= hdrs.HOST_ALL
    assert all(spelling.lower() == "host" for spelling in hdrs.HOST_ALL)
    assert "Hosts" not in hdrs.HOST_ALL
    assert "hos" not in hdrs.HOST_ALL


def test_constants_work_as_multidict_keys() -> None:
    headers = CIMultiDict([("content-type", "text/plain"), ("ETAG", '"x"')])
    assert headers[hdrs.CONTENT_TYPE] == "text/plain"
    assert headers[hdrs.ETAG] == '"x"'
    assert hdrs.CONTENT_LENGTH not in headers


def test_lookup_of_malformed_name_fails() -> None:
    with pytest.raises(AttributeError):
        hdrs.CONTENT_TYPES  # type: ignore[attr-defined]  # noqa: B018
