"""The shared API of tools/bench: how a benchmark module describes itself, and how it measures.

A benchmark module ``bench_<name>.py`` defines one module-level ``BENCHMARK``
(a :class:`Benchmark`): its cases, its systems and the reference system that
ratios are taken against. ``run.py`` imports the module to plan the rounds, so
the module's top level must use only the standard library and this module; peers
(aiohttp, h11, ...) and aioloom itself are imported inside each system's
``run`` function, which executes in a subprocess of the bench venv's Python.

Inside that subprocess a system's ``run(case, ctx)`` builds its workload, checks
that it does the expected work, and returns operations per second, normally from
:func:`measure`. A system that cannot run here (an import fails, a build lacks
its C extension) raises :class:`Unavailable`; the harness reports it and goes on.

Core pinning lives here too (:func:`assign_cores`, :func:`pin`,
:func:`spawn_pinned`), so that network benchmarks can put their server and load
generator on different cores.

Standard library only, Python 3.10+: ``run.py`` imports this module under the
interpreter it was started with, the worker under the bench venv's.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import os
import selectors
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

__all__ = (
    "Benchmark",
    "Case",
    "CheckFailed",
    "Context",
    "Runner",
    "System",
    "Unavailable",
    "assign_cores",
    "available_cores",
    "measure",
    "pin",
    "record",
    "serving",
    "take_recorded",
    "spawn_pinned",
)

# One timed batch lasts about min_time / BATCHES_PER_MEASUREMENT, so that a measurement
# yields several batch rates and keeps the fastest: interference (another process on the
# core, a frequency dip) only ever slows a batch down, so the fastest batch is the closest
# to the code's own cost. Each batch is long enough (many calls, many GC passes) that no
# batch is fast by luck.
BATCHES_PER_MEASUREMENT = 5
# Fewer batches than this give the fastest-batch rule too little to choose from.
MIN_BATCHES = 3


class Unavailable(Exception):
    """Raised by a system that cannot run on this machine (import error, missing build)."""


class CheckFailed(Exception):
    """Raised when a system's output is not what the case expects; nothing is measured."""


@dataclass(frozen=True)
class Case:
    """One workload of a benchmark.

    Attributes:
        name: Short identifier, used on the command line and in reports.
        description: One line saying what the workload is, for the report.
        units_per_call: Operations one call of the timed function performs (a buffer
            of 100 pipelined requests counts 100).
    """

    name: str
    description: str
    units_per_call: int = 1


@dataclass(frozen=True)
class Context:
    """What the harness hands to a system inside the measuring subprocess.

    Attributes:
        min_time: Seconds that one measurement should last, calibration excluded.
        cores: Cores assigned to this measurement; the worker process is already
            pinned to ``cores[0]``, the others are for helper processes (a load
            generator: see :func:`spawn_pinned`). Empty when the machine has a
            single core and nothing is pinned.
        quick: True under ``--quick``; a system may shorten long set-ups.
    """

    min_time: float
    cores: tuple[int, ...] = ()
    quick: bool = False

    def core(self, index: int) -> int | None:
        """The core for the ``index``-th process of this measurement, or None if unpinned."""
        if not self.cores:
            return None
        return self.cores[index % len(self.cores)]


Runner = Callable[[Case, Context], float]
"""A system's measuring function: runs in the subprocess and returns operations per second."""


@dataclass(frozen=True)
class System:
    """One implementation measured by a benchmark.

    Attributes:
        name: Short identifier, used on the command line and in reports.
        description: One line saying what exactly is measured.
        run: Called in the measuring subprocess; returns operations per second
            and raises :class:`Unavailable` when the system cannot run here.
        cases: Names of the cases this system takes part in; None means all.
    """

    name: str
    description: str
    run: Runner
    cases: frozenset[str] | None = None

    def applies_to(self, case: Case) -> bool:
        """Whether this system is measured on ``case``."""
        return self.cases is None or case.name in self.cases


@dataclass(frozen=True)
class Benchmark:
    """A named benchmark: what ``run.py NAME`` runs.

    Attributes:
        name: The NAME on the command line; the module is ``bench_<name>.py``.
        title: Heading of the benchmark's section in RESULTS.md.
        description: A paragraph for the report: what is measured and how.
        unit: Unit of the rates, e.g. ``"msg/s"``.
        cases: The workloads, in report order.
        systems: The implementations, in report order.
        reference: Name of the system that ratios are taken against.
        cores_per_measurement: Processes of one measurement that should each get
            their own core (2 for a server and its load generator).
        needs: External programs that must be installed (e.g. ``"wrk"``).
        packages: Distributions whose versions the report names.
    """

    name: str
    title: str
    description: str
    unit: str
    cases: tuple[Case, ...]
    systems: tuple[System, ...]
    reference: str
    cores_per_measurement: int = 1
    needs: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        case_names = [case.name for case in self.cases]
        system_names = [system.name for system in self.systems]
        if len(set(case_names)) != len(case_names):
            raise ValueError(f"{self.name}: duplicate case names {case_names}")
        if len(set(system_names)) != len(system_names):
            raise ValueError(f"{self.name}: duplicate system names {system_names}")
        if self.reference not in system_names:
            raise ValueError(f"{self.name}: reference {self.reference!r} is not a system")
        if self.cores_per_measurement < 1:
            raise ValueError(f"{self.name}: cores_per_measurement must be at least 1")

    def case(self, name: str) -> Case:
        """The case called ``name``.

        Raises:
            KeyError: No such case.
        """
        for case in self.cases:
            if case.name == name:
                return case
        raise KeyError(f"{self.name} has no case {name!r}")

    def system(self, name: str) -> System:
        """The system called ``name``.

        Raises:
            KeyError: No such system.
        """
        for system in self.systems:
            if system.name == name:
                return system
        raise KeyError(f"{self.name} has no system {name!r}")


def measure(fn: Callable[[], object], min_time: float, *, units: int = 1) -> float:
    """Measure how many operations per second ``fn`` performs.

    First a repeat count is calibrated so that one batch of calls lasts about
    ``min_time / 5`` (calibration also warms caches up); then batches are timed
    until ``min_time`` has passed and at least three batches ran, and the fastest
    batch gives the rate (see ``BATCHES_PER_MEASUREMENT``). The cyclic GC stays on,
    since real parsing pays for it too, but it is collected before timing.

    Args:
        fn: The operation; called with no arguments, its result is ignored.
        min_time: Seconds of timed batches, calibration excluded.
        units: Operations that one call of ``fn`` performs.

    Returns:
        The highest over batches of ``units * calls / seconds``.

    Raises:
        ValueError: ``min_time`` or ``units`` is not positive.
    """
    if min_time <= 0 or units <= 0:
        raise ValueError("min_time and units must be positive")
    number = _calibrate(fn, min_time / BATCHES_PER_MEASUREMENT)
    gc.collect()
    rates: list[float] = []
    spent = 0.0
    while spent < min_time or len(rates) < MIN_BATCHES:
        elapsed = _time_batch(fn, number)
        spent += elapsed
        rates.append(number * units / elapsed)
    return max(rates)


def _calibrate(fn: Callable[[], object], target: float) -> int:
    """Find a repeat count whose batch lasts at least ``target`` seconds."""
    number = 1
    while True:
        elapsed = _time_batch(fn, number)
        if elapsed >= target:
            return number
        if elapsed * 100 < target:
            number *= 10
        else:
            # Close enough to extrapolate; overshoot by 10% so one more try suffices.
            number = max(number + 1, int(number * target * 1.1 / elapsed))


def _time_batch(fn: Callable[[], object], number: int) -> float:
    """Seconds taken by ``number`` calls of ``fn`` (never zero)."""
    calls = itertools.repeat(None, number)
    start = time.perf_counter()
    for _ in calls:
        fn()
    return max(time.perf_counter() - start, 1e-9)


# Side figures of the current measurement (see record()); the worker reads them once the
# system's run() has returned. One measurement per process, so a module dict suffices.
_SIDE_FIGURES: dict[str, float] = {}


def record(name: str, value: float) -> None:
    """Record a side figure of the current measurement, reported beside its rate.

    A rate is one number; some benchmarks have a second figure worth reporting with
    it (the peak RSS growth of a client while it streams a download). ``run.py``
    gives its median over the rounds and its maximum, under the table.

    Args:
        name: What the figure is, unit included, e.g. ``"client peak RSS growth (MiB)"``.
        value: The figure; recording a name again replaces it.
    """
    _SIDE_FIGURES[name] = float(value)


def take_recorded() -> dict[str, float]:
    """The side figures recorded since the last call, by name, in recording order.

    The worker calls it before a system runs (to start clean) and after (to report).
    """
    figures = dict(_SIDE_FIGURES)
    _SIDE_FIGURES.clear()
    return figures


def available_cores() -> list[int]:
    """The cores this process may run on, in ascending order."""
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def assign_cores(count: int, cores: Sequence[int] | None = None) -> tuple[int, ...]:
    """Choose the cores for one measurement made of ``count`` processes.

    Policy: nothing is pinned on a single-core machine (an empty tuple). Otherwise
    the highest-numbered cores go first, since core 0 takes most interrupts and
    runs the harness; each process gets a core of its own while there are enough,
    and processes share round-robin beyond that.

    Args:
        count: Processes that should each get a core (1, or 2 for server and load).
        cores: The cores to choose from; defaults to :func:`available_cores`.

    Returns:
        One core per process, ``count`` long, or ``()`` when nothing is pinned.

    Raises:
        ValueError: ``count`` is not positive.
    """
    if count < 1:
        raise ValueError("count must be at least 1")
    pool = sorted(available_cores() if cores is None else cores, reverse=True)
    if len(pool) < 2:
        return ()
    return tuple(pool[i % len(pool)] for i in range(count))


def pin(core: int | None) -> None:
    """Pin the calling process to ``core``; None (or a platform without affinity) leaves it."""
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})


def spawn_pinned(
    argv: Sequence[str],
    core: int | None,
    *,
    stdin: int | None = None,
    stdout: int | None = subprocess.PIPE,
    stderr: int | None = subprocess.PIPE,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a helper process (a server, a load generator) pinned to ``core``.

    Args:
        argv: The command line.
        core: Core to pin the child to, e.g. ``ctx.core(1)``; None leaves it unpinned.
        stdin: As for :class:`subprocess.Popen` (inherited by default).
        stdout: As for :class:`subprocess.Popen` (piped by default).
        stderr: As for :class:`subprocess.Popen` (piped by default).
        env: Environment of the child; defaults to this process's.

    Returns:
        The running child; the caller waits for it or terminates it.
    """
    process = subprocess.Popen(list(argv), stdin=stdin, stdout=stdout, stderr=stderr, env=env)
    if core is not None and hasattr(os, "sched_setaffinity"):
        # Pinned from outside right after the start: cheaper and safer than a preexec_fn,
        # and a child's first milliseconds (exec, imports) are never part of a measurement.
        try:
            os.sched_setaffinity(process.pid, {core})
        except ProcessLookupError:
            pass  # it already exited; the caller sees that from its return code
    return process


# A helper server that has not said it is ready after this long is broken, not slow.
SERVER_READY_TIMEOUT = 60.0


@contextlib.contextmanager
def serving(
    argv: Sequence[str], core: int | None, *, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run a helper server pinned to ``core`` for the duration of a ``with`` block.

    The server must print one line on its stdout once it accepts connections (its
    port, say) and nothing else there; its stderr goes to this process's stderr.
    On leaving the block it is terminated (killed if it lingers).

    Args:
        argv: The server's command line.
        core: Core to pin it to, e.g. ``ctx.core(1)``; None leaves it unpinned.
        env: Its environment; defaults to this process's.

    Yields:
        The process and its ready line, stripped.

    Raises:
        RuntimeError: The server exited, or said nothing within ``SERVER_READY_TIMEOUT``.
    """
    process = spawn_pinned(argv, core, stdin=subprocess.DEVNULL, stderr=None, env=env)
    try:
        yield process, _ready_line(process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _ready_line(process: subprocess.Popen[bytes]) -> str:
    """The first stdout line of ``process``, waiting at most ``SERVER_READY_TIMEOUT``."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(SERVER_READY_TIMEOUT):
            raise RuntimeError(f"{process.args!r} not ready after {SERVER_READY_TIMEOUT:g} s")
    line = process.stdout.readline()
    if not line:
        raise RuntimeError(f"{process.args!r} exited with status {process.wait()} before ready")
    return line.decode().strip()
