"""aioloom.web's FrozenList and Signal are aioloom.http's, as an application uses them.

The lists themselves are tested in packages/http-parser/tests/test_signals.py; here: web
re-exports the shared classes, and an application's signals behave as aiohttp's do.
"""

from __future__ import annotations

import pytest

import aioloom.http._signals as shared
from aioloom.web import Application, Request, StreamResponse, _request, _signals


def test_web_reexports_the_shared_classes() -> None:
    assert _signals.FrozenList is shared.FrozenList
    assert _signals.Signal is shared.Signal
    assert {"FrozenList", "Signal"} <= set(_signals.__all__)
    # The request's on_response_prepare fast path compares the exact class.
    assert vars(_request)["Signal"] is shared.Signal


def test_application_lists_are_the_shared_types() -> None:
    app = Application()
    for signal in (app.on_startup, app.on_shutdown, app.on_cleanup, app.on_response_prepare):
        assert type(signal) is shared.Signal
        assert repr(signal).startswith(f"<Signal owner={app}, frozen=False, [")
    assert type(app.middlewares) is shared.FrozenList
    assert isinstance(app.cleanup_ctx, shared.FrozenList)


async def test_signals_as_decorators_run_in_order_on_startup() -> None:
    app = Application()
    calls: list[str] = []

    @app.on_startup
    async def first(application: Application) -> None:
        assert application is app
        calls.append("first")

    @app.on_startup
    async def second(application: Application) -> None:
        calls.append("second")

    await app.startup()
    assert calls == ["first", "second"]
    assert app.on_startup.frozen
    with pytest.raises(RuntimeError, match=r"^Cannot modify frozen list\.$"):
        app.on_startup(first)


async def test_response_prepare_signal_takes_request_and_response() -> None:
    app = Application()
    seen: list[tuple[object, object]] = []

    async def prepare(request: Request, response: StreamResponse) -> None:
        seen.append((request, response))

    app.on_response_prepare.append(prepare)
    with pytest.raises(RuntimeError, match="non-frozen"):
        await app.on_response_prepare.send(None, None)  # type: ignore[arg-type]
    app.freeze()
    request, response = object(), object()
    await app.on_response_prepare.send(request, response)  # type: ignore[arg-type]
    assert seen == [(request, response)]
