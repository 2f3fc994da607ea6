"""The router's specialised resolvers agree with the generic ``_resolve_path``.

Plain and dynamic resources hand the router a resolver with their match inlined and a match
info built without ``__init__`` (``Resource._resolver``); a pattern of one ``{name}`` reads
the regex's only group instead of a groupdict. These tests hold them to the behaviour of the
generic path: the same matches, the same decoded values, the same 404/405, the same match
info state, and subclasses that override ``_match`` still being asked.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aioloom.web._app import Application
from aioloom.web._resources import DynamicResource, PlainResource
from aioloom.web._response import Response
from aioloom.web._routing import NO_METHODS, UrlMappingMatchInfo
from aioloom.web._urldispatcher import UrlDispatcher


async def handler(request: Any) -> Response:
    return Response(text="ok")


def raw(method: str, target: str) -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: example.com\r\n\r\n".encode()


@pytest.fixture
def resolve(make_app_request: Any) -> Any:
    """``await resolve(router, "GET", "/path")`` -> the match info."""

    async def do(router: UrlDispatcher, method: str, target: str) -> Any:
        return await router.resolve(make_app_request(raw(method, target)))

    return do


def _same(fast: Any, slow: Any) -> None:
    """Two ``Resolve`` results are equal: same variables, route and allowed methods."""
    assert (fast[0] is None) == (slow[0] is None)
    if fast[0] is not None:
        assert type(fast[0]) is UrlMappingMatchInfo
        assert dict(fast[0]) == dict(slow[0])
        assert fast[0].route is slow[0].route
    assert set(fast[1]) == set(slow[1])


# -- which resolver each resource gives ----------------------------------------------------------


def test_each_resource_kind_gets_its_resolver() -> None:
    router = UrlDispatcher()
    plain = router.add_resource("/a")
    one = router.add_resource("/u/{id}")
    custom = router.add_resource(r"/n/{id:\d+}")
    two = router.add_resource("/m/{a}/{b}")
    assert plain._resolver() == plain._resolve_plain  # type: ignore[attr-defined]
    assert one._resolver() == one._resolve_pattern  # type: ignore[attr-defined]
    assert custom._resolver() == custom._resolve_pattern  # type: ignore[attr-defined]
    assert two._resolver() == two._resolve_pattern  # type: ignore[attr-defined]
    # Only a pattern of exactly one plain {name} reads the regex's group without a dict.
    assert [res._var for res in (one, custom, two)] == ["id", "", ""]  # type: ignore[attr-defined]


def test_a_subclass_overriding_match_is_still_asked() -> None:
    seen: list[str] = []

    class Lower(PlainResource):
        def _match(self, path: str) -> dict[str, str] | None:
            seen.append(path)
            return {} if path.lower() == self._safe_path else None

    class Upper(DynamicResource):
        def _match(self, path: str) -> dict[str, str] | None:
            seen.append(path)
            found = super()._match(path)
            return None if found is None else {k: v.upper() for k, v in found.items()}

    lower, upper = Lower("/abc"), Upper("/x/{id}")
    lower.add_route("GET", handler)
    upper.add_route("GET", handler)
    assert lower._resolver()("/ABC", "GET")[0] is not None
    match_info = upper._resolver()("/x/abc", "GET")[0]
    assert match_info is not None
    assert dict(match_info) == {"id": "ABC"}
    assert seen == ["/ABC", "/x/abc"]


# -- one {name} variable ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("/user/{id}", "/user/4711", {"id": "4711"}),
        ("/user/{id}", "/user/", None),  # a variable is never empty
        ("/user/{id}", "/user/1/2", None),  # nor more than one segment
        ("/user/{id}", "/user/a%2Fb", {"id": "a/b"}),  # decoded: an encoded slash
        ("/user/{id}", "/user/100%25", {"id": "100%"}),
        ("/user/{id}/posts", "/user/7/posts", {"id": "7"}),
        ("/user/{id}/posts", "/user/7/post", None),
        ("/item{n}.json", "/itema.json.json", {"n": "a.json"}),
        ("/item{n}.json", "/item.json", None),
        ("/caf\u00e9/{x}", "/caf\u00e9/1", {"x": "1"}),
        ("/100%/{x}", "/100%25/1", {"x": "1"}),  # a literal % is %25 in path_safe form
    ],
)
def test_one_variable_matches_as_the_regex_does(
    pattern: str, path: str, expected: dict[str, str] | None
) -> None:
    resource = DynamicResource(pattern)
    resource.add_route("GET", handler)
    fast = resource._resolver()(path, "GET")
    _same(fast, resource._resolve_path(path, "GET"))
    assert (None if fast[0] is None else dict(fast[0])) == expected


@settings(max_examples=300, deadline=None)
@given(
    head=st.text(alphabet="ab/%.-", max_size=6),
    tail=st.text(alphabet="ab/%.-", max_size=6),
    path=st.text(alphabet="ab/%2F5.-", max_size=14),
)
def test_fast_resolvers_agree_with_the_generic_one(head: str, tail: str, path: str) -> None:
    resource = DynamicResource("/" + head + "{v}" + tail)
    resource.add_route("POST", handler)
    plain = PlainResource("/" + head + tail)
    plain.add_route("POST", handler)
    for method in ("POST", "GET"):
        for candidate in (path, "/" + path):
            _same(
                resource._resolver()(candidate, method),
                resource._resolve_path(candidate, method),
            )
            _same(plain._resolver()(candidate, method), plain._resolve_path(candidate, method))


def test_a_custom_regex_and_several_variables_still_decode() -> None:
    custom = DynamicResource(r"/n/{id:[^/]+/\d+}")
    custom.add_route("GET", handler)
    match_info = custom._resolver()("/n/a%2Fb/12", "GET")[0]
    assert match_info is not None
    assert dict(match_info) == {"id": "a/b/12"}
    two = DynamicResource("/m/{a}/{b}")
    two.add_route("GET", handler)
    match_info = two._resolver()("/m/x%25/y", "GET")[0]
    assert match_info is not None
    assert dict(match_info) == {"a": "x%", "b": "y"}
    assert two._resolver()("/m/x", "GET") == (None, NO_METHODS)


# -- 404 / 405 and the match info's state --------------------------------------------------------


async def test_405_and_404_through_the_fast_resolvers(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/user/{id}", handler)
    router.add_post("/", handler)
    info = await resolve(router, "DELETE", "/user/1")
    assert info.http_exception.status == 405
    assert info.http_exception.allowed_methods == {"GET", "HEAD"}
    assert (await resolve(router, "GET", "/")).http_exception.allowed_methods == {"POST"}
    assert (await resolve(router, "GET", "/user/")).http_exception.status == 404


async def test_a_fast_match_info_has_the_full_state(resolve: Any) -> None:
    app = Application()
    sub = Application()
    sub.router.add_get("/{name}", handler)
    app.router.add_get("/user/{id}", handler)
    app.add_subapp("/sub", sub)
    info = await resolve(app.router, "GET", "/user/1")
    assert type(info) is UrlMappingMatchInfo
    assert list(info.apps) == []
    info.add_app(app)
    assert info.apps == (app,)
    assert info.current_app is app
    info.freeze()
    with pytest.raises(RuntimeError):
        info.add_app(app)
    info = await resolve(app.router, "GET", "/sub/x")
    assert dict(info) == {"name": "x"}
    assert info.apps == (sub,)
    handler_of = info._enter(app)
    assert handler_of is handler
    assert info.apps == (app, sub)
    assert info.current_app is sub
    with pytest.raises(RuntimeError):
        info._enter(app)
    assert "MatchInfo" in repr(info)


async def test_a_target_without_a_leading_slash_tries_the_root(resolve: Any) -> None:
    class Star(PlainResource):
        def _match(self, path: str) -> dict[str, str] | None:
            return {} if path in ("*", "/") else None

    for method, status in (("OPTIONS", None), ("GET", 405)):
        router = UrlDispatcher()
        star = Star("/")
        router.register_resource(star)
        star.add_route(method, handler)
        info = await resolve(router, "OPTIONS", "*")
        if status is None:
            assert info.http_exception is None
        else:
            assert info.http_exception.allowed_methods == {"GET"}
