"""The router without a server: matching, 404/405, names, URL reversal, match info.

Requests are built from raw bytes by the real parser (``make_app_request`` in conftest),
so the paths the router sees are the ones a server would give it.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from yarl import URL

from aioloom.http import hdrs
from aioloom.web._app import Application
from aioloom.web._exceptions import HTTPMethodNotAllowed, HTTPNotFound
from aioloom.web._resources import DynamicResource, PlainResource
from aioloom.web._response import Response
from aioloom.web._routing import (
    MatchInfoError,
    ResourceRoute,
    SystemRoute,
    UrlMappingMatchInfo,
)
from aioloom.web._static import StaticResource
from aioloom.web._urldispatcher import UrlDispatcher
from aioloom.web._view import View


async def handler(request: Any) -> Response:
    return Response(text="ok")


async def other(request: Any) -> Response:
    return Response(text="other")


def raw(method: str, target: str, host: str = "example.com") -> bytes:
    return f"{method} {target} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()


@pytest.fixture
def resolve(make_app_request: Any) -> Any:
    """``await resolve(router, "GET", "/path")`` -> the match info."""

    async def do(router: UrlDispatcher, method: str, target: str, **kw: str) -> Any:
        return await router.resolve(make_app_request(raw(method, target, **kw)))

    return do


# -- plain and dynamic paths -----------------------------------------------------------------


async def test_plain_path_matches_exactly(resolve: Any) -> None:
    router = UrlDispatcher()
    route = router.add_route("GET", "/a/b", handler)
    info = await resolve(router, "GET", "/a/b")
    assert isinstance(info, UrlMappingMatchInfo)
    assert info.route is route
    assert info.handler is handler
    assert dict(info) == {}
    for target in ("/a/b/", "/a", "/a/bc", "/A/b"):
        miss = await resolve(router, "GET", target)
        assert isinstance(miss.http_exception, HTTPNotFound), target
        assert miss.http_exception.status == 404


async def test_query_string_does_not_affect_matching(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/search", handler)
    info = await resolve(router, "GET", "/search?q=a/b&x=%2F")
    assert info.http_exception is None


async def test_dynamic_segment_variable(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/users/{id}/posts/{post}", handler)
    info = await resolve(router, "GET", "/users/42/posts/hello")
    assert dict(info) == {"id": "42", "post": "hello"}
    # {name} is one segment: a slash never matches it.
    miss = await resolve(router, "GET", "/users/4/2/posts/hello")
    assert miss.http_exception.status == 404


async def test_dynamic_regex_variables(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get(r"/n/{num:\d+}", handler)
    router.add_get(r"/code/{code:[A-Z]{3}}", other)
    router.add_get("/files/{path:.+}", handler)
    assert dict(await resolve(router, "GET", "/n/123")) == {"num": "123"}
    assert (await resolve(router, "GET", "/n/12a")).http_exception.status == 404
    info = await resolve(router, "GET", "/code/ABC")
    assert info.handler is other and dict(info) == {"code": "ABC"}
    assert (await resolve(router, "GET", "/code/ABCD")).http_exception.status == 404
    assert dict(await resolve(router, "GET", "/files/a/b/c.txt")) == {"path": "a/b/c.txt"}


async def test_values_are_decoded_and_encoded_slash_stays_in_segment(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/u/{name}", handler)
    assert dict(await resolve(router, "GET", "/u/a%2Fb")) == {"name": "a/b"}
    assert dict(await resolve(router, "GET", "/u/caf%C3%A9")) == {"name": "café"}
    assert dict(await resolve(router, "GET", "/u/100%25")) == {"name": "100%"}
    assert dict(await resolve(router, "GET", "/u/a%20b")) == {"name": "a b"}


async def test_plain_paths_are_written_decoded(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/a b", handler)
    router.add_get("/100%", other)
    router.add_get("/caf\u00e9", handler)
    assert (await resolve(router, "GET", "/a%20b")).http_exception is None
    assert (await resolve(router, "GET", "/100%25")).handler is other
    assert (await resolve(router, "GET", "/caf%C3%A9")).http_exception is None
    assert (await resolve(router, "GET", "/100%2525")).http_exception.status == 404


@pytest.mark.parametrize(
    "path",
    ["/{", "/}", "/a{b", "/{1abc}", "/{a:}", "/x/{name:(}", "/{a}/{a}"],
)
def test_malformed_patterns_are_rejected(path: str) -> None:
    with pytest.raises(ValueError):
        UrlDispatcher().add_get(path, handler)


def test_path_must_start_with_slash(tmp_path: Any) -> None:
    router = UrlDispatcher()
    with pytest.raises(ValueError, match="started with /"):
        router.add_get("relative", handler)
    with pytest.raises(ValueError):
        PlainResource("relative")
    with pytest.raises(ValueError):
        DynamicResource("x/{a}")
    with pytest.raises(ValueError, match="Bad prefix"):
        StaticResource("/trailing/", tmp_path)
    with pytest.raises(ValueError, match="Bad prefix"):
        StaticResource("relative", tmp_path)


# -- methods: 404, 405 and Allow ---------------------------------------------------------------


async def test_405_lists_the_allowed_methods(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/item", handler)
    router.add_post("/item", handler)
    router.add_delete("/other", handler)
    info = await resolve(router, "PUT", "/item")
    assert isinstance(info, MatchInfoError)
    exc = info.http_exception
    assert isinstance(exc, HTTPMethodNotAllowed)
    assert exc.status == 405
    assert exc.allowed_methods == {"GET", "HEAD", "POST"}
    assert exc.headers["Allow"] == "GET,HEAD,POST"
    assert isinstance(info.route, SystemRoute)
    assert info.route.status == 405


async def test_405_collects_methods_over_several_resources(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/x/{a}", handler)
    router.add_put("/x/{b:\\d+}", handler)
    router.add_patch("/x/{c}", handler)
    info = await resolve(router, "POST", "/x/1")
    assert info.http_exception.allowed_methods == {"GET", "HEAD", "PUT", "PATCH"}
    info = await resolve(router, "POST", "/x/a")
    assert info.http_exception.allowed_methods == {"GET", "HEAD", "PATCH"}


async def test_later_resource_with_the_method_wins_over_405(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/x/{a}", handler)
    router.add_post("/x/{b}", other)
    info = await resolve(router, "POST", "/x/1")
    assert info.handler is other
    assert dict(info) == {"b": "1"}


async def test_any_method_route(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_route(hdrs.METH_ANY, "/any", handler)
    for method in ("GET", "POST", "DELETE", "PROPFIND"):
        assert (await resolve(router, method, "/any")).handler is handler


async def test_unknown_method_gets_405_not_404(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/x", handler)
    info = await resolve(router, "BREW", "/x")
    assert info.http_exception.status == 405


async def test_add_get_adds_head_unless_disabled(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/with", handler)
    router.add_get("/without", handler, allow_head=False)
    assert (await resolve(router, "HEAD", "/with")).http_exception is None
    info = await resolve(router, "HEAD", "/without")
    assert info.http_exception.status == 405
    assert info.http_exception.allowed_methods == {"GET"}


def test_a_method_is_registered_once_per_resource() -> None:
    router = UrlDispatcher()
    resource = router.add_resource("/r")
    resource.add_route("GET", handler)
    with pytest.raises(RuntimeError, match="already registered"):
        resource.add_route("get", other)
    any_resource = router.add_resource("/any")
    any_resource.add_route("*", handler)
    with pytest.raises(RuntimeError):
        any_resource.add_route("POST", handler)


@pytest.mark.parametrize("method", ["GE T", "", "GET\r\n", "G(T"])
def test_bad_method_is_rejected(method: str) -> None:
    with pytest.raises(ValueError, match="not allowed HTTP method"):
        UrlDispatcher().add_route(method, "/", handler)


def test_expect_handler_must_be_a_coroutine_function() -> None:
    def not_async(request: Any) -> None:
        return None

    with pytest.raises(TypeError, match="Coroutine is expected"):
        UrlDispatcher().add_get("/", handler, expect_handler=not_async)  # type: ignore[arg-type]


def test_handler_must_be_callable() -> None:
    with pytest.raises(TypeError):
        UrlDispatcher().add_get("/", "nope")  # type: ignore[arg-type]


async def test_plain_function_handler_is_wrapped_with_a_warning(resolve: Any) -> None:
    def sync_handler(request: Any) -> Response:
        return Response(text="sync")

    router = UrlDispatcher()
    with pytest.warns(DeprecationWarning, match="Bare functions"):
        router.add_get("/", sync_handler)  # type: ignore[arg-type]
    info = await resolve(router, "GET", "/")
    response = await info.handler(None)
    assert response.text == "sync"


async def test_view_class_is_a_handler(resolve: Any) -> None:
    class MyView(View):
        async def get(self) -> Response:
            return Response(text="view")

    router = UrlDispatcher()
    router.add_view("/v", MyView)
    info = await resolve(router, "DELETE", "/v")
    assert info.handler is MyView


# -- resolution order and speed -------------------------------------------------------------------


async def test_most_specific_prefix_wins_then_registration_order(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/{tail:.*}", other)
    router.add_get("/users/{id}", handler)
    assert (await resolve(router, "GET", "/users/5")).handler is handler
    assert (await resolve(router, "GET", "/about")).handler is other
    first = UrlDispatcher()
    first.add_get("/users/{id}", handler)
    first.add_get("/users/{name:[a-z]+}", other)
    assert (await resolve(first, "GET", "/users/abc")).handler is handler
    second = UrlDispatcher()
    second.add_get("/users/{name:[a-z]+}", other)
    second.add_get("/users/{id}", handler)
    assert (await resolve(second, "GET", "/users/abc")).handler is other
    assert (await resolve(second, "GET", "/users/123")).handler is handler


async def test_registration_order_across_kinds_in_one_bucket(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/p/{a}", handler)
    router.add_get(r"/p/{b:(x)\2}", other)  # a back-reference: matched on its own
    router.add_get("/p/{c}/{d}", other)
    router.add_get("/p/{e}/x", handler)
    assert dict(await resolve(router, "GET", "/p/xx")) == {"a": "xx"}
    assert dict(await resolve(router, "GET", "/p/1/x")) == {"c": "1", "d": "x"}
    reordered = UrlDispatcher()
    reordered.add_get("/p/{c}/{d}", handler)
    reordered.add_get("/p/{e}/y", handler)
    reordered.add_get(r"/p/{b:(x)\2}", other)
    reordered.add_get("/p/{a}", handler)
    reordered.add_get("/p/{f}/z", handler)
    assert dict(await resolve(reordered, "GET", "/p/xx")) == {"b": "xx"}
    assert dict(await resolve(reordered, "GET", "/p/xy")) == {"a": "xy"}
    assert dict(await resolve(reordered, "GET", "/p/1/z")) == {"c": "1", "d": "z"}


async def test_back_reference_regex_still_matches(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/q/{w}", handler, allow_head=False)
    router.add_post(r"/q/{b:(ab)\2}", other)
    router.add_post("/q/{z}/z", handler)
    assert (await resolve(router, "POST", "/q/abab")).handler is other
    assert (await resolve(router, "POST", "/q/abac")).http_exception.status == 405


def _count_calls(monkeypatch: pytest.MonkeyPatch, cls: type) -> list[str]:
    """Record the paths each resource of ``cls`` is asked to match by the router."""
    calls: list[str] = []
    original = cls._resolver  # type: ignore[attr-defined]

    def counting(self: Any) -> Any:
        inner = original(self)

        def resolve_path(path: str, method: str) -> Any:
            calls.append(path)
            return inner(path, method)

        return resolve_path

    monkeypatch.setattr(cls, "_resolver", counting)
    return calls


async def test_a_thousand_plain_routes_resolve_without_scanning(
    resolve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    router = UrlDispatcher()
    for i in range(1000):
        router.add_get(f"/route/{i}/end", handler if i != 777 else other)
    calls = _count_calls(monkeypatch, PlainResource)
    info = await resolve(router, "GET", "/route/777/end")
    assert info.handler is other
    assert len(calls) == 1
    calls.clear()
    assert (await resolve(router, "GET", "/route/1000/end")).http_exception.status == 404
    assert calls == []


async def test_a_thousand_dynamic_routes_in_one_bucket_cost_one_match(
    resolve: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    router = UrlDispatcher()
    for i in range(1000):
        router.add_get(f"/{{tenant}}/r{i}/{{id}}", handler if i != 998 else other)
    router.add_post("/{tenant}/r5/{id}", other)
    router.freeze()
    calls = _count_calls(monkeypatch, DynamicResource)
    info = await resolve(router, "GET", "/acme/r998/7")
    assert info.handler is other
    assert dict(info) == {"tenant": "acme", "id": "7"}
    assert len(calls) == 1  # only the winner's own matcher, to read its variables
    calls.clear()
    assert (await resolve(router, "GET", "/acme/r1000/7")).http_exception.status == 404
    assert calls == []
    info = await resolve(router, "POST", "/acme/r5/1")
    assert info.handler is other
    assert len(calls) == 1
    calls.clear()
    info = await resolve(router, "PUT", "/acme/r5/1")
    assert info.http_exception.allowed_methods == {"GET", "HEAD", "POST"}
    assert calls == []  # a 405 costs one combined regex per known method, not a scan


async def test_the_walk_visits_each_indexed_prefix_once(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/{tail:.*}", other)
    router.add_get("/a", handler)
    router.add_get("/a/b/c/{x}", handler)
    router.add_get("/z/{y}", handler)
    router.freeze()
    visited: list[str] = []
    build = router._build_plan

    def spy(key: str) -> Any:
        visited.append(key)
        return build(key)

    router._build_plan = spy  # type: ignore[method-assign]
    info = await resolve(router, "POST", "/a/b/c/d")  # a 405: every candidate is tried
    assert info.http_exception.status == 405
    assert visited == ["/a/b/c", "/a", "/"]
    visited.clear()
    router._plans.clear()
    info = await resolve(router, "GET", "/x" + "/" * 3000)
    assert info.handler is other
    assert info["tail"] == "x" + "/" * 3000
    assert visited == ["/"]


async def test_routes_added_after_a_resolve_are_seen(resolve: Any) -> None:
    router = UrlDispatcher()
    resource = router.add_resource("/late/{x}")
    resource.add_route("GET", handler)
    router.add_get("/late/{y}/z", handler)
    assert (await resolve(router, "POST", "/late/1")).http_exception.status == 405
    resource.add_route("POST", other)  # the cached plan of "/late" must be dropped
    assert (await resolve(router, "POST", "/late/1")).handler is other


# -- names and URL reversal -----------------------------------------------------------------------


def test_named_resources_and_the_mapping_api() -> None:
    router = UrlDispatcher()
    route = router.add_get("/a", handler, name="a.b:c-d")
    router.add_get("/b", handler)
    assert "a.b:c-d" in router
    assert router["a.b:c-d"] is route.resource
    assert route.name == "a.b:c-d"
    assert len(router) == 1
    assert list(router) == ["a.b:c-d"]
    named = router.named_resources()
    assert dict(named) == {"a.b:c-d": route.resource}
    with pytest.raises(TypeError):
        named["x"] = route.resource  # type: ignore[index]
    with pytest.raises(KeyError):
        router["missing"]


@pytest.mark.parametrize("name", ["1abc", "a b", "class", "a.for", "a..b", "a/b", ""])
def test_bad_route_names(name: str) -> None:
    with pytest.raises(ValueError, match="Incorrect route name"):
        UrlDispatcher().add_get("/", handler, name=name)


def test_duplicate_route_name() -> None:
    router = UrlDispatcher()
    router.add_get("/a", handler, name="x")
    with pytest.raises(ValueError, match="Duplicate 'x'"):
        router.add_get("/b", handler, name="x")


def test_url_for_plain_and_dynamic_percent_encodes() -> None:
    router = UrlDispatcher()
    router.add_get("/a b/caf\u00e9", handler, name="plain")
    router.add_get("/users/{name}/files/{path:.+}", handler, name="dyn")
    assert router["plain"].url_for() == URL("/a%20b/caf%C3%A9")
    assert str(router["plain"].url_for()) == "/a%20b/caf%C3%A9"
    url = router["dyn"].url_for(name="J D/x?#%", path="a b/c%d.txt")
    assert url.raw_path == "/users/J%20D%2Fx%3F%23%25/files/a%20b/c%25d.txt"
    assert str(url.with_query(page="2", q="a&b")) == (
        "/users/J%20D%2Fx%3F%23%25/files/a%20b/c%25d.txt?page=2&q=a%26b"
    )
    with pytest.raises(KeyError):
        router["dyn"].url_for(name="x")


@settings(max_examples=60, deadline=None)
@given(
    name=st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
    # "." in the user's regex does not match a newline (re semantics): no controls there.
    rest=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12),
)
def test_url_for_round_trips_through_resolve(name: str, rest: str) -> None:
    """Whatever the values, the built URL resolves to the same route and values."""
    router = UrlDispatcher()
    router.add_get("/u/{name}/{rest:.+}", handler, name="r")
    url = router["r"].url_for(name=name, rest=rest)

    class Stand:
        method = "GET"
        rel_url = URL(url.raw_path, encoded=True)
        headers: dict[str, str] = {}

    info = asyncio.run(router.resolve(Stand()))  # type: ignore[arg-type]
    assert dict(info) == {"name": name, "rest": rest}


def test_route_url_for_and_get_info() -> None:
    router = UrlDispatcher()
    route = router.add_get("/x/{id}", handler, name="x")
    assert route.url_for(id="1") == URL("/x/1")
    info = route.get_info()
    assert info["formatter"] == "/x/{id}"
    assert isinstance(info["pattern"], re.Pattern)
    assert router.add_get("/p", handler).get_info() == {"path": "/p"}
    assert "ResourceRoute [GET]" in repr(route)
    assert "DynamicResource 'x'" in repr(route.resource)


def test_add_resource_reuses_the_last_one_with_same_path_and_name() -> None:
    router = UrlDispatcher()
    first = router.add_resource("/same", name="n")
    assert router.add_resource("/same", name="n") is first
    assert router.add_resource("/same") is not first
    dyn = router.add_resource("/d/{x}")
    assert router.add_resource("/d/{x}") is dyn


def test_views_of_resources_and_routes() -> None:
    router = UrlDispatcher()
    get = router.add_get("/a", handler)
    post = router.add_post("/b", handler)
    resources = router.resources()
    assert len(resources) == 2
    assert get.resource in resources
    routes = router.routes()
    assert len(routes) == 3  # GET, HEAD, POST
    assert get in routes and post in routes
    assert [r.method for r in routes] == ["HEAD", "GET", "POST"]
    assert len(get.resource) == 2  # type: ignore[arg-type]
    assert all(isinstance(r, ResourceRoute) for r in get.resource)  # type: ignore[union-attr]


def test_frozen_router_refuses_registrations() -> None:
    router = UrlDispatcher()
    router.add_get("/a", handler)
    router.freeze()
    assert router.frozen
    with pytest.raises(RuntimeError, match="frozen router"):
        router.add_get("/b", handler)
    with pytest.raises(RuntimeError, match="frozen router"):
        router.add_get("/a", other)  # even reusing the last resource
    with pytest.raises(RuntimeError):
        router.register_resource(PlainResource("/c"))


def test_register_resource_type_check() -> None:
    with pytest.raises(TypeError):
        UrlDispatcher().register_resource(object())  # type: ignore[arg-type]


# -- match info ---------------------------------------------------------------------------------


async def test_match_info_api(resolve: Any) -> None:
    router = UrlDispatcher()
    route = router.add_get("/m/{v}", handler)
    info = await resolve(router, "GET", "/m/1")
    assert info.route is route
    assert info.http_exception is None
    assert info.get_info() == route.get_info()
    assert info.apps == ()
    root, sub = Application(), Application()
    info.add_app(sub)
    info.add_app(root)
    assert info.apps == (root, sub)
    assert info.current_app is sub
    info.current_app = root
    assert info.current_app is root
    info.freeze()
    with pytest.raises(RuntimeError, match="after .freeze"):
        info.add_app(Application())
    assert repr(info).startswith("<MatchInfo {'v': '1'}: <ResourceRoute [GET]")
    assert info.expect_handler.__self__ is route  # type: ignore[attr-defined]


async def test_match_info_error_api(resolve: Any) -> None:
    info = await resolve(UrlDispatcher(), "GET", "/nothing")
    assert isinstance(info, MatchInfoError)
    assert repr(info) == "<MatchInfoError 404: Not Found>"
    assert info.get_info() == {"http_exception": info.http_exception}
    route = info.route
    assert isinstance(route, SystemRoute)
    assert route.name is None and route.reason == "Not Found"
    assert repr(route) == "<SystemRoute 404: Not Found>"
    with pytest.raises(RuntimeError, match="not allowed for SystemRoute"):
        route.url_for()
    with pytest.raises(HTTPNotFound):
        await info.handler(None)


async def test_system_route_handler_raises_405(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_post("/p", handler)
    info = await resolve(router, "GET", "/p")
    with pytest.raises(HTTPMethodNotAllowed) as caught:
        await info.handler(None)
    assert caught.value.status == 405
    assert caught.value.headers["Allow"] == "POST"
