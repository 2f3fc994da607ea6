"""BasicAuth and encode_basic_auth: construction rules, encode/decode (RFC 7617), URLs."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st
from yarl import URL

from aioloom.http import encode_basic_auth
from aioloom.http._auth import BasicAuth


def test_fields_and_defaults() -> None:
    auth = BasicAuth("nkim")
    assert auth == ("nkim", "", "latin1")
    assert (auth.login, auth.password, auth.encoding) == ("nkim", "", "latin1")
    assert isinstance(auth, tuple)


def test_is_immutable() -> None:
    auth = BasicAuth("nkim", "pwd")
    with pytest.raises(AttributeError):
        auth.login = "other"  # type: ignore[misc]


def test_none_login_rejected() -> None:
    with pytest.raises(ValueError, match="login"):
        BasicAuth(None)  # type: ignore[arg-type]


def test_none_password_rejected() -> None:
    with pytest.raises(ValueError, match="password"):
        BasicAuth("nkim", None)  # type: ignore[arg-type]


def test_colon_in_login_rejected() -> None:
    with pytest.raises(ValueError, match='":" is not allowed'):
        BasicAuth("user:name", "pwd")


def test_colon_in_password_allowed() -> None:
    auth = BasicAuth("user", "pa:ss:word")
    assert BasicAuth.decode(auth.encode()) == auth


def test_encode() -> None:
    assert BasicAuth("nkim", "pwd").encode() == "Basic bmtpbTpwd2Q="
    assert BasicAuth("Aladdin", "open sesame").encode() == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_encode_with_encoding() -> None:
    # RFC 7617 §2.1: the charset parameter, here UTF-8.
    auth = BasicAuth("test", "123£", encoding="utf-8")
    assert auth.encode() == "Basic dGVzdDoxMjPCow=="
    assert BasicAuth("test", "123£").encode() == "Basic dGVzdDoxMjOj"  # latin1


def test_encode_unencodable_credentials() -> None:
    with pytest.raises(UnicodeEncodeError):
        BasicAuth("user", "пароль", encoding="latin1").encode()


def test_decode() -> None:
    assert BasicAuth.decode("Basic bmtpbTpwd2Q=") == BasicAuth("nkim", "pwd")


@pytest.mark.parametrize("scheme", ["basic", "BASIC", "bAsIc"])
def test_decode_scheme_is_case_insensitive(scheme: str) -> None:
    assert BasicAuth.decode(f"{scheme} bmtpbTpwd2Q=") == BasicAuth("nkim", "pwd")


def test_decode_tolerates_several_spaces() -> None:
    # RFC 9110 §11.4: auth-scheme [ 1*SP token68 ]
    assert BasicAuth.decode("Basic   bmtpbTpwd2Q=") == BasicAuth("nkim", "pwd")


def test_decode_empty_login_and_password() -> None:
    encoded = base64.b64encode(b":").decode()
    assert BasicAuth.decode(f"Basic {encoded}") == BasicAuth("", "")


def test_decode_utf8() -> None:
    auth = BasicAuth.decode("Basic dGVzdDoxMjPCow==", encoding="utf-8")
    assert auth == BasicAuth("test", "123£", encoding="utf-8")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Basic", "Could not parse"),
        ("", "Could not parse"),
        ("bmtpbTpwd2Q=", "Could not parse"),
        ("Bearer bmtpbTpwd2Q=", "Unknown authorization method"),
        ("Basi bmtpbTpwd2Q=", "Unknown authorization method"),
        ("Basic bmtpbTpwd2Q", "Invalid base64"),  # missing padding
        ("Basic bmtp*TpwZ2Q=", "Invalid base64"),  # not in the alphabet
        ("Basic bmtpbTpwd2Q= x", "Invalid base64"),
        ("Basic ЖЖЖЖ", "Invalid base64"),  # non-ASCII
        ("Basic " + base64.b64encode(b"nocolon").decode(), "Invalid credentials"),
        ("Basic " + base64.b64encode(b"").decode(), "Invalid credentials"),
    ],
)
def test_decode_malformed(header: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BasicAuth.decode(header)


def test_decode_undecodable_in_encoding() -> None:
    header = "Basic " + base64.b64encode(b"user:\xff\xfe").decode()
    with pytest.raises(ValueError, match="not valid utf-8"):
        BasicAuth.decode(header, encoding="utf-8")
    assert BasicAuth.decode(header).password == "\xff\xfe"  # latin1 decodes any octet


def test_from_url() -> None:
    auth = BasicAuth.from_url(URL("http://user:pass@example.com"))
    assert auth == BasicAuth("user", "pass")


def test_from_url_percent_decodes() -> None:
    auth = BasicAuth.from_url(URL("http://us%40er:p%3Ass@example.com"))
    assert auth == BasicAuth("us@er", "p:ss")


def test_from_url_user_only_and_password_only() -> None:
    assert BasicAuth.from_url(URL("http://user@example.com")) == BasicAuth("user", "")
    assert BasicAuth.from_url(URL("http://:pass@example.com")) == BasicAuth("", "pass")


def test_from_url_without_credentials() -> None:
    assert BasicAuth.from_url(URL("http://example.com")) is None


def test_from_url_encoding() -> None:
    auth = BasicAuth.from_url(URL("http://u:p@example.com"), encoding="utf-8")
    assert auth is not None
    assert auth.encoding == "utf-8"


def test_from_url_rejects_str() -> None:
    with pytest.raises(TypeError, match="yarl.URL"):
        BasicAuth.from_url("http://user:pass@example.com")  # type: ignore[arg-type]


@given(
    login=st.text(alphabet=st.characters(codec="utf-8", exclude_characters=":")),
    password=st.text(alphabet=st.characters(codec="utf-8")),
)
def test_round_trip_utf8(login: str, password: str) -> None:
    auth = BasicAuth(login, password, encoding="utf-8")
    assert BasicAuth.decode(auth.encode(), encoding="utf-8") == auth


@given(
    login=st.text(alphabet=st.characters(codec="latin-1", exclude_characters=":")),
    password=st.text(alphabet=st.characters(codec="latin-1")),
)
def test_round_trip_latin1(login: str, password: str) -> None:
    auth = BasicAuth(login, password)
    assert BasicAuth.decode(auth.encode()) == auth


# -- encode_basic_auth (aiohttp 3.14) ------------------------------------------------------


def test_encode_basic_auth_value() -> None:
    # RFC 7617 §2 example: Aladdin / open sesame.
    assert encode_basic_auth("Aladdin", "open sesame") == "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="


def test_encode_basic_auth_defaults_to_utf8() -> None:
    # RFC 7617 §2.1 example: test / 123£ in UTF-8.
    assert encode_basic_auth("test", "123\u00a3") == "Basic dGVzdDoxMjPCow=="
    assert encode_basic_auth("test", "123\u00a3", "latin1") == "Basic dGVzdDoxMjOj"


def test_encode_basic_auth_empty_parts_and_colon_in_password() -> None:
    assert encode_basic_auth("") == "Basic " + base64.b64encode(b":").decode()
    assert encode_basic_auth("u") == "Basic " + base64.b64encode(b"u:").decode()
    value = encode_basic_auth("u", "a:b:c")
    assert BasicAuth.decode(value, encoding="utf-8") == BasicAuth("u", "a:b:c", "utf-8")


def test_encode_basic_auth_rejects_colon_in_login() -> None:
    with pytest.raises(ValueError, match="RFC 7617"):
        encode_basic_auth("user:name", "pass")


@pytest.mark.parametrize(("login", "password"), [(None, "p"), ("u", None)])
def test_encode_basic_auth_rejects_none(login: str | None, password: str | None) -> None:
    with pytest.raises(ValueError, match="None"):
        encode_basic_auth(login, password)  # type: ignore[arg-type]


def test_encode_basic_auth_unencodable_credentials() -> None:
    with pytest.raises(UnicodeEncodeError):
        encode_basic_auth("\u0436", "p", "latin1")


def test_encode_basic_auth_unknown_codec() -> None:
    with pytest.raises(LookupError):
        encode_basic_auth("u", "p", "no-such-codec")


def test_encode_basic_auth_non_ascii_codec_still_ascii_base64() -> None:
    value = encode_basic_auth("u", "p", "utf-16")
    assert value.isascii()
    assert base64.b64decode(value.removeprefix("Basic ")).decode("utf-16") == "u:p"


def test_basic_auth_encode_matches_encode_basic_auth() -> None:
    auth = BasicAuth("\u00e9", "p\u00e9")
    assert auth.encode() == encode_basic_auth("\u00e9", "p\u00e9", "latin1")


@given(
    login=st.text(alphabet=st.characters(codec="utf-8", exclude_characters=":")),
    password=st.text(alphabet=st.characters(codec="utf-8")),
)
def test_encode_basic_auth_round_trip(login: str, password: str) -> None:
    value = encode_basic_auth(login, password)
    assert BasicAuth.decode(value, encoding="utf-8") == BasicAuth(login, password, "utf-8")
