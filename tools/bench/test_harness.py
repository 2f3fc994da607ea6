"""Tests of the benchmark harness: harness, run.py, _worker.py, _report.py, _env.py.

Run with ``python3 -m pytest tools/bench -q``. They need only the dev environment
(stdlib, pytest, and h11 + multidict for the one real worker run).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import types
from pathlib import Path
from typing import Any

import _env
import _report
import _worker
import bench_parser
import harness
import pytest
import run
from harness import Benchmark, Case, CheckFailed, Context, System, Unavailable

# ---------------------------------------------------------------------------------------------
# harness: measure, cores, descriptions


def test_measure_rate_of_a_known_cost() -> None:
    rate = harness.measure(lambda: time.sleep(0.002), 0.05)
    # 2 ms a call at least (sleep never returns early), however busy the machine is.
    assert 20 < rate <= 500


def _cost_model(monkeypatch: pytest.MonkeyPatch, seconds_per_call: float) -> list[int]:
    """Make every batch take exactly ``seconds_per_call`` per call; returns the batch sizes."""
    sizes: list[int] = []

    def time_batch(fn: object, number: int) -> float:
        sizes.append(number)
        return number * seconds_per_call

    monkeypatch.setattr(harness, "_time_batch", time_batch)
    return sizes


def test_measure_multiplies_by_units(monkeypatch: pytest.MonkeyPatch) -> None:
    _cost_model(monkeypatch, 0.002)
    assert harness.measure(lambda: None, 0.05) == pytest.approx(500)
    assert harness.measure(lambda: None, 0.05, units=100) == pytest.approx(50_000)


def test_measure_runs_at_least_min_time_and_three_batches() -> None:
    calls = 0

    def count() -> None:
        nonlocal calls
        calls += 1
        time.sleep(0.001)

    start = time.perf_counter()
    harness.measure(count, 0.05)
    assert time.perf_counter() - start >= 0.05
    assert calls >= 3


def test_measure_keeps_the_fastest_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    # Calibration (0.2 s >= 0.5 / 5 at once: 1 call a batch), then three timed batches.
    durations = iter([0.2, 0.3, 0.1, 0.2])
    monkeypatch.setattr(harness, "_time_batch", lambda fn, number: next(durations))
    assert harness.measure(lambda: None, 0.5, units=2) == pytest.approx(20.0)  # 2 / 0.1 s
    assert next(durations, None) is None


@pytest.mark.parametrize(("min_time", "units"), [(0.0, 1), (-1.0, 1), (0.1, 0), (0.1, -3)])
def test_measure_rejects_non_positive_arguments(min_time: float, units: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        harness.measure(lambda: None, min_time, units=units)


@pytest.mark.parametrize("seconds_per_call", [1e-7, 1e-5, 0.0007, 0.05])
def test_calibrate_reaches_the_target(
    monkeypatch: pytest.MonkeyPatch, seconds_per_call: float
) -> None:
    sizes = _cost_model(monkeypatch, seconds_per_call)
    number = harness._calibrate(lambda: None, 0.01)
    assert number * seconds_per_call >= 0.01
    # Not far past it: at most 20% over, or a single call when one call is already enough.
    assert number == 1 or number * seconds_per_call <= 0.012
    assert len(sizes) <= 12  # geometric growth, then one extrapolation


@pytest.mark.parametrize(
    ("count", "cores", "expected"),
    [
        (1, [0], ()),  # single core: nothing pinned
        (2, [0], ()),
        (1, [0, 1], (1,)),  # the harness keeps core 0
        (2, [0, 1], (1, 0)),  # server and load generator apart
        (3, [0, 1], (1, 0, 1)),  # more processes than cores: shared round-robin
        (2, [4, 2, 7], (7, 4)),
    ],
)
def test_assign_cores(count: int, cores: list[int], expected: tuple[int, ...]) -> None:
    assert harness.assign_cores(count, cores) == expected


def test_assign_cores_rejects_zero() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        harness.assign_cores(0, [0, 1])


def test_available_cores_are_this_process_affinity() -> None:
    cores = harness.available_cores()
    assert cores == sorted(cores)
    assert cores and all(core >= 0 for core in cores)


def test_context_core() -> None:
    assert Context(1.0).core(0) is None
    assert Context(1.0, cores=(1, 0)).core(0) == 1
    assert Context(1.0, cores=(1, 0)).core(1) == 0
    assert Context(1.0, cores=(1,)).core(1) == 1


def test_pin_none_leaves_affinity_alone() -> None:
    before = harness.available_cores()
    harness.pin(None)
    assert harness.available_cores() == before


def test_serving_yields_the_ready_line_and_stops_the_server() -> None:
    script = "import time; print('port 1234', flush=True); time.sleep(60)"
    with harness.serving([sys.executable, "-c", script], None) as (process, line):
        assert line == "port 1234"
        assert process.poll() is None
    assert process.returncode is not None


def test_serving_a_server_that_dies_before_ready() -> None:
    with pytest.raises(RuntimeError, match="exited with status 3"):
        with harness.serving([sys.executable, "-c", "raise SystemExit(3)"], None):
            pass


def test_spawn_pinned_pins_the_child() -> None:
    core = harness.available_cores()[-1]
    # The child waits for a line on stdin, which comes once spawn_pinned has pinned it.
    script = "import os, sys; sys.stdin.readline(); print(sorted(os.sched_getaffinity(0)))"
    child = harness.spawn_pinned([sys.executable, "-c", script], core, stdin=subprocess.PIPE)
    out, _err = child.communicate(b"go\n", timeout=30)
    assert child.returncode == 0
    assert json.loads(out) == [core]


def _rate(value: float) -> harness.Runner:
    return lambda case, ctx: value


def _benchmark(**changes: Any) -> Benchmark:
    fields: dict[str, Any] = {
        "name": "toy",
        "title": "Toy",
        "description": "A toy.",
        "unit": "op/s",
        "cases": (Case("a", "case a"), Case("b", "case b", units_per_call=10)),
        "systems": (
            System("ref", "reference", _rate(1.0)),
            System("fast", "faster", _rate(2.0)),
            System("only-b", "b only", _rate(3.0), cases=frozenset({"b"})),
        ),
        "reference": "ref",
    }
    fields.update(changes)
    return Benchmark(**fields)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"reference": "nobody"}, "reference 'nobody' is not a system"),
        ({"cases": (Case("a", "x"), Case("a", "y"))}, "duplicate case names"),
        (
            {"systems": (System("ref", "x", _rate(1.0)), System("ref", "y", _rate(1.0)))},
            "duplicate system names",
        ),
        ({"cores_per_measurement": 0}, "at least 1"),
    ],
)
def test_benchmark_rejects_bad_descriptions(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _benchmark(**changes)


def test_benchmark_lookups() -> None:
    toy = _benchmark()
    assert toy.case("b").units_per_call == 10
    assert toy.system("fast").description == "faster"
    with pytest.raises(KeyError, match="no case 'z'"):
        toy.case("z")
    with pytest.raises(KeyError, match="no system 'z'"):
        toy.system("z")


def test_system_applies_to() -> None:
    toy = _benchmark()
    assert toy.system("fast").applies_to(toy.case("a"))
    assert not toy.system("only-b").applies_to(toy.case("a"))
    assert toy.system("only-b").applies_to(toy.case("b"))


# ---------------------------------------------------------------------------------------------
# run.py: planning, selection, results of workers


def test_plan_interleaves_and_rotates() -> None:
    toy = _benchmark()
    order = [
        (r, case.name, system.name)
        for r, case, system in run.plan(toy, toy.cases, toy.systems, rounds=3)
    ]
    assert order == [
        (0, "a", "ref"),
        (0, "a", "fast"),
        (0, "b", "ref"),
        (0, "b", "fast"),
        (0, "b", "only-b"),
        (1, "a", "fast"),
        (1, "a", "ref"),
        (1, "b", "fast"),
        (1, "b", "only-b"),
        (1, "b", "ref"),
        (2, "a", "ref"),
        (2, "a", "fast"),
        (2, "b", "only-b"),
        (2, "b", "ref"),
        (2, "b", "fast"),
    ]


def test_select_always_keeps_the_reference() -> None:
    toy = _benchmark()
    args = run._parse_args(["toy", "--system", "fast", "--case", "b"])
    cases, systems = run._select(toy, args)
    assert [c.name for c in cases] == ["b"]
    assert [s.name for s in systems] == ["ref", "fast"]


def test_select_rejects_unknown_names() -> None:
    toy = _benchmark()
    with pytest.raises(SystemExit, match="no system 'nope'"):
        run._select(toy, run._parse_args(["toy", "--system", "nope"]))
    with pytest.raises(SystemExit, match="no case 'nope'"):
        run._select(toy, run._parse_args(["toy", "--case", "nope"]))


@pytest.mark.parametrize("argv", [[], ["parser", "--rounds", "0"], ["parser", "--min-time", "0"]])
def test_parse_args_rejects(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        run._parse_args(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_main_rejects_an_unknown_benchmark() -> None:
    with pytest.raises(SystemExit, match="no benchmark 'nope'; known: .*parser"):
        run.main(["nope"])


def test_list_names_every_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    assert run.main(["--list"]) == 0
    out = capsys.readouterr().out
    assert "parser: HTTP/1.1 parser" in out
    assert "aiohttp-py (reference)" in out


def test_parse_result() -> None:
    out = "noise\n" + _worker.RESULT_PREFIX + json.dumps({"status": "ok", "rate": 12.5}) + "\n"
    assert run.parse_result(out, "", 0) == _report.Outcome("ok", 12.5)
    line = _worker.RESULT_PREFIX + json.dumps({"status": "unavailable", "reason": "no C"})
    assert run.parse_result(line, "", 0) == _report.Outcome("unavailable", None, "no C")


def test_parse_result_reads_side_figures() -> None:
    data = {"status": "ok", "rate": 3.0, "side": {"rss (MiB)": 1.5, "other": 2}}
    outcome = run.parse_result(_worker.RESULT_PREFIX + json.dumps(data), "", 0)
    assert outcome == _report.Outcome("ok", 3.0, side=(("rss (MiB)", 1.5), ("other", 2.0)))


def test_parse_result_without_a_result_line_is_an_error() -> None:
    outcome = run.parse_result("", "Traceback\nMemoryError\n", -9)
    assert outcome == _report.Outcome("error", None, "worker died: MemoryError")
    assert run.parse_result("", "", -9).reason == "worker died: exit status -9"


def test_run_rounds_collects_outcomes_in_round_order(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    toy = _benchmark()
    calls: list[str] = []

    def fake(
        python: Path, benchmark: Benchmark, case: Case, system: System, **options: Any
    ) -> _report.Outcome:
        calls.append(f"{case.name}/{system.name}")
        if system.name == "only-b":
            return _report.Outcome("unavailable", None, "not here")
        return _report.Outcome("ok", float(len(calls)))

    monkeypatch.setattr(run, "measure_once", fake)
    results = run.run_rounds(
        Path("python"), toy, toy.cases, toy.systems, rounds=2, min_time=0.1, cores=(), quick=True
    )
    assert results[("a", "ref")] == _ok(1, 7)
    assert results[("b", "only-b")][1] == _report.Outcome("unavailable", None, "not here")
    assert len(calls) == 10
    err = capsys.readouterr().err
    assert "[round 2/2] b only-b: unavailable: not here" in err
    assert "[round 1/2] a ref: 1 op/s" in err


def test_measure_once_runs_a_real_worker() -> None:
    # h11 and multidict are in the dev environment too, so this needs no bench venv.
    benchmark = bench_parser.BENCHMARK
    outcome = run.measure_once(
        Path(sys.executable),
        benchmark,
        benchmark.case("get"),
        benchmark.system("h11"),
        min_time=0.01,
        cores=harness.assign_cores(1),
        quick=True,
    )
    assert outcome.status == "ok", outcome.reason
    assert outcome.rate is not None and outcome.rate > 100


def test_measure_once_reports_a_missing_peer_as_unavailable() -> None:
    benchmark = bench_parser.BENCHMARK
    outcome = run.measure_once(
        Path(sys.executable),
        benchmark,
        benchmark.case("get"),
        benchmark.system("aiohttp-c"),
        min_time=0.01,
        cores=(),
        quick=True,
    )
    if outcome.status == "ok":
        pytest.skip("aiohttp is installed in this environment")
    assert outcome == _report.Outcome(
        "unavailable",
        None,
        "cannot import aiohttp.http_parser: ModuleNotFoundError: No module named 'aiohttp'",
    )


# ---------------------------------------------------------------------------------------------
# _worker.py: one measurement, every kind of outcome


def _fake_benchmark_module(monkeypatch: pytest.MonkeyPatch) -> None:
    def unavailable(case: Case, ctx: Context) -> float:
        raise Unavailable("peer not built here")

    def missing(case: Case, ctx: Context) -> float:
        raise ModuleNotFoundError("No module named 'nowhere'")

    def wrong(case: Case, ctx: Context) -> float:
        raise CheckFailed("3 messages parsed, 1 expected")

    def broken(case: Case, ctx: Context) -> float:
        raise ZeroDivisionError("division by zero")

    def pinned(case: Case, ctx: Context) -> float:
        return float(len(harness.available_cores()))

    def side(case: Case, ctx: Context) -> float:
        harness.record("rss (MiB)", 1)
        harness.record("rss (MiB)", 2.5)  # a name recorded again is replaced
        return 7.0

    module = types.ModuleType("bench_fake")
    module.BENCHMARK = _benchmark(  # type: ignore[attr-defined]
        name="fake",
        systems=(
            System("ref", "works", lambda case, ctx: 42.0 * case.units_per_call + ctx.min_time),
            System("unavailable", "", unavailable),
            System("missing", "", missing),
            System("wrong", "", wrong),
            System("broken", "", broken),
            System("pinned", "", pinned),
            System("side", "", side),
        ),
    )
    monkeypatch.setitem(sys.modules, "bench_fake", module)


def _run_worker(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert _worker.main(["fake", *argv]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith(_worker.RESULT_PREFIX)
    result: dict[str, Any] = json.loads(out[-1][len(_worker.RESULT_PREFIX) :])
    return result


@pytest.mark.parametrize(
    ("system", "expected"),
    [
        ("ref", {"status": "ok", "rate": 420.5}),
        ("unavailable", {"status": "unavailable", "reason": "peer not built here"}),
        (
            "missing",
            {"status": "unavailable", "reason": "ModuleNotFoundError: No module named 'nowhere'"},
        ),
        ("wrong", {"status": "error", "reason": "CheckFailed: 3 messages parsed, 1 expected"}),
        ("broken", {"status": "error", "reason": "ZeroDivisionError: division by zero"}),
        ("side", {"status": "ok", "rate": 7.0, "side": {"rss (MiB)": 2.5}}),
    ],
)
def test_worker_outcomes(
    system: str,
    expected: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _fake_benchmark_module(monkeypatch)
    assert _run_worker(capsys, "b", system, "--min-time", "0.5") == expected


def test_worker_pins_itself(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_benchmark_module(monkeypatch)
    pinned: list[int | None] = []
    monkeypatch.setattr(_worker, "pin", pinned.append)
    _run_worker(capsys, "a", "pinned", "--min-time", "1", "--cores", "1,0")
    assert pinned == [1]
    _run_worker(capsys, "a", "pinned", "--min-time", "1", "--cores", "")
    assert pinned == [1, None]


def test_worker_unknown_case_is_an_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _fake_benchmark_module(monkeypatch)
    result = _run_worker(capsys, "zzz", "ref", "--min-time", "1")
    assert result == {"status": "error", "reason": "KeyError: \"fake has no case 'zzz'\""}


def test_load_benchmark_rejects_a_module_without_benchmark(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "bench_empty", types.ModuleType("bench_empty"))
    with pytest.raises(TypeError, match="bench_empty.BENCHMARK is not a harness.Benchmark"):
        _worker.load_benchmark("empty")


# ---------------------------------------------------------------------------------------------
# _report.py: statistics and RESULTS.md


def _ok(*rates: float) -> list[_report.Outcome]:
    return [_report.Outcome("ok", rate) for rate in rates]


def test_summarize_median_of_per_round_ratios() -> None:
    toy = _benchmark()
    results: _report.Results = {
        ("a", "ref"): _ok(100, 50, 200),
        # Per-round ratios 1.1, 2.0, 0.5 -> median 1.1; the ratio of medians would be 1.0.
        ("a", "fast"): _ok(110, 100, 100),
    }
    ref, fast = _report.summarize(toy, results)
    assert (ref.system, ref.median, ref.ratio, ref.rounds) == ("ref", 100, 1.0, 3)
    assert fast.median == 100
    assert fast.ratio == pytest.approx(1.1)
    assert fast.ratio_low == pytest.approx(0.5)
    assert fast.ratio_high == pytest.approx(2.0)


def test_summarize_skips_rounds_where_either_side_failed() -> None:
    toy = _benchmark()
    results: _report.Results = {
        ("b", "ref"): [_report.Outcome("error", None, "boom"), *_ok(100, 100)],
        ("b", "fast"): [*_ok(999, 300), _report.Outcome("unavailable", None, "gone")],
    }
    ref, fast = _report.summarize(toy, results)
    assert fast.ratio == pytest.approx(3.0)  # only round 2 has both
    assert fast.rounds == 2
    assert fast.note == "1/3 rounds unavailable: gone"
    assert ref.note == "1/3 rounds error: boom"


def test_summarize_unavailable_everywhere() -> None:
    toy = _benchmark()
    gone = [_report.Outcome("unavailable", None, "no module")] * 2
    results: _report.Results = {("a", "ref"): _ok(1, 1), ("a", "fast"): gone}
    row = _report.summarize(toy, results)[1]
    assert (row.median, row.ratio, row.rounds, row.missing) == (None, None, 0, "unavailable")
    assert row.note == "2/2 rounds unavailable: no module"


@pytest.mark.parametrize(
    ("rate", "text"),
    [(None, "-"), (12.0, "12"), (1234.0, "1.23k"), (45_600.0, "45.6k"), (2_500_000.0, "2.5M")],
)
def test_format_rate(rate: float | None, text: str) -> None:
    assert _report.format_rate(rate) == text


def _rows() -> list[_report.Row]:
    gone = [_report.Outcome("unavailable", None, "no module")] * 2
    results: _report.Results = {
        ("a", "ref"): _ok(1000, 1000),
        ("a", "fast"): _ok(2000, 2200),
        ("a", "only-b"): gone,
        ("b", "ref"): _ok(1000, 1000),
        ("b", "only-b"): gone,
    }
    return _report.summarize(_benchmark(), results)


def test_text_table() -> None:
    table = _report.text_table(_benchmark(), _rows())
    lines = table.splitlines()
    assert lines[0].split() == [
        "case",
        "system",
        "op/s",
        "(median)",
        "vs",
        "ref",
        "ratio",
        "range",
        "rounds",
    ]
    assert lines[3].split() == ["a", "fast", "2.1k", "2.10x", "2.00-2.20", "2"]
    assert lines[4].split() == ["a", "only-b", "unavailable", "-", "-", "0"]
    assert lines[5] == ""  # a blank line between cases
    assert table.endswith("- only-b on a, b: 2/2 rounds unavailable: no module")


def test_side_figures_median_and_max_under_the_table() -> None:
    results: _report.Results = {
        ("a", "ref"): [
            _report.Outcome("ok", 10.0, side=(("rss (MiB)", 1.0),)),
            _report.Outcome("ok", 10.0, side=(("rss (MiB)", 4.0),)),
            _report.Outcome("ok", 10.0, side=(("rss (MiB)", 2.0),)),
            _report.Outcome("error", None, "boom", side=(("rss (MiB)", 99.0),)),
        ],
        ("a", "fast"): _ok(20, 20, 20, 20),
    }
    rows = _report.summarize(_benchmark(), results)
    assert rows[0].side == (("rss (MiB)", 2.0, 4.0),)  # failed rounds give no figure
    assert rows[1].side == ()
    expected = "- a / ref: rss (MiB) 2 (max 4)"
    heading = "Side figures (median over rounds, max in brackets):"
    # Under the table, before the failures.
    lines = _report.text_table(_benchmark(), rows).splitlines()
    assert lines[-5:-2] == [heading, expected, ""]
    section = _report.markdown_section(_benchmark(), rows, _info())
    assert f"{heading}\n{expected}\n\nNot measured:" in section


def _info() -> _report.RunInfo:
    machine = _env.Machine(2, (0, 1), "Test CPU", "CPython 3.11.7", {"h11": "0.16.0", "x": None})
    return _report.RunInfo(
        "2026-01-02 03:04 UTC", "python3 run.py toy", 2, 0.3, (1,), machine, (0.5, 0.25, 0.125)
    )


def test_markdown_section() -> None:
    section = _report.markdown_section(_benchmark(), _rows(), _info())
    assert section.startswith("<!-- bench:toy:begin -->\n## toy: Toy\n")
    assert section.endswith("<!-- bench:toy:end -->\n")
    assert "- Command: `python3 run.py toy`" in section
    assert "nproc 2, CPU Test CPU, pinning: cores 1" in section
    assert "- Packages: h11 0.16.0, x not installed" in section
    assert "- Load average before the run: 0.50, 0.25, 0.12 " in section
    assert "| a | fast | 2.1k | 2.10x | 2.00-2.20 | 2 |" in section
    assert "- `b`: case b" in section


def test_markdown_header_keeps_one_cell_per_column_with_a_two_unit_benchmark() -> None:
    section = _report.markdown_section(_benchmark(unit="GET/s | MB/s"), _rows(), _info())
    header = next(line for line in section.splitlines() if line.startswith("| case |"))
    assert header == "| case | system | GET/s or MB/s (median) | vs ref | ratio range | rounds |"
    row = next(line for line in section.splitlines() if line.startswith("| a | fast |"))
    assert header.count("|") == row.count("|")


def test_write_section_replaces_its_own_and_keeps_the_others(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    _report.write_section(
        results, "one", "<!-- bench:one:begin -->\nold one\n<!-- bench:one:end -->\n"
    )
    _report.write_section(results, "two", "<!-- bench:two:begin -->\ntwo\n<!-- bench:two:end -->\n")
    text = results.read_text()
    assert text.startswith(_report.RESULTS_HEADER)
    _report.write_section(
        results, "one", "<!-- bench:one:begin -->\nnew one\n<!-- bench:one:end -->\n"
    )
    updated = results.read_text()
    assert "old one" not in updated
    assert updated == text.replace("old one", "new one")
    assert updated.index("new one") < updated.index("two")


def test_write_section_with_regex_characters_in_the_text(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    section = "<!-- bench:p:begin -->\n\\1 \\g<0> $\n<!-- bench:p:end -->\n"
    _report.write_section(results, "p", section)
    _report.write_section(results, "p", section)
    assert results.read_text().count("\\1 \\g<0> $") == 1


# ---------------------------------------------------------------------------------------------
# _env.py: what can be checked without pip


def test_worker_env_drops_python_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYTHONPATH", "src")
    monkeypatch.setenv("PYTHONDEVMODE", "1")
    monkeypatch.setenv("AIOHTTP_NO_EXTENSIONS", "1")
    env = _env.worker_env()
    assert "PYTHONPATH" not in env and "PYTHONDEVMODE" not in env
    assert env["AIOHTTP_NO_EXTENSIONS"] == "1"  # a deliberate choice of the user, kept


def test_stamp_follows_requirements(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("h11==0.16.0\n")
    monkeypatch.setattr(_env, "REQUIREMENTS", requirements)
    first = _env._stamp()
    assert _env._stamp() == first
    requirements.write_text("h11==0.15.0\n")
    assert _env._stamp() != first


def test_requirement_names() -> None:
    names = _env._requirement_names()
    assert {"aiohttp", "httpx", "h11", "httptools", "websockets", "uvicorn"} <= set(names)
    pins = [
        line
        for line in _env.REQUIREMENTS.read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert all("==" in line for line in pins), "every requirement is pinned exactly"
    assert any(line.startswith("aiohttp==3.14.") for line in pins)


def test_aioloom_names() -> None:
    assert "aioloom-http" in _env._aioloom_names()


def test_cpu_model_is_named() -> None:
    assert _env._cpu_model() not in ("", "unknown")


def test_ensure_program(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _env.ensure_program("sh").endswith("/sh")
    with pytest.raises(SystemExit, match="does not know how to install it"):
        _env.ensure_program("no-such-program-here")
    monkeypatch.setattr("shutil.which", lambda name: None)
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(SystemExit, match="apt-get install -y wrk"):
        _env.ensure_program("wrk")
