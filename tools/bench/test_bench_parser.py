"""Tests of the parser benchmark: its workloads, its output checks and its adapters.

Run with ``python3 -m pytest tools/bench -q``. They need only the dev environment
(stdlib, pytest, h11, multidict); the test that drives every system in the bench venv is
skipped until ``run.py`` has created that venv.
"""

from __future__ import annotations

import sys
import types
from typing import Any, NamedTuple

import _env
import bench_parser
import pytest
import run
from harness import Case, CheckFailed, Unavailable

# ---------------------------------------------------------------------------------------------
# bench_parser: the workloads, the checks and the adapters


def test_workloads_are_what_the_cases_say() -> None:
    assert 500 <= len(bench_parser.BROWSER_GET) <= 560
    assert len(bench_parser.SMALL_BODY) == 100
    assert len(bench_parser.CHUNKED_BODY) == 64 * 1024
    assert bench_parser.CHUNKED_RESPONSE.count(b"\r\n1000\r\n") == 16  # 16 chunks of 4 KiB
    assert bench_parser.CHUNKED_RESPONSE.endswith(b"\r\n0\r\n\r\n")
    assert bench_parser.PIPELINED.count(b"GET /catalog") == 100
    assert set(bench_parser.WORKLOADS) == {case.name for case in bench_parser.CASES}
    assert bench_parser.BENCHMARK.case("pipelined").units_per_call == 100


@pytest.mark.parametrize("case", bench_parser.CASES, ids=lambda case: case.name)
def test_h11_adapter_passes_the_checks(case: Case) -> None:
    workload = bench_parser.WORKLOADS[case.name]
    bench_parser._verify(case, workload, bench_parser._h11(workload)())


def test_h11_adapter_feeds_pipelined_requests_across_piece_boundaries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A piece size that cuts messages at every possible offset over the buffer.
    monkeypatch.setattr(bench_parser, "H11_PIECE", 333)
    case = bench_parser.BENCHMARK.case("pipelined")
    workload = bench_parser.WORKLOADS["pipelined"]
    bench_parser._verify(case, workload, bench_parser._h11(workload)())


def test_h11_adapter_refuses_a_truncated_message() -> None:
    truncated = bench_parser.Workload(bench_parser.BROWSER_GET[:-2], True, 13, ("a", "b"))
    with pytest.raises(CheckFailed, match="h11 stopped at"):
        bench_parser._h11(truncated)()


class _Head(NamedTuple):
    headers: Any


class _End:
    """The stand-in's EndOfMessage."""


def _fake_aioloom_parser(data: bytes, events: list[object]) -> types.ModuleType:
    """A stand-in for aioloom.http._parser whose parsers answer ``data`` with ``events``."""

    class _Parser:
        method: str | None = None

        def feed_data(self, fed: bytes) -> tuple[list[object], bool, bytes]:
            assert fed == data
            if type(self).__name__ == "HttpResponseParser":
                assert self.method == "GET"
            return list(events), False, b""

    module = types.ModuleType("aioloom.http._parser")
    module.EndOfMessage = _End  # type: ignore[attr-defined]
    module.HttpRequestParser = type("HttpRequestParser", (_Parser,), {})  # type: ignore[attr-defined]
    module.HttpResponseParser = type("HttpResponseParser", (_Parser,), {})  # type: ignore[attr-defined]
    return module


@pytest.fixture
def response_headers() -> Any:
    multidict = pytest.importorskip("multidict")
    head = bench_parser.SMALL_RESPONSE.split(b"\r\n\r\n")[0].decode()
    return multidict.CIMultiDictProxy(
        multidict.CIMultiDict(line.split(": ", 1) for line in head.split("\r\n")[1:])
    )


def test_aioloom_adapter_collects_heads_chunks_and_ends(
    monkeypatch: pytest.MonkeyPatch, response_headers: Any
) -> None:
    body = bench_parser.SMALL_BODY
    events = [_Head(response_headers), body[:40], body[40:], _End()]
    module = _fake_aioloom_parser(bench_parser.SMALL_RESPONSE, events)
    monkeypatch.setitem(sys.modules, "aioloom.http._parser", module)
    case = bench_parser.BENCHMARK.case("response")
    workload = bench_parser.WORKLOADS["response"]
    parsed = bench_parser._aioloom(workload)()
    bench_parser._verify(case, workload, parsed)
    assert parsed == [(response_headers, body)]


def test_aioloom_adapter_output_missing_a_chunk_fails_the_check(
    monkeypatch: pytest.MonkeyPatch, response_headers: Any
) -> None:
    events = [_Head(response_headers), bench_parser.SMALL_BODY[:40], _End()]
    module = _fake_aioloom_parser(bench_parser.SMALL_RESPONSE, events)
    monkeypatch.setitem(sys.modules, "aioloom.http._parser", module)
    workload = bench_parser.WORKLOADS["response"]
    parsed = bench_parser._aioloom(workload)()
    with pytest.raises(CheckFailed, match="body of 40 bytes, 100 expected"):
        bench_parser._verify(bench_parser.BENCHMARK.case("response"), workload, parsed)


def test_missing_module_makes_a_system_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "aioloom.http._parser", None)  # import raises ImportError
    with pytest.raises(Unavailable, match="cannot import aioloom.http._parser"):
        bench_parser._aioloom(bench_parser.WORKLOADS["get"])


@pytest.mark.parametrize(
    ("parsed", "message"),
    [
        ([], "0 messages parsed, 1 expected"),
        ([({"Host": "x"}, b"")], "1 header fields, 13 expected"),
        ([(dict.fromkeys(map(str, range(13)), "v"), b"")], "header 'sec-fetch-site' is None"),
    ],
)
def test_verify_refuses_wrong_output(parsed: bench_parser.Parsed, message: str) -> None:
    with pytest.raises(CheckFailed, match=message):
        bench_parser._verify(bench_parser.CASES[0], bench_parser.WORKLOADS["get"], parsed)


# ---------------------------------------------------------------------------------------------
# The real thing: every system of the parser benchmark in the bench venv, briefly.


@pytest.mark.skipif(not _env.venv_python().exists(), reason="run tools/bench/run.py once first")
@pytest.mark.parametrize("system", [s.name for s in bench_parser.SYSTEMS])
def test_parser_systems_in_the_bench_venv(system: str) -> None:
    benchmark = bench_parser.BENCHMARK
    for case in benchmark.cases:
        outcome = run.measure_once(
            _env.venv_python(),
            benchmark,
            case,
            benchmark.system(system),
            min_time=0.01,
            cores=(),
            quick=True,
        )
        if system == "aioloom" and outcome.status == "unavailable":
            # aioloom's parser module is written in parallel; until it lands it is unavailable.
            assert "aioloom.http._parser" in outcome.reason
            continue
        assert outcome.status == "ok", outcome.reason
        assert outcome.rate is not None and outcome.rate > 0
