"""The session's view of a cookie jar, and its fallback jar."""

from __future__ import annotations

from http.cookies import Morsel, SimpleCookie

from yarl import URL

from aioloom.client._cookie_seam import SharedCookieJar, default_cookie_jar, merge_cookies


def test_shared_jar_keeps_cookies_given_without_a_url() -> None:
    jar = SharedCookieJar()
    jar.update_cookies({"a": "1", "b": "2"})
    jar.update_cookies({"ignored": "x"}, URL("http://h/"))  # a response's cookies
    assert len(jar) == 2
    assert sorted(m.key for m in jar) == ["a", "b"]
    sent = jar.filter_cookies(URL("http://any.example/"))
    assert {k: m.value for k, m in sent.items()} == {"a": "1", "b": "2"}
    sent["a"] = "changed"  # a copy: the jar is untouched
    assert jar.filter_cookies(URL("http://h/"))["a"].value == "1"
    jar.clear(lambda morsel: morsel.key == "a")
    assert [m.key for m in jar] == ["b"]
    jar.clear_domain("h")
    assert len(jar) == 1
    jar.clear()
    assert len(jar) == 0
    assert jar.quote_cookie


def test_merge_cookies_forms() -> None:
    target = SimpleCookie()
    morsel: Morsel[str] = Morsel()
    morsel.set("m", "v", '"v"')
    other = SimpleCookie()
    other["o"] = "1"
    merge_cookies(target, [("p", "x"), ("m", morsel)])
    merge_cookies(target, {"c": other})
    assert target["p"].value == "x"
    assert target["m"].coded_value == '"v"'
    assert target["o"].value == "1"


def test_default_jar_prefers_the_full_cookie_jar() -> None:
    from aioloom.client._cookiejar import CookieJar

    assert isinstance(default_cookie_jar(), CookieJar)


def test_default_jar_falls_back(monkeypatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "aioloom.client._cookiejar", None)
    assert isinstance(default_cookie_jar(), SharedCookieJar)
