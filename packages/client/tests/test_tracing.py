"""TraceConfig, its signals and parameter classes, Trace and build_tracer."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from types import SimpleNamespace

import pytest
from multidict import CIMultiDict
from yarl import URL

import aioloom.client
from aioloom.client import _trace_params as tp
from aioloom.client import _tracing
from aioloom.client._tracing import Signal, Trace, TraceConfig, TraceGroup, build_tracer
from aioloom.http import _signals

SIGNALS = (
    "on_request_start",
    "on_request_chunk_sent",
    "on_response_chunk_received",
    "on_request_end",
    "on_request_exception",
    "on_request_redirect",
    "on_connection_queued_start",
    "on_connection_queued_end",
    "on_connection_create_start",
    "on_connection_create_end",
    "on_connection_reuseconn",
    "on_dns_resolvehost_start",
    "on_dns_resolvehost_end",
    "on_dns_cache_hit",
    "on_dns_cache_miss",
    "on_request_headers_sent",
)


def _signal_of(params_class: type) -> str:
    """``TraceDnsResolveHostStartParams`` -> ``dnsresolvehoststart``: aiohttp pairs each class
    with the signal of the same words (``on_dns_resolvehost_start``), case and ``_`` aside."""
    return params_class.__name__.removeprefix("Trace").removesuffix("Params").lower()


def test_one_params_class_per_signal_all_public() -> None:
    # _trace_params.__all__ is the one list of the classes; everything else derives from it.
    defined = [
        value
        for value in vars(tp).values()
        if inspect.isclass(value) and value.__module__ == tp.__name__
    ]
    assert sorted(cls.__name__ for cls in defined) == sorted(tp.__all__)
    assert sorted(_signal_of(cls) for cls in defined) == sorted(
        name.removeprefix("on_").replace("_", "") for name in SIGNALS
    )
    for name in tp.__all__:
        assert name in aioloom.client.__all__
        assert getattr(aioloom.client, name) is getattr(tp, name)
    assert "TraceConfig" in aioloom.client.__all__


def test_tracing_module_names() -> None:
    assert set(_tracing.__all__) == {"Signal", "Trace", "TraceConfig", "TraceGroup", "build_tracer"}
    for name in _tracing.__all__:
        assert hasattr(_tracing, name)
    assert _tracing.Signal is _signals.Signal  # the one implementation, shared with aioloom.web


# -- TraceConfig -----------------------------------------------------------------------------------


async def _noop(*args: object) -> None:
    return None


def test_trace_config_signals() -> None:
    config = TraceConfig()
    signals = [getattr(config, name) for name in SIGNALS]
    assert all(isinstance(signal, Signal) for signal in signals)
    assert len({id(signal) for signal in signals}) == len(SIGNALS)
    assert all(not signal.frozen and len(signal) == 0 for signal in signals)
    # Properties: the same object each time, and not replaceable.
    assert config.on_request_start is config.on_request_start
    with pytest.raises(AttributeError):
        config.on_request_start = Signal(config)  # type: ignore[misc]


def test_signal_annotations_resolve_at_run_time() -> None:
    # typing.get_type_hints (autodoc, pydantic-style tools) must evaluate every annotation;
    # a generic alias with a TypeVar inside the ParamSpec list cannot be subscripted.
    for name in SIGNALS:
        prop = getattr(TraceConfig, name)
        hint = typing.get_type_hints(prop.fget)["return"]
        assert typing.get_origin(hint) is Signal
        (session, ctx, params), *_ = typing.get_args(hint)
        assert session is typing.Any and ctx is typing.Any
        assert _signal_of(params) == name.removeprefix("on_").replace("_", "")


def test_freeze_freezes_every_signal() -> None:
    config = TraceConfig()
    config.on_request_start.append(_noop)
    config.freeze()
    for name in SIGNALS:
        signal = getattr(config, name)
        assert signal.frozen, name
        with pytest.raises(RuntimeError):
            signal.append(_noop)
    assert list(config.on_request_start) == [_noop]


def test_default_context_factory() -> None:
    config = TraceConfig()
    ctx = config.trace_config_ctx()
    assert isinstance(ctx, SimpleNamespace)
    assert ctx.trace_request_ctx is None
    assert config.trace_config_ctx(trace_request_ctx={"id": 7}).trace_request_ctx == {"id": 7}
    assert config.trace_config_ctx() is not ctx  # a fresh one per request


def test_custom_context_factory() -> None:
    class Context:
        def __init__(self, *, trace_request_ctx: object) -> None:
            self.request_ctx = trace_request_ctx
            self.events: list[str] = []

    config: TraceConfig[Context] = TraceConfig(Context)
    ctx = config.trace_config_ctx(trace_request_ctx="abc")
    assert isinstance(ctx, Context)
    assert ctx.request_ctx == "abc"


# -- parameter classes ----------------------------------------------------------------------------

HEADERS: CIMultiDict[str] = CIMultiDict({"Host": "h.test"})
URL_ = URL("http://h.test/p")
RESPONSE = object()
ERROR = ValueError("x")

# (Trace method, its arguments, signal, expected params)
SENDS: list[tuple[str, tuple[object, ...], str, object]] = [
    (
        "send_request_start",
        ("GET", URL_, HEADERS),
        "on_request_start",
        tp.TraceRequestStartParams("GET", URL_, HEADERS),
    ),
    (
        "send_request_chunk_sent",
        ("POST", URL_, b"chunk"),
        "on_request_chunk_sent",
        tp.TraceRequestChunkSentParams("POST", URL_, b"chunk"),
    ),
    (
        "send_response_chunk_received",
        ("GET", URL_, b"body"),
        "on_response_chunk_received",
        tp.TraceResponseChunkReceivedParams("GET", URL_, b"body"),
    ),
    (
        "send_request_end",
        ("GET", URL_, HEADERS, RESPONSE),
        "on_request_end",
        tp.TraceRequestEndParams("GET", URL_, HEADERS, RESPONSE),
    ),
    (
        "send_request_exception",
        ("GET", URL_, HEADERS, ERROR),
        "on_request_exception",
        tp.TraceRequestExceptionParams("GET", URL_, HEADERS, ERROR),
    ),
    (
        "send_request_redirect",
        ("GET", URL_, HEADERS, RESPONSE),
        "on_request_redirect",
        tp.TraceRequestRedirectParams("GET", URL_, HEADERS, RESPONSE),
    ),
    (
        "send_connection_queued_start",
        (),
        "on_connection_queued_start",
        tp.TraceConnectionQueuedStartParams(),
    ),
    (
        "send_connection_queued_end",
        (),
        "on_connection_queued_end",
        tp.TraceConnectionQueuedEndParams(),
    ),
    (
        "send_connection_create_start",
        (),
        "on_connection_create_start",
        tp.TraceConnectionCreateStartParams(),
    ),
    (
        "send_connection_create_end",
        (),
        "on_connection_create_end",
        tp.TraceConnectionCreateEndParams(),
    ),
    (
        "send_connection_reuseconn",
        (),
        "on_connection_reuseconn",
        tp.TraceConnectionReuseconnParams(),
    ),
    (
        "send_dns_resolvehost_start",
        ("h.test",),
        "on_dns_resolvehost_start",
        tp.TraceDnsResolveHostStartParams("h.test"),
    ),
    (
        "send_dns_resolvehost_end",
        ("h.test",),
        "on_dns_resolvehost_end",
        tp.TraceDnsResolveHostEndParams("h.test"),
    ),
    ("send_dns_cache_hit", ("h.test",), "on_dns_cache_hit", tp.TraceDnsCacheHitParams("h.test")),
    ("send_dns_cache_miss", ("h.test",), "on_dns_cache_miss", tp.TraceDnsCacheMissParams("h.test")),
    (
        "send_request_headers",
        ("GET", URL_, HEADERS),
        "on_request_headers_sent",
        tp.TraceRequestHeadersSentParams("GET", URL_, HEADERS),
    ),
    (
        "send_request_headers_sent",
        ("GET", URL_, HEADERS),
        "on_request_headers_sent",
        tp.TraceRequestHeadersSentParams("GET", URL_, HEADERS),
    ),
]


def test_every_signal_has_a_send_method() -> None:
    assert {signal for _, _, signal, _ in SENDS} == set(SIGNALS)


def _recording_config() -> tuple[
    TraceConfig[SimpleNamespace], list[tuple[str, object, object, object]]
]:
    config = TraceConfig()
    calls: list[tuple[str, object, object, object]] = []
    for name in SIGNALS:

        async def handler(session: object, ctx: object, params: object, name: str = name) -> None:
            calls.append((name, session, ctx, params))

        getattr(config, name).append(handler)
    config.freeze()
    return config, calls


@pytest.mark.parametrize(("method", "args", "signal", "params"), SENDS, ids=[s[0] for s in SENDS])
async def test_trace_sends_params(
    method: str, args: tuple[object, ...], signal: str, params: object
) -> None:
    config, calls = _recording_config()
    session, ctx = object(), config.trace_config_ctx(trace_request_ctx="r")
    trace = Trace(session, config, ctx)
    await getattr(trace, method)(*args)
    assert calls == [(signal, session, ctx, params)]
    assert type(calls[0][3]) is type(params)


@pytest.mark.parametrize("params", [s[3] for s in SENDS], ids=[s[0] for s in SENDS])
def test_params_are_frozen(params: object) -> None:
    fields = dataclasses.fields(params)  # type: ignore[arg-type]
    if fields:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(params, fields[0].name, None)
    # No new attributes either (slots); CPython's frozen+slots dataclasses without fields
    # raise TypeError here instead of FrozenInstanceError (an AttributeError).
    with pytest.raises((AttributeError, TypeError)):
        params.anything = None  # type: ignore[attr-defined]
    assert not hasattr(params, "anything")


def test_params_fields_match_aiohttp() -> None:
    def names(cls: type) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    assert names(tp.TraceRequestStartParams) == ("method", "url", "headers")
    assert names(tp.TraceRequestChunkSentParams) == ("method", "url", "chunk")
    assert names(tp.TraceResponseChunkReceivedParams) == ("method", "url", "chunk")
    assert names(tp.TraceRequestEndParams) == ("method", "url", "headers", "response")
    assert names(tp.TraceRequestExceptionParams) == ("method", "url", "headers", "exception")
    assert names(tp.TraceRequestRedirectParams) == ("method", "url", "headers", "response")
    assert names(tp.TraceRequestHeadersSentParams) == ("method", "url", "headers")
    host_classes: tuple[type, ...] = (
        tp.TraceDnsResolveHostStartParams,
        tp.TraceDnsResolveHostEndParams,
        tp.TraceDnsCacheHitParams,
        tp.TraceDnsCacheMissParams,
    )
    for cls in host_classes:
        assert names(cls) == ("host",)
    empty_classes: tuple[type, ...] = (
        tp.TraceConnectionQueuedStartParams,
        tp.TraceConnectionQueuedEndParams,
        tp.TraceConnectionCreateStartParams,
        tp.TraceConnectionCreateEndParams,
        tp.TraceConnectionReuseconnParams,
    )
    for cls in empty_classes:
        assert names(cls) == ()
    assert (
        tp.TraceDnsCacheHitParams("a")
        == tp.TraceDnsCacheHitParams("a")
        != tp.TraceDnsCacheHitParams("b")
    )


async def test_unfrozen_config_cannot_send() -> None:
    config = TraceConfig()
    trace = Trace(object(), config, config.trace_config_ctx())
    with pytest.raises(RuntimeError, match="non-frozen"):
        await trace.send_request_start("GET", URL_, HEADERS)


async def test_signal_order_of_one_request() -> None:
    config, calls = _recording_config()
    trace = Trace(object(), config, config.trace_config_ctx())
    # The order the client core fires them for a request on a new connection.
    await trace.send_request_start("GET", URL_, HEADERS)
    await trace.send_connection_queued_start()
    await trace.send_connection_queued_end()
    await trace.send_connection_create_start()
    await trace.send_dns_cache_miss("h.test")
    await trace.send_dns_resolvehost_start("h.test")
    await trace.send_dns_resolvehost_end("h.test")
    await trace.send_connection_create_end()
    await trace.send_request_headers("GET", URL_, HEADERS)
    await trace.send_request_chunk_sent("GET", URL_, b"x")
    await trace.send_request_end("GET", URL_, HEADERS, RESPONSE)
    await trace.send_response_chunk_received("GET", URL_, b"y")
    assert [call[0] for call in calls] == [
        "on_request_start",
        "on_connection_queued_start",
        "on_connection_queued_end",
        "on_connection_create_start",
        "on_dns_cache_miss",
        "on_dns_resolvehost_start",
        "on_dns_resolvehost_end",
        "on_connection_create_end",
        "on_request_headers_sent",
        "on_request_chunk_sent",
        "on_request_end",
        "on_response_chunk_received",
    ]


async def test_handlers_share_one_context_per_request() -> None:
    config = TraceConfig()

    async def start(
        session: object, ctx: SimpleNamespace, params: tp.TraceRequestStartParams
    ) -> None:
        ctx.started = params.url

    async def end(session: object, ctx: SimpleNamespace, params: tp.TraceRequestEndParams) -> None:
        ctx.ended = (ctx.started, params.response)

    config.on_request_start.append(start)
    config.on_request_end.append(end)
    config.freeze()
    ctx = config.trace_config_ctx(trace_request_ctx="req")
    trace = Trace("session", config, ctx)
    await trace.send_request_start("GET", URL_, HEADERS)
    await trace.send_request_end("GET", URL_, HEADERS, RESPONSE)
    assert ctx.ended == (URL_, RESPONSE)
    assert ctx.trace_request_ctx == "req"


# -- build_tracer / TraceGroup ---------------------------------------------------------------------


def _send_methods(cls: type) -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(cls)
        if name.startswith("send_") and inspect.iscoroutinefunction(member)
    }


def test_trace_group_has_every_trace_method() -> None:
    assert _send_methods(TraceGroup) == _send_methods(Trace)
    assert len(_send_methods(Trace)) == len(SIGNALS) + 1  # send_request_headers(_sent) alias


async def test_build_tracer_fans_out_in_config_order() -> None:
    order: list[tuple[str, object]] = []
    configs = []
    for label in ("first", "second"):
        config = TraceConfig()

        async def handler(
            session: object, ctx: SimpleNamespace, params: object, label: str = label
        ) -> None:
            order.append((label, ctx.trace_request_ctx))
            ctx.seen = getattr(ctx, "seen", 0) + 1

        config.on_dns_cache_hit.append(handler)
        config.freeze()
        configs.append(config)
    session = object()
    tracer = build_tracer(session, configs, "ctx-1")
    assert tracer.enabled is True
    assert len(tracer.traces) == 2
    await tracer.send_dns_cache_hit("h.test")
    await tracer.send_dns_cache_hit("h.test")
    assert order == [("first", "ctx-1"), ("second", "ctx-1")] * 2
    # Each config got its own context for the request, kept across the request's events.
    contexts = [trace._ctx for trace in tracer.traces]
    assert contexts[0] is not contexts[1]
    assert [ctx.seen for ctx in contexts] == [2, 2]  # type: ignore[attr-defined]
    # A new request gets new contexts.
    other = build_tracer(session, configs, "ctx-2")
    assert all(a._ctx is not b._ctx for a, b in zip(other.traces, tracer.traces, strict=True))


@pytest.mark.parametrize(("method", "args", "signal", "params"), SENDS, ids=[s[0] for s in SENDS])
async def test_trace_group_forwards(
    method: str, args: tuple[object, ...], signal: str, params: object
) -> None:
    config, calls = _recording_config()
    session = object()
    tracer = build_tracer(session, [config, config], None)
    await getattr(tracer, method)(*args)
    assert [(call[0], call[1], call[3]) for call in calls] == [(signal, session, params)] * 2


async def test_build_tracer_without_configs() -> None:
    tracer = build_tracer(object(), [], None)
    assert tracer.traces == ()
    await tracer.send_request_start("GET", URL_, HEADERS)


def test_client_core_seam_contract() -> None:
    # The client core's tracer seam (aioloom.client._tracer) calls build_tracer and the
    # hooks of its no-op tracer; the group must provide every one of them.
    seam = pytest.importorskip("aioloom.client._tracer")
    hooks = {
        name
        for name, member in inspect.getmembers(seam._Tracer)
        if name.startswith("send_") and inspect.iscoroutinefunction(member)
    }
    assert hooks
    assert hooks <= _send_methods(TraceGroup)
    assert seam.load_tracing().build_tracer is build_tracer
