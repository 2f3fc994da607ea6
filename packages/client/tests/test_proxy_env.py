"""Proxy settings from the environment, no_proxy matching and .netrc credentials."""

from __future__ import annotations

import dataclasses
import logging
import netrc
import os
from pathlib import Path

import pytest
from yarl import URL

from aioloom.client._proxy_env import (
    ProxyInfo,
    basicauth_from_netrc,
    get_env_proxy_for_url,
    netrc_from_env,
    proxies_from_env,
    proxy_bypass,
)
from aioloom.http._auth import BasicAuth


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No proxy variables, no NETRC, and a home directory without .netrc."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in ("NETRC", "REQUEST_METHOD"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    return home


def _netrc_file(tmp_path: Path, text: str, name: str = "netrc") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


# -- proxies_from_env ------------------------------------------------------------------------

PRECEDENCE_CASES: list[tuple[dict[str, str], dict[str, str]]] = [
    ({}, {}),
    ({"http_proxy": "http://lower:1"}, {"http": "http://lower:1"}),
    ({"HTTP_PROXY": "http://upper:1"}, {"http": "http://upper:1"}),
    ({"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:1"}, {"http": "http://lower:1"}),
    ({"Http_Proxy": "http://mixed:1"}, {"http": "http://mixed:1"}),
    # An empty lower-case variable switches the upper-case one off (urllib).
    ({"HTTP_PROXY": "http://upper:1", "http_proxy": ""}, {}),
    ({"HTTP_PROXY": ""}, {}),
    (
        {
            "http_proxy": "http://p:1",
            "https_proxy": "http://p:2",
            "ws_proxy": "http://p:3",
            "WSS_PROXY": "http://p:4",
            "ftp_proxy": "http://p:5",
            "all_proxy": "http://p:6",
            "no_proxy": "x.test",
        },
        {"http": "http://p:1", "https": "http://p:2", "ws": "http://p:3", "wss": "http://p:4"},
    ),
    # Without a scheme, the proxy is an http proxy (as curl and requests read it).
    ({"http_proxy": "proxy.test:3128"}, {"http": "http://proxy.test:3128"}),
    # TLS to the proxy is not supported from the environment (as in aiohttp): skipped.
    (
        {"https_proxy": "https://secure.test:443", "http_proxy": "http://p:1"},
        {"http": "http://p:1"},
    ),
    ({"wss_proxy": "wss://secure.test"}, {}),
]


@pytest.mark.parametrize(("env", "expected"), PRECEDENCE_CASES)
def test_proxy_variables(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: dict[str, str]
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    proxies = proxies_from_env()
    assert {scheme: str(info.proxy) for scheme, info in proxies.items()} == expected
    assert all(info.proxy_auth is None for info in proxies.values())


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"HTTP_PROXY": "http://upper:1"}, None),  # httpoxy: the CGI "Proxy:" header
        ({"http_proxy": "http://lower:1"}, "http://lower:1"),
        ({"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:1"}, "http://lower:1"),
    ],
)
def test_cgi_ignores_upper_case_http_proxy(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str | None
) -> None:
    monkeypatch.setenv("REQUEST_METHOD", "GET")
    monkeypatch.setenv("HTTPS_PROXY", "http://tls:1")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    proxies = proxies_from_env()
    http = str(proxies["http"].proxy) if "http" in proxies else None
    assert http == expected
    assert str(proxies["https"].proxy) == "http://tls:1"


def test_https_proxy_is_skipped_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("https_proxy", "https://secure.test")
    with caplog.at_level(logging.WARNING, logger="aioloom.client"):
        assert proxies_from_env() == {}
    assert "HTTPS proxies" in caplog.text


def test_credentials_from_proxy_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://us%20er:p%40ss@proxy.test:3128/")
    info = proxies_from_env()["http"]
    assert info == ProxyInfo(URL("http://proxy.test:3128/"), BasicAuth("us er", "p@ss"))
    assert info.proxy.user is None and info.proxy.password is None


def test_invalid_proxy_url_is_skipped(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("http_proxy", "http://a%3Ab:pw@proxy.test/")  # ":" in the login
    monkeypatch.setenv("ws_proxy", "http://[broken/")
    monkeypatch.setenv("https_proxy", "http://ok.test:1")
    with caplog.at_level(logging.WARNING, logger="aioloom.client"):
        proxies = proxies_from_env()
    assert set(proxies) == {"https"}
    assert "Ignoring invalid http_proxy" in caplog.text
    assert "Ignoring invalid ws_proxy" in caplog.text


@pytest.mark.parametrize(
    ("netrc_text", "proxy", "expected"),
    [
        ("machine proxy.test login nu password np\n", "http://proxy.test:1", BasicAuth("nu", "np")),
        ("default login du password dp\n", "http://proxy.test:1", BasicAuth("du", "dp")),
        ("machine other.test login x password y\n", "http://proxy.test:1", None),
        # Credentials in the URL win over .netrc.
        (
            "machine proxy.test login nu password np\n",
            "http://u:p@proxy.test:1",
            BasicAuth("u", "p"),
        ),
    ],
)
def test_credentials_from_netrc(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    netrc_text: str,
    proxy: str,
    expected: BasicAuth | None,
) -> None:
    monkeypatch.setenv("NETRC", str(_netrc_file(tmp_path, netrc_text)))
    monkeypatch.setenv("HTTP_PROXY", proxy)
    info = proxies_from_env()["http"]
    assert info.proxy_auth == expected
    assert info.proxy == URL("http://proxy.test:1")


def test_proxy_info_is_frozen() -> None:
    info = ProxyInfo(URL("http://p.test"), None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.proxy = URL("http://other.test")  # type: ignore[misc]


# -- get_env_proxy_for_url ------------------------------------------------------------------------


@pytest.fixture
def all_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("http_proxy", "http://user:pw@p-http.test:1")
    monkeypatch.setenv("https_proxy", "http://p-https.test:2")
    monkeypatch.setenv("ws_proxy", "http://p-ws.test:3")
    monkeypatch.setenv("no_proxy", "internal.test, 10.0.0.0/8")


@pytest.mark.usefixtures("all_proxies")
@pytest.mark.parametrize(
    ("url", "proxy", "auth"),
    [
        ("http://example.test/", "http://p-http.test:1", BasicAuth("user", "pw")),
        ("https://example.test/", "http://p-https.test:2", None),
        ("ws://example.test/", "http://p-ws.test:3", None),
    ],
)
def test_proxy_for_url(url: str, proxy: str, auth: BasicAuth | None) -> None:
    assert get_env_proxy_for_url(URL(url)) == (URL(proxy), auth)


@pytest.mark.usefixtures("all_proxies")
@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("wss://example.test/", "No proxies found"),  # no wss_proxy set
        ("http://internal.test/", "disallowed"),
        ("https://api.internal.test/", "disallowed"),
        ("http://10.1.2.3:8080/", "disallowed"),
    ],
)
def test_no_proxy_for_url(url: str, message: str) -> None:
    with pytest.raises(LookupError, match=message):
        get_env_proxy_for_url(URL(url))


def test_no_proxy_when_nothing_configured() -> None:
    with pytest.raises(LookupError):
        get_env_proxy_for_url(URL("http://example.test/"))


# -- no_proxy matching ---------------------------------------------------------------------------

NO_PROXY_CASES = [
    ("*", "http://anything.test/", True),
    ("*", "http://10.0.0.1/", True),
    ("a.test,*", "http://b.test/", True),
    ("example.com", "http://example.com/", True),
    ("example.com", "http://www.example.com/", True),
    ("example.com", "http://a.b.example.com:8080/", True),
    ("example.com", "http://notexample.com/", False),
    ("example.com", "http://example.com.evil/", False),
    ("example.com", "http://com/", False),
    (".example.com", "http://example.com/", True),  # urllib ignores the leading dot
    (".example.com", "http://www.example.com/", True),
    ("*.example.com", "http://www.example.com/", True),
    ("EXAMPLE.Com", "http://www.example.COM/", True),
    ("example.com.", "http://example.com/", True),
    ("example.com", "http://example.com./", True),
    ("example.com:8080", "http://example.com:8080/", True),
    ("example.com:8080", "https://www.example.com:8080/", True),
    ("example.com:8080", "http://example.com/", False),
    ("example.com:443", "https://example.com/", True),  # the scheme's default port
    ("example.com:443", "http://example.com/", False),
    ("10.0.0.1", "http://10.0.0.1/", True),
    ("10.0.0.1", "http://10.0.0.2/", False),
    ("10.0.0.1:8080", "http://10.0.0.1:8080/", True),
    ("10.0.0.1:8080", "http://10.0.0.1/", False),
    ("10.0.0.0/8", "http://10.200.3.4/", True),
    ("10.0.0.0/8", "http://11.0.0.1/", False),
    ("10.0.0.0/8", "http://ten.test/", False),
    ("10.0.0.1/8", "http://10.9.9.9/", True),  # host bits set: still the /8 range
    ("10.0.0.0/33", "http://10.0.0.1/", False),  # not a range: ignored
    ("127.0.0.1", "http://localhost/", False),  # no name resolution
    ("localhost", "http://127.0.0.1/", False),
    ("::1", "http://[::1]/", True),
    ("[::1]", "http://[::1]:8080/", True),
    ("[::1]:8080", "http://[::1]:8080/", True),
    ("[::1]:8080", "http://[::1]/", False),
    ("0:0::1", "http://[::1]/", True),  # IPv6 compared as addresses, not text
    ("fd00::/8", "http://[fd12:3456::1]/", True),
    ("fd00::/8", "http://[fe80::1]/", False),
    ("localhost, 127.0.0.1 ,::1", "http://127.0.0.1/", True),
    ("a.test b.test\tc.test", "http://b.test/", True),
    ("a.test;b.test", "http://b.test/", False),  # ";" is not a separator
    ("", "http://example.com/", False),
    (" , ,", "http://example.com/", False),
    (".", "http://example.com/", False),
    ("*.", "http://example.com/", False),
    (":80", "http://example.com/", False),
]


@pytest.mark.parametrize(("no_proxy", "url", "expected"), NO_PROXY_CASES)
def test_proxy_bypass(no_proxy: str, url: str, expected: bool) -> None:
    assert proxy_bypass(URL(url), no_proxy) is expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, False),
        ({"no_proxy": "example.com"}, True),
        ({"NO_PROXY": "example.com"}, True),
        ({"NO_PROXY": "example.com", "no_proxy": "other.test"}, False),  # lower case wins
        ({"NO_PROXY": "example.com", "no_proxy": ""}, False),  # even when empty
        ({"no_proxy": "*"}, True),
    ],
)
def test_proxy_bypass_from_env(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: bool
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert proxy_bypass(URL("http://www.example.com/")) is expected


def test_proxy_bypass_without_host() -> None:
    assert proxy_bypass(URL("/relative"), "*") is False


# -- .netrc ---------------------------------------------------------------------------------------


def test_netrc_from_env_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = _netrc_file(tmp_path, "machine h.test login u password p\n")
    monkeypatch.setenv("NETRC", str(path))
    result = netrc_from_env()
    assert result is not None
    assert result.authenticators("h.test") == ("u", "", "p")


def test_netrc_from_home(clean_env: Path) -> None:
    _netrc_file(clean_env, "machine h.test login hu password hp\n", name=".netrc")
    result = netrc_from_env()
    assert result is not None
    assert basicauth_from_netrc(result, "h.test") == BasicAuth("hu", "hp")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "Could not read"),  # missing file
        ("bogus h.test\n", "Could not parse"),  # not a netrc keyword
        ("machine\n", "Could not parse"),  # machine without a name
        ("machine h.test login u password p extra-token\n", "Could not parse"),
    ],
)
def test_unusable_netrc_gives_none(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / "netrc"
    if content is not None:
        _netrc_file(tmp_path, content)
    monkeypatch.setenv("NETRC", str(path))
    with caplog.at_level(logging.DEBUG, logger="aioloom.client"):
        assert netrc_from_env() is None
    records = [r for r in caplog.records if r.name == "aioloom.client"]
    assert records and all(r.levelno == logging.DEBUG for r in records)
    assert message in caplog.text


def test_netrc_that_is_not_text(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "netrc"
    path.write_bytes(b"\xff\xfe\x00machine")
    monkeypatch.setenv("NETRC", str(path))
    assert netrc_from_env() is None


def test_netrc_is_a_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path))
    assert netrc_from_env() is None


def test_no_netrc_in_home() -> None:
    assert netrc_from_env() is None


def test_home_directory_unknown(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", no_home)
    with caplog.at_level(logging.DEBUG, logger="aioloom.client"):
        assert netrc_from_env() is None
    assert "home directory" in caplog.text


@pytest.mark.parametrize(
    ("text", "host", "expected"),
    [
        ("machine h.test login u password p\n", "h.test", BasicAuth("u", "p")),
        (
            "machine h.test login u password p\ndefault login d password q\n",
            "x.test",
            BasicAuth("d", "q"),
        ),
        ("machine h.test account acc password p\n", "h.test", BasicAuth("acc", "p")),
        ("machine h.test login u account acc password p\n", "h.test", BasicAuth("u", "p")),
        ('machine h.test login u password "p w"\n', "h.test", BasicAuth("u", "p w")),
    ],
)
def test_basicauth_from_netrc(tmp_path: Path, text: str, host: str, expected: BasicAuth) -> None:
    assert basicauth_from_netrc(netrc.netrc(str(_netrc_file(tmp_path, text))), host) == expected


def test_basicauth_from_netrc_lookup_errors(tmp_path: Path) -> None:
    with pytest.raises(LookupError, match="No .netrc file found"):
        basicauth_from_netrc(None, "h.test")
    parsed = netrc.netrc(str(_netrc_file(tmp_path, "machine h.test login u password p\n")))
    with pytest.raises(LookupError, match="No entry for other.test"):
        basicauth_from_netrc(parsed, "other.test")


def test_basicauth_from_netrc_rejects_colon_login(tmp_path: Path) -> None:
    parsed = netrc.netrc(str(_netrc_file(tmp_path, "machine h.test login a:b password p\n")))
    with pytest.raises(ValueError):
        basicauth_from_netrc(parsed, "h.test")
