"""Run a named benchmark: ``python3 tools/bench/run.py NAME [--rounds N] [--quick]``.

``python3 tools/bench/run.py --list`` names the benchmarks (one ``bench_<name>.py``
module each, beside this file). A run:

1. creates or refreshes the bench venv ``tools/bench/.venv`` (pinned peers from
   ``requirements.txt``, aioloom's packages editable from this checkout) and
   installs the external programs the benchmark needs (wrk, from Debian);
2. runs the rounds: in round r, for each case, every system once, in an order
   rotated by r; each (case, system) measurement is a fresh subprocess of the
   venv's Python (``_worker.py``), pinned to a core of its own;
3. prints the table (median rate per (case, system), median of the per-round
   ratios against the reference) and writes it into ``RESULTS.md``.

Standard library only, Python 3.10+; the measured code runs only in the venv.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import _env
import _report
from _worker import RESULT_PREFIX, load_benchmark
from harness import Benchmark, Case, System, assign_cores

DEFAULT_ROUNDS = 5
QUICK_ROUNDS = 2
DEFAULT_MIN_TIME = 1.0
QUICK_MIN_TIME = 0.3
# A measurement is a few seconds; one that takes this long is hung, not slow.
MEASUREMENT_TIMEOUT = 600.0
RESULTS = _env.BENCH_DIR / "RESULTS.md"
WORKER = _env.BENCH_DIR / "_worker.py"


def benchmark_names() -> list[str]:
    """Names of the benchmarks defined beside this file."""
    return sorted(path.stem[len("bench_") :] for path in _env.BENCH_DIR.glob("bench_*.py"))


def plan(
    benchmark: Benchmark, cases: Sequence[Case], systems: Sequence[System], rounds: int
) -> Iterator[tuple[int, Case, System]]:
    """The measurements of a run, in order: (round, case, system).

    Within a round every system runs on a case before the next case starts, so
    the systems compared on a case are measured minutes apart at most; the system
    order is rotated by one per round, so no system is always first or last.
    """
    for round_index in range(rounds):
        for case in cases:
            members = [system for system in systems if system.applies_to(case)]
            if not members:
                continue
            shift = round_index % len(members)
            for system in members[shift:] + members[:shift]:
                yield round_index, case, system


def measure_once(
    python: Path,
    benchmark: Benchmark,
    case: Case,
    system: System,
    *,
    min_time: float,
    cores: tuple[int, ...],
    quick: bool,
) -> _report.Outcome:
    """Run one measurement in a fresh subprocess of the bench venv and return its outcome."""
    command = [
        str(python),
        "-E",  # ignore PYTHON* variables of the caller's environment
        str(WORKER),
        benchmark.name,
        case.name,
        system.name,
        f"--min-time={min_time}",
        "--cores=" + ",".join(str(core) for core in cores),
    ]
    if quick:
        command.append("--quick")
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=MEASUREMENT_TIMEOUT,
            env=_env.worker_env(),
            cwd=_env.ROOT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return _report.Outcome("error", reason=f"timed out after {MEASUREMENT_TIMEOUT:g} s")
    return parse_result(done.stdout, done.stderr, done.returncode)


def parse_result(stdout: str, stderr: str, returncode: int) -> _report.Outcome:
    """Turn a worker's output into an outcome (a missing result line is an error)."""
    for line in reversed(stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line[len(RESULT_PREFIX) :])
            rate = data.get("rate")
            side = data.get("side") or {}
            return _report.Outcome(
                status=str(data["status"]),
                rate=float(rate) if rate is not None else None,
                reason=str(data.get("reason", "")),
                side=tuple((str(name), float(value)) for name, value in side.items()),
            )
    last = stderr.strip().splitlines()[-1:] or [f"exit status {returncode}"]
    return _report.Outcome("error", reason=f"worker died: {last[0]}")


def _select(benchmark: Benchmark, args: argparse.Namespace) -> tuple[list[Case], list[System]]:
    try:
        cases = [benchmark.case(n) for n in args.case] if args.case else list(benchmark.cases)
        for name in args.system or ():
            benchmark.system(name)
    except KeyError as exc:
        raise SystemExit(exc.args[0]) from None
    names = set(args.system or [s.name for s in benchmark.systems])
    # The reference always runs: without it there is no ratio.
    names.add(benchmark.reference)
    return cases, [s for s in benchmark.systems if s.name in names]


def _list() -> int:
    for name in benchmark_names():
        benchmark = load_benchmark(name)
        print(f"{name}: {benchmark.title}")
        print("  cases:   " + ", ".join(case.name for case in benchmark.cases))
        systems = [
            s.name + (" (reference)" if s.name == benchmark.reference else "")
            for s in benchmark.systems
        ]
        print("  systems: " + ", ".join(systems))
    return 0


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 tools/bench/run.py",
        description="Run a named aioloom benchmark against its peers (see tools/bench/README.md).",
    )
    parser.add_argument("name", nargs="?", help="benchmark to run (see --list)")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--rounds", type=int, help=f"rounds (default {DEFAULT_ROUNDS})")
    parser.add_argument(
        "--quick", action="store_true", help=f"{QUICK_ROUNDS} rounds of short measurements"
    )
    parser.add_argument("--min-time", type=float, help="seconds of timing per measurement")
    parser.add_argument("--case", action="append", help="only this case (repeatable)")
    parser.add_argument("--system", action="append", help="only this system (repeatable)")
    parser.add_argument(
        "--write",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="update RESULTS.md (default: yes unless --case/--system filter the run)",
    )
    parser.add_argument("--reinstall", action="store_true", help="rerun pip in the bench venv")
    args = parser.parse_args(argv)
    if not args.list and not args.name:
        parser.error("name a benchmark, or pass --list")
    if args.rounds is not None and args.rounds < 1:
        parser.error("--rounds must be at least 1")
    if args.min_time is not None and args.min_time <= 0:
        parser.error("--min-time must be positive")
    return args


def run_rounds(
    python: Path,
    benchmark: Benchmark,
    cases: Sequence[Case],
    systems: Sequence[System],
    *,
    rounds: int,
    min_time: float,
    cores: tuple[int, ...],
    quick: bool,
) -> _report.Results:
    """Make every measurement of the plan, reporting progress on stderr."""
    results: _report.Results = {}
    for round_index, case, system in plan(benchmark, cases, systems, rounds):
        outcome = measure_once(
            python, benchmark, case, system, min_time=min_time, cores=cores, quick=quick
        )
        results.setdefault((case.name, system.name), []).append(outcome)
        shown = _report.format_rate(outcome.rate) + " " + benchmark.unit
        if outcome.status != "ok":
            shown = f"{outcome.status}: {outcome.reason}"
        progress = f"[round {round_index + 1}/{rounds}] {case.name} {system.name}: {shown}"
        print(progress, file=sys.stderr, flush=True)
    return results


def main(argv: Sequence[str]) -> int:
    """Entry point; returns the exit status."""
    args = _parse_args(argv)
    if args.list:
        return _list()
    if args.name not in benchmark_names():
        raise SystemExit(f"no benchmark {args.name!r}; known: {', '.join(benchmark_names())}")
    benchmark = load_benchmark(args.name)
    cases, systems = _select(benchmark, args)
    rounds = args.rounds or (QUICK_ROUNDS if args.quick else DEFAULT_ROUNDS)
    min_time = args.min_time or (QUICK_MIN_TIME if args.quick else DEFAULT_MIN_TIME)
    python = _env.ensure_venv(reinstall=args.reinstall)
    for program in benchmark.needs:
        _env.ensure_program(program)
    cores = assign_cores(benchmark.cores_per_measurement)
    load = tuple(os.getloadavg()) if hasattr(os, "getloadavg") else ()
    results = run_rounds(
        python,
        benchmark,
        cases,
        systems,
        rounds=rounds,
        min_time=min_time,
        cores=cores,
        quick=args.quick,
    )
    rows = _report.summarize(benchmark, results)
    print(_report.text_table(benchmark, rows))
    if args.write if args.write is not None else not (args.case or args.system):
        info = _report.RunInfo(
            date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            command="python3 tools/bench/run.py " + shlex.join(argv),
            rounds=rounds,
            min_time=min_time,
            cores=cores,
            machine=_env.machine(python, benchmark.packages),
            load=load,
        )
        section = _report.markdown_section(benchmark, rows, info)
        _report.write_section(RESULTS, benchmark.name, section)
        print(f"\nwritten: {RESULTS.relative_to(_env.ROOT)} (section {benchmark.name})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
