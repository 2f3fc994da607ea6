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
from hypothesis import HealthCheck, example, given, settings
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


# -- the walk's resolver for <index key>/{name} ---------------------------------------------------


def test_only_a_last_plain_segment_under_its_index_key_gets_the_tail_resolver() -> None:
    tail = [DynamicResource(p) for p in ("/user/{id}", "/{id}", "/a b/c/{x}")]
    for resource in tail:
        assert resource._walk_resolver() == resource._resolve_tail
    others = [
        DynamicResource(p)
        for p in ("/user//{id}", "/user/x{id}", "/u/{id}.json", r"/n/{id:\d+}", "/m/{a}/{b}")
    ]
    for resource in others:
        assert resource._tail_start == 0
        assert resource._walk_resolver() == resource._resolve_pattern
    # The resolver of every other caller keeps the regex.
    assert tail[0]._resolver() == tail[0]._resolve_pattern


def test_a_sub_application_prefix_moves_the_tail() -> None:
    resource = DynamicResource("/{name}")
    resource.add_prefix("/sub")
    resource.add_route("GET", handler)
    assert resource._tail_start == len("/sub/")
    match_info = resource._walk_resolver()("/sub/x%2Fy", "GET")[0]
    assert match_info is not None
    assert dict(match_info) == {"name": "x/y"}


_VALUES = st.text(alphabet=st.sampled_from("a/%25F2\u00e9\u4e2d \n"), max_size=8)


@settings(max_examples=400, deadline=None)
@given(
    pattern=st.sampled_from(["/user/{id}", "/{id}", "/caf\u00e9/x/{v}", "/100%/{v}"]),
    value=_VALUES,
    method=st.sampled_from(["GET", "POST"]),
)
def test_the_tail_resolver_agrees_with_the_regex(pattern: str, value: str, method: str) -> None:
    resource = DynamicResource(pattern)
    resource.add_route("GET", handler)
    key = resource._index_key()
    # What the walk guarantees: the path is the key, or the key and "/" and more.
    for path in (key, (key.rstrip("/") + "/") + value):
        _same(resource._resolve_tail(path, method), resource._resolve_path(path, method))


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/user/4711", {"id": "4711"}),
        ("/user/a%2Fb", {"id": "a/b"}),
        ("/user/100%25", {"id": "100%"}),
        ("/user/%252F", {"id": "%2F"}),
        ("/user/caf%C3%A9", {"id": "caf\u00e9"}),
        ("/user/a%20b", {"id": "a b"}),
        ("/user", None),
        ("/user/", None),
        ("/user/1/2", None),
        ("/users/1", None),
    ],
)
async def test_the_walk_matches_a_tail_pattern_as_resolve_does(
    resolve: Any, make_app_request: Any, target: str, expected: dict[str, str] | None
) -> None:
    router = UrlDispatcher()
    resource = router.add_resource("/user/{id}")
    resource.add_route("GET", handler)
    info = await resolve(router, "GET", target)
    direct, _ = await resource.resolve(make_app_request(raw("GET", target)))
    if expected is None:
        assert info.http_exception.status == 404
        assert direct is None
    else:
        assert info.http_exception is None
        assert dict(info) == expected == dict(direct)


async def test_a_tail_resource_in_a_group_and_at_the_root(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/{a}/x", handler)  # same index key "/": one combined regex
    router.add_get("/{name}", handler)
    assert dict(await resolve(router, "GET", "/a%2Fb")) == {"name": "a/b"}
    assert dict(await resolve(router, "GET", "/q/x")) == {"a": "q"}
    assert (await resolve(router, "GET", "/q/y")).http_exception.status == 404


async def test_the_root_of_a_path_without_slash_keeps_the_regex(make_app_request: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/{name}", handler)
    request = make_app_request(raw("GET", "/"))
    # ``_resolve_root`` is called for a path that does not start with "/": the tail
    # resolver would read "y" out of "xy", the regex does not match it.
    assert await router._resolve_root(request, "xy", "GET") == (None, set())
    assert await router._resolve_root(request, "*", "GET") == (None, set())


async def test_a_subclass_overriding_match_is_asked_by_the_walk(resolve: Any) -> None:
    seen: list[str] = []

    class Upper(DynamicResource):
        def _match(self, path: str) -> dict[str, str] | None:
            seen.append(path)
            found = super()._match(path)
            return None if found is None else {k: v.upper() for k, v in found.items()}

    router = UrlDispatcher()
    upper = Upper("/x/{id}")
    router.register_resource(upper)
    upper.add_route("GET", handler)
    assert upper._walk_resolver() == upper._resolve_path
    assert dict(await resolve(router, "GET", "/x/abc")) == {"id": "ABC"}
    assert seen == ["/x/abc"]


def test_a_plan_dropped_for_the_root_drops_the_root_plan_too() -> None:
    router = UrlDispatcher()
    router.add_get("/{name}", handler)
    router._root_plan = ()
    router.add_post("/{name}", handler)  # a route on an indexed resource: key "/" changes
    assert router._root_plan is None


# -- the parent-key shortcut: a path whose parent key starts with <key>/{name} ----------------

_TABLES = {
    "tail first": [
        ("GET", "/user/{id}"),
        ("GET", "/user/{id}/posts"),
        ("POST", r"/user/{n:\d+}"),
    ],
    "regex first": [("POST", r"/user/{n:\d+}"), ("GET", "/user/{id}")],
    "any method after": [("GET", "/user/{id}"), ("*", "/user/{x}"), ("*", "/user/{x}/y")],
    "static beside": [("GET", "/user/me"), ("GET", "/user/{id}"), ("GET", "/user2/{id}")],
    "under a prefix key": [("GET", "/a/b/{id}"), ("PUT", "/a/{x}")],
}


def _table(name: str) -> UrlDispatcher:
    router = UrlDispatcher()
    for method, path in _TABLES[name]:
        router.add_route(method, path, handler)
    return router


def _answer(info: Any) -> tuple[object, ...]:
    """What a client would see of a match info: variables, route, or 404/405 and Allow."""
    error = info.http_exception
    if error is not None:
        return (error.status, frozenset(getattr(error, "allowed_methods", ())))
    return (dict(info), info.route.method, info.route.resource.canonical)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # a stateless factory
)
@given(
    table=st.sampled_from(sorted(_TABLES)),
    parent=st.sampled_from(["/user", "/user2", "/a", "/a/b", "/user/1", ""]),
    value=st.text(alphabet=st.sampled_from("a1/%2F.me"), max_size=6),
    method=st.sampled_from(["GET", "POST", "PUT"]),
)
@example(table="static beside", parent="/user", value="me", method="GET")
@example(table="tail first", parent="/user", value="12", method="POST")
@example(table="regex first", parent="/user", value="12", method="GET")
@example(table="any method after", parent="/user", value="x", method="PUT")
def test_the_shortcut_answers_as_the_walk_does(
    make_app_request: Any, table: str, parent: str, value: str, method: str
) -> None:
    target = f"{parent}/{value}"
    request = make_app_request(raw(method, target))
    shortcut, walk = _table(table), _table(table)
    # Requests that reach every key build the plans, and the shortcuts of the first router.
    for warm in ["/user/w/w/w", "/user2/w", "/a/b/w/w", target]:
        for router in (shortcut, walk):
            _done(router.resolve(make_app_request(raw(method, warm))))
    walk._value_resolvers.clear()  # the plans stay: every later request walks
    assert _answer(_done(shortcut.resolve(request))) == _answer(_done(walk.resolve(request)))


def _done(coro: Any) -> Any:
    """The result of a coroutine that finishes without suspending (a router of plain and
    dynamic resources never awaits): hypothesis calls its test synchronously."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise AssertionError("the router suspended")


async def test_the_shortcut_is_taken_only_for_a_tail_resource_first_under_its_key(
    resolve: Any,
) -> None:
    tail_first, regex_first = _table("tail first"), _table("regex first")
    for router in (tail_first, regex_first):
        await resolve(router, "GET", "/user/7")
    assert set(tail_first._value_resolvers) == {"/user"}
    assert regex_first._value_resolvers == {}
    # Taken: the walk's plan is not consulted (an empty plan would find nothing).
    tail_first._plans["/user"] = ()
    assert dict(await resolve(tail_first, "GET", "/user/7")) == {"id": "7"}
    # Not taken when the method has no route there: the walk answers (here, 404 or 405).
    assert (await resolve(tail_first, "DELETE", "/user/7")).http_exception.status == 404


async def test_a_static_path_as_long_as_the_path_comes_first(resolve: Any) -> None:
    router = _table("static beside")
    for _ in range(2):
        assert (await resolve(router, "GET", "/user/me")).route.resource.canonical == "/user/me"
        assert dict(await resolve(router, "GET", "/user/mo")) == {"id": "mo"}


async def test_a_route_added_later_reaches_the_shortcut(resolve: Any) -> None:
    router = UrlDispatcher()
    resource = router.add_resource("/user/{id}")
    resource.add_route("GET", handler)
    assert (await resolve(router, "POST", "/user/7")).http_exception.status == 405
    assert "/user" in router._value_resolvers
    resource.add_route("POST", handler)  # the key's plan and shortcut are dropped
    assert "/user" not in router._value_resolvers
    info = await resolve(router, "POST", "/user/7")
    assert info.http_exception is None
    assert info.route.method == "POST"
    # A resource registered first under the key later (re-indexed by a prefix) ends it.
    router.add_get("/user/{id}/x", handler)
    assert "/user" not in router._value_resolvers


async def test_the_shortcut_decodes_as_the_walk_does(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/user/{id}", handler)
    for _ in range(2):  # cold (the walk), then warm (the shortcut)
        assert dict(await resolve(router, "GET", "/user/a%2Fb")) == {"id": "a/b"}
        assert dict(await resolve(router, "GET", "/user/100%25")) == {"id": "100%"}
        assert (await resolve(router, "GET", "/user/")).http_exception.status == 404


async def test_a_long_path_of_slashes_is_walked_without_a_copy_per_slash(resolve: Any) -> None:
    router = UrlDispatcher()
    router.add_get("/user/{id}", handler)
    router.add_get("/{name}", handler)
    target = "/" + "a/" * 3000 + "b"
    for _ in range(2):
        assert (await resolve(router, "GET", target)).http_exception.status == 404
    assert dict(await resolve(router, "GET", "/user/1")) == {"id": "1"}
