"""Application without sockets: state, freezing, sub-application wiring, life cycle."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from aioloom.web._app import Application, CleanupError
from aioloom.web._exceptions import NotAppKeyWarning
from aioloom.web._keys import AppKey
from aioloom.web._log import AccessLogger
from aioloom.web._request import Request
from aioloom.web._response import Response
from aioloom.web._routedef import get
from aioloom.web._server import Server
from aioloom.web._subapp_resources import MatchedSubAppResource, PrefixedSubAppResource


async def handler(request: Any) -> Response:
    return Response(text="ok")


# -- the state mapping ---------------------------------------------------------------------------


def test_typed_keys_and_mapping_api() -> None:
    app = Application()
    count = AppKey("count", int)
    app[count] = 3
    assert app[count] == 3
    assert app.get(count) == 3
    assert app.get(AppKey("other", str)) is None
    assert app.get(AppKey("other", str), "d") == "d"
    assert len(app) == 1
    assert list(app) == [count]
    assert count in app
    del app[count]
    assert len(app) == 0
    with pytest.raises(KeyError):
        app[count]


def test_plain_string_key_warns() -> None:
    app = Application()
    with pytest.warns(NotAppKeyWarning, match="AppKey"):
        app["name"] = "value"
    assert app["name"] == "value"


def test_identity_semantics() -> None:
    a, b = Application(), Application()
    assert a != b and a == a
    assert hash(a) != hash(b)
    assert bool(a) is True  # even when empty
    assert a() is a  # gunicorn-style factory
    assert repr(a).startswith("<Application 0x")
    assert {a: 1}[a] == 1


def test_subclassing_is_discouraged() -> None:
    with pytest.warns(DeprecationWarning, match="discouraged"):

        class MyApp(Application):
            pass


def test_debug_argument_is_deprecated() -> None:
    with pytest.warns(DeprecationWarning, match="debug argument"):
        app = Application(debug=True)
    with pytest.warns(DeprecationWarning, match="debug property"):
        assert app.debug is True


def test_logger_and_defaults() -> None:
    custom = logging.getLogger("custom.app")
    app = Application(logger=custom, client_max_size=10)
    assert app.logger is custom
    assert app._client_max_size == 10
    assert Application().logger.name == "aioloom.web"


# -- freezing ------------------------------------------------------------------------------------


async def noop_signal(app: Application) -> None:
    return None


async def noop_mw(request: Any, handler: Any) -> Any:
    return await handler(request)


def test_frozen_application_refuses_every_change() -> None:
    app = Application()
    key = AppKey("k", int)
    app[key] = 1
    app.freeze()
    assert app.frozen and app.pre_frozen
    with pytest.raises(RuntimeError, match="forbidden"):
        app[key] = 2
    with pytest.raises(RuntimeError, match="forbidden"):
        del app[key]
    with pytest.raises(RuntimeError, match="frozen router"):
        app.add_routes([get("/", handler)])
    with pytest.raises(RuntimeError, match="frozen router"):
        app.router.add_get("/x", handler)
    with pytest.raises(RuntimeError, match="frozen list"):
        app.middlewares.append(noop_mw)
    for signal in (app.on_startup, app.on_shutdown, app.on_cleanup, app.on_response_prepare):
        with pytest.raises(RuntimeError, match="frozen list"):
            signal.append(noop_signal)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="frozen list"):
        app.cleanup_ctx.append(lambda a: None)  # type: ignore[arg-type,return-value]
    with pytest.raises(RuntimeError, match="frozen application"):
        app.add_subapp("/sub", Application())
    assert app[key] == 1  # reading still works


def test_pre_freeze_leaves_state_writable() -> None:
    app = Application()
    app.pre_freeze()
    assert app.pre_frozen and not app.frozen
    key = AppKey("late", str)
    app[key] = "fine"  # on_startup callbacks fill state before the full freeze
    with pytest.raises(RuntimeError):
        app.router.add_get("/", handler)


def test_subapps_are_pre_frozen_when_added_and_frozen_with_the_parent() -> None:
    parent, child, grandchild = Application(), Application(), Application()
    child.add_subapp("/g", grandchild)
    assert grandchild.pre_frozen and not grandchild.frozen
    parent.add_subapp("/c", child)
    assert child.pre_frozen and not child.frozen
    with pytest.raises(RuntimeError, match="frozen router"):
        child.router.add_get("/late", handler)
    parent.freeze()
    assert child.frozen and grandchild.frozen


def test_add_subapp_validation() -> None:
    app = Application()
    with pytest.raises(TypeError, match="Prefix must be str"):
        app.add_subapp(b"/x", Application())  # type: ignore[arg-type]
    for prefix in ("", "/", "///"):
        with pytest.raises(ValueError, match="Prefix cannot be empty"):
            app.add_subapp(prefix, Application())
    frozen = Application()
    frozen.freeze()
    with pytest.raises(RuntimeError, match="Cannot add frozen application"):
        app.add_subapp("/f", frozen)
    sub = Application()
    app.add_subapp("/s", sub)
    with pytest.raises(RuntimeError, match="twice"):
        app.add_subapp("/t", sub)
    with pytest.raises(RuntimeError, match="itself"):
        app.add_subapp("/me", app)


def test_add_subapp_returns_its_resource() -> None:
    app, sub = Application(), Application()
    sub.router.add_get("/x", handler, name="x")
    resource = app.add_subapp("/sub/", sub)  # a trailing slash is dropped
    assert isinstance(resource, PrefixedSubAppResource)
    assert resource.canonical == "/sub"
    assert resource.get_info() == {"app": sub, "prefix": "/sub"}
    assert len(resource) == 2 and {r.method for r in resource} == {"GET", "HEAD"}
    assert sub.router["x"].url_for().path == "/sub/x"
    with pytest.raises(RuntimeError, match="sub-application root"):
        resource.url_for()


@pytest.mark.parametrize(
    ("domain", "error"),
    [
        (b"example.com", TypeError),
        ("", ValueError),
        ("http://example.com", ValueError),
        ("exa mple.com", ValueError),
        ("-bad.com", ValueError),
        ("a_b.com", ValueError),
        ("example.com/path", ValueError),
    ],
)
def test_add_domain_validation(domain: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        Application().add_domain(domain, Application())


def test_add_domain_normalises() -> None:
    app = Application()
    exact = app.add_domain("Example.COM.", Application())
    assert isinstance(exact, MatchedSubAppResource)
    assert exact.canonical == "example.com"
    assert app.add_domain("example.com:80", Application()).canonical == "example.com"
    assert app.add_domain("example.com:8080", Application()).canonical == "example.com:8080"
    mask = app.add_domain("*.example.com", Application())
    assert mask.get_info()["rule"].canonical == r"[^:]*\.example\.com(:.*)?"


# -- life cycle -----------------------------------------------------------------------------------


def recorder(log: list[str], name: str) -> Any:
    async def callback(app: Application) -> None:
        log.append(name)

    return callback


async def test_signals_run_in_order_with_subapps() -> None:
    log: list[str] = []
    root, sub = Application(), Application()
    root.on_startup.append(recorder(log, "root-start"))
    sub.on_startup.append(recorder(log, "sub-start"))
    sub.on_shutdown.append(recorder(log, "sub-shutdown"))
    sub.on_cleanup.append(recorder(log, "sub-cleanup"))
    root.add_subapp("/s", sub)
    root.on_shutdown.append(recorder(log, "root-shutdown"))
    root.on_cleanup.append(recorder(log, "root-cleanup"))
    await root.startup()
    root.freeze()
    await root.shutdown()
    await root.cleanup()
    assert log == [
        "root-start",
        "sub-start",
        "sub-shutdown",
        "root-shutdown",
        "sub-cleanup",
        "root-cleanup",
    ]


async def test_signal_callbacks_get_the_app_they_belong_to() -> None:
    seen: list[Application] = []

    async def remember(app: Application) -> None:
        seen.append(app)

    root, sub = Application(), Application()
    sub.on_startup.append(remember)
    root.on_startup.append(remember)
    root.add_subapp("/s", sub)
    await root.startup()
    assert seen == [root, sub]


async def test_on_startup_may_fill_state_before_the_freeze() -> None:
    key = AppKey("db", str)

    async def connect(app: Application) -> None:
        app[key] = "connected"

    app = Application()
    app.on_startup.append(connect)
    await app.startup()
    app.freeze()
    assert app[key] == "connected"


async def test_cleanup_ctx_generators_and_context_managers_in_reverse() -> None:
    log: list[str] = []

    async def gen(app: Application) -> AsyncIterator[None]:
        log.append("gen-enter")
        yield
        log.append("gen-exit")

    @contextlib.asynccontextmanager
    async def cm(app: Application) -> AsyncIterator[None]:
        log.append("cm-enter")
        yield
        log.append("cm-exit")

    class Manual:
        def __init__(self, app: Application) -> None:
            self.app = app

        async def __aenter__(self) -> None:
            log.append("manual-enter")

        async def __aexit__(self, *exc: object) -> None:
            log.append("manual-exit")

    app = Application()
    app.cleanup_ctx.append(gen)
    app.cleanup_ctx.append(cm)
    app.cleanup_ctx.append(Manual)
    app.on_startup.append(recorder(log, "on_startup"))
    await app.startup()
    app.freeze()
    await app.shutdown()
    await app.cleanup()
    assert log == [
        "gen-enter",
        "cm-enter",
        "manual-enter",
        "on_startup",
        "manual-exit",
        "cm-exit",
        "gen-exit",
    ]
    await app.cleanup()  # a second cleanup finds nothing left to tear down
    assert log.count("gen-exit") == 1


async def test_startup_failure_tears_down_what_started_only() -> None:
    log: list[str] = []

    def ctx(name: str, fail: bool = False) -> Any:
        async def gen(app: Application) -> AsyncIterator[None]:
            if fail:
                raise OSError(f"{name} failed")
            log.append(f"{name}-enter")
            yield
            log.append(f"{name}-exit")

        return gen

    root, sub = Application(), Application()
    root.cleanup_ctx.append(ctx("a"))
    sub.cleanup_ctx.append(ctx("sub"))
    root.add_subapp("/s", sub)
    root.on_startup.append(recorder(log, "late-root-start"))
    late = Application()
    late.cleanup_ctx.append(ctx("b", fail=True))
    late.cleanup_ctx.append(ctx("never"))
    root.add_subapp("/late", late)
    with pytest.raises(OSError, match="b failed"):
        await root.startup()
    await root.cleanup()  # the runner calls this after a failed startup
    assert log == ["a-enter", "sub-enter", "late-root-start", "a-exit", "sub-exit"]


async def test_cleanup_errors_are_collected() -> None:
    def failing(name: str) -> Any:
        async def gen(app: Application) -> AsyncIterator[None]:
            yield
            raise ValueError(name)

        return gen

    one = Application()
    one.cleanup_ctx.append(failing("only"))
    await one.startup()
    one.freeze()
    with pytest.raises(ValueError, match="only"):
        await one.cleanup()

    many = Application()
    many.cleanup_ctx.append(failing("first"))
    many.cleanup_ctx.append(failing("second"))
    await many.startup()
    many.freeze()
    with pytest.raises(CleanupError) as caught:
        await many.cleanup()
    assert [str(e) for e in caught.value.exceptions] == ["second", "first"]


async def test_cleanup_ctx_with_two_yields_is_an_error() -> None:
    async def twice(app: Application) -> AsyncIterator[None]:
        yield
        yield

    app = Application()
    app.cleanup_ctx.append(twice)
    await app.startup()
    app.freeze()
    with pytest.raises(RuntimeError, match="more than one 'yield'"):
        await app.cleanup()


async def test_cleanup_ctx_callback_must_give_a_context() -> None:
    async def not_a_generator(app: Application) -> None:
        return None

    app = Application()
    app.cleanup_ctx.append(not_a_generator)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="async generator or an async context manager"):
        await app.startup()


async def test_startup_freezes_on_startup_only() -> None:
    app = Application()
    await app.startup()
    assert app.on_startup.frozen
    assert not app.on_shutdown.frozen and not app.router.frozen
    app.router.add_get("/added-at-startup", handler)


# -- the server side -------------------------------------------------------------------------------


async def test_make_handler_freezes_and_builds_a_server(loop: asyncio.AbstractEventLoop) -> None:
    app = Application(handler_args={"keepalive_timeout": 3.5})
    server = app._make_handler(max_line_size=100)
    assert isinstance(server, Server)
    assert app.frozen
    protocol = server()
    assert protocol.keepalive_timeout == 3.5
    assert protocol.max_line_size == 100
    assert protocol.access_logger is not None
    assert isinstance(protocol.access_logger, AccessLogger)
    assert server.request_factory == app._make_request


async def test_make_handler_checks_access_log_class() -> None:
    with pytest.raises(TypeError, match="access_log_class"):
        Application()._make_handler(access_log_class=object)  # type: ignore[arg-type]


async def test_make_handler_is_deprecated_publicly() -> None:
    with pytest.warns(DeprecationWarning, match="AppRunner"):
        Application().make_handler()


async def test_make_handler_refuses_another_loop(loop: asyncio.AbstractEventLoop) -> None:
    app = Application()
    app._make_handler()
    other = asyncio.new_event_loop()
    try:
        with pytest.raises(RuntimeError, match="different loop"):
            app._make_handler(loop=other)
    finally:
        other.close()


async def test_make_request_builds_app_requests(make_request: Any) -> None:
    app = Application(client_max_size=123)
    template = make_request(b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
    request = app._make_request(
        template.message, template.content, template.protocol, template.writer, template.task
    )
    assert isinstance(request, Request)
    assert request.client_max_size == 123
    assert request.app is None  # not routed yet
