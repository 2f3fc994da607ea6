"""One measurement in its own process: ``_worker.py BENCH CASE SYSTEM --min-time T``.

``run.py`` starts this script with the bench venv's Python for every (case,
system, round), so that systems never share interpreter state (imports, caches,
the allocator's arenas, a warmed-up or fragmented heap). The worker pins itself
to its first assigned core, runs the system and prints one result line::

    BENCH-RESULT {"status": "ok", "rate": 123456.7}
    BENCH-RESULT {"status": "ok", "rate": 85.2, "side": {"peak RSS growth (MiB)": 0.4}}
    BENCH-RESULT {"status": "unavailable", "reason": "ModuleNotFoundError: ..."}
    BENCH-RESULT {"status": "error", "reason": "CheckFailed: ..."}

The prefix keeps the line apart from anything a system prints. Exit status is 0
whenever a result line was printed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import traceback

from harness import Benchmark, CheckFailed, Context, Unavailable, pin, take_recorded

RESULT_PREFIX = "BENCH-RESULT "


def load_benchmark(name: str) -> Benchmark:
    """Import ``bench_<name>`` (beside this file) and return its ``BENCHMARK``.

    Raises:
        ModuleNotFoundError: No such benchmark module.
        TypeError: The module's ``BENCHMARK`` is not a :class:`Benchmark`.
    """
    module = importlib.import_module(f"bench_{name}")
    benchmark = getattr(module, "BENCHMARK", None)
    if not isinstance(benchmark, Benchmark):
        raise TypeError(f"bench_{name}.BENCHMARK is not a harness.Benchmark")
    return benchmark


def _parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Run one benchmark measurement.")
    parser.add_argument("bench")
    parser.add_argument("case")
    parser.add_argument("system")
    parser.add_argument("--min-time", type=float, required=True)
    parser.add_argument("--cores", default="", help="comma-separated cores; first = this one")
    parser.add_argument("--quick", action="store_true")
    return parser.parse_args(argv)


def _measure(args: argparse.Namespace) -> dict[str, object]:
    cores = tuple(int(core) for core in args.cores.split(",") if core)
    ctx = Context(min_time=args.min_time, cores=cores, quick=args.quick)
    pin(ctx.core(0))
    benchmark = load_benchmark(args.bench)
    case = benchmark.case(args.case)
    system = benchmark.system(args.system)
    take_recorded()  # only this run's side figures are reported
    try:
        rate = system.run(case, ctx)
    except Unavailable as exc:
        return {"status": "unavailable", "reason": " ".join(str(exc).split())}
    except ImportError as exc:
        return {"status": "unavailable", "reason": _one_line(exc)}
    except CheckFailed as exc:
        return {"status": "error", "reason": _one_line(exc)}
    result: dict[str, object] = {"status": "ok", "rate": rate}
    side = take_recorded()
    if side:
        result["side"] = side
    return result


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def main(argv: list[str]) -> int:
    """Run one measurement and print its result line."""
    args = _parse_args(argv)
    try:
        result = _measure(args)
    except Exception as exc:  # any failure becomes a reported result, never a lost round
        traceback.print_exc(file=sys.stderr)
        result = {"status": "error", "reason": _one_line(exc)}
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
