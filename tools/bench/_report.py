"""Statistics and reports: median rates, median per-round ratios, the table, RESULTS.md.

A benchmark's rounds produce, per (case, system), one :class:`Outcome` per
round. The report gives per (case, system) the median rate over rounds, and
per (case, system) against the reference the median of the per-round ratios
``rate(system, round r) / rate(reference, round r)``: a ratio taken inside one
round compares two measurements made seconds apart, so it cancels slow drifts
of the machine (frequency, neighbours) that a ratio of medians would keep.

RESULTS.md holds one section per benchmark between ``<!-- bench:NAME:begin -->``
and ``<!-- bench:NAME:end -->``; a run replaces its own section and keeps the
others.

Standard library only, Python 3.10+.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _env import Machine
from harness import Benchmark

__all__ = (
    "Outcome",
    "Results",
    "Row",
    "RunInfo",
    "format_rate",
    "markdown_section",
    "summarize",
    "text_table",
    "write_section",
)

RESULTS_HEADER = """# Benchmark results

Written by `tools/bench/run.py`: each section below is replaced by the latest run of
its benchmark, the others are kept. How the figures are made: `tools/bench/README.md`.
Rates are medians over rounds; ratios are medians of per-round ratios against the
reference system (above 1 means faster than the reference).
"""


@dataclass(frozen=True)
class Outcome:
    """One measurement: a rate, or why there is none.

    Attributes:
        status: ``"ok"``, ``"unavailable"`` or ``"error"``.
        rate: Operations per second when ``status`` is ``"ok"``.
        reason: Why there is no rate, otherwise empty.
        side: Side figures the system recorded (``harness.record``), as (name, value).
    """

    status: str
    rate: float | None = None
    reason: str = ""
    side: tuple[tuple[str, float], ...] = ()


Results = dict[tuple[str, str], list[Outcome]]
"""Outcomes per (case name, system name), one per round in round order."""


@dataclass(frozen=True)
class Row:
    """The summary of one (case, system)."""

    case: str
    system: str
    median: float | None
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    rounds: int
    note: str
    missing: str = ""
    # (name, median over rounds, maximum) of each side figure, in recording order.
    side: tuple[tuple[str, float, float], ...] = ()


@dataclass(frozen=True)
class RunInfo:
    """How a run was made, for the report's header."""

    date: str
    command: str
    rounds: int
    min_time: float
    cores: tuple[int, ...]
    machine: Machine
    load: tuple[float, ...] = ()


def summarize(benchmark: Benchmark, results: Results) -> list[Row]:
    """One row per measured (case, system), in the benchmark's order."""
    rows: list[Row] = []
    for case in benchmark.cases:
        reference = results.get((case.name, benchmark.reference), [])
        for system in benchmark.systems:
            outcomes = results.get((case.name, system.name))
            if outcomes is not None:
                rows.append(_row(case.name, system.name, outcomes, reference))
    return rows


def _row(case: str, system: str, outcomes: list[Outcome], reference: list[Outcome]) -> Row:
    rates = [o.rate for o in outcomes if o.status == "ok" and o.rate is not None]
    ratios = [
        mine.rate / ref.rate
        for mine, ref in zip(outcomes, reference, strict=False)
        if mine.rate is not None and ref.rate is not None and mine.status == ref.status == "ok"
    ]
    failed = [o for o in outcomes if o.status != "ok"]
    note = ""
    if failed:
        # Several rounds usually fail for one reason: name the distinct ones once.
        reasons = list(dict.fromkeys(f"{o.status}: {o.reason}" for o in failed))
        note = f"{len(failed)}/{len(outcomes)} rounds " + "; ".join(reasons)
    figures: dict[str, list[float]] = {}
    for outcome in outcomes:
        if outcome.status == "ok":
            for name, value in outcome.side:
                figures.setdefault(name, []).append(value)
    return Row(
        case=case,
        system=system,
        median=statistics.median(rates) if rates else None,
        ratio=statistics.median(ratios) if ratios else None,
        ratio_low=min(ratios) if ratios else None,
        ratio_high=max(ratios) if ratios else None,
        rounds=len(rates),
        note=note,
        missing="" if rates else (failed[0].status if failed else "no rounds"),
        side=tuple((name, statistics.median(v), max(v)) for name, v in figures.items()),
    )


def format_rate(rate: float | None) -> str:
    """``1234567.0`` -> ``"1.23M"``; None -> ``"-"``."""
    if rate is None:
        return "-"
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if rate >= limit:
            return f"{rate / limit:.3g}{suffix}"
    return f"{rate:.3g}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def _range(row: Row) -> str:
    if row.ratio_low is None or row.ratio_high is None:
        return "-"
    return f"{row.ratio_low:.2f}-{row.ratio_high:.2f}"


def _cells(benchmark: Benchmark, rows: Sequence[Row]) -> tuple[list[str], list[list[str]]]:
    header = [
        "case",
        "system",
        f"{benchmark.unit} (median)",
        f"vs {benchmark.reference}",
        "ratio range",
        "rounds",
    ]
    body = [
        [
            row.case,
            row.system,
            format_rate(row.median) if row.median is not None else row.missing,
            _ratio(row.ratio),
            _range(row),
            str(row.rounds),
        ]
        for row in rows
    ]
    return header, body


def text_table(benchmark: Benchmark, rows: Sequence[Row]) -> str:
    """The summary as an aligned plain-text table, with the failures listed below it."""
    header, body = _cells(benchmark, rows)
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)).rstrip()
    ]
    lines.append("  ".join("-" * width for width in widths))
    previous_case = ""
    for row, cells in zip(rows, body, strict=True):
        if previous_case and row.case != previous_case:
            lines.append("")
        previous_case = row.case
        lines.append(
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
        )
    lines += _side_figures(rows)
    lines += _notes(rows)
    return "\n".join(lines)


def _side_figures(rows: Sequence[Row]) -> list[str]:
    """One line per (case, system) that recorded side figures: median over rounds, and max."""
    lines = [
        f"- {row.case} / {row.system}: "
        + "; ".join(f"{name} {median:.3g} (max {high:.3g})" for name, median, high in row.side)
        for row in rows
        if row.side
    ]
    return ["", "Side figures (median over rounds, max in brackets):", *lines] if lines else []


def _notes(rows: Sequence[Row]) -> list[str]:
    """One line per (system, failure), naming the cases it happened on."""
    cases: dict[tuple[str, str], list[str]] = {}
    for row in rows:
        if row.note:
            cases.setdefault((row.system, row.note), []).append(row.case)
    notes = [f"- {system} on {', '.join(names)}: {note}" for (system, note), names in cases.items()]
    return ["", "Not measured:", *notes] if notes else []


def markdown_section(benchmark: Benchmark, rows: Sequence[Row], info: RunInfo) -> str:
    """The benchmark's RESULTS.md section, markers included."""
    m = info.machine
    versions = ", ".join(
        f"{name} {version or 'not installed'}" for name, version in m.packages.items()
    )
    pinning = (
        "cores " + ", ".join(str(core) for core in info.cores)
        if info.cores
        else "none (single core)"
    )
    load = ", ".join(f"{value:.2f}" for value in info.load) or "unknown"
    header, body = _cells(benchmark, rows)
    lines = [
        f"<!-- bench:{benchmark.name}:begin -->",
        f"## {benchmark.name}: {benchmark.title}",
        "",
        benchmark.description,
        "",
        f"- Date: {info.date}",
        f"- Command: `{info.command}`",
        f"- Rounds: {info.rounds}, at least {info.min_time:g} s of timed batches per measurement",
        f"- Machine: nproc {m.nproc}, CPU {m.cpu_model}, pinning: {pinning}",
        f"- Load average before the run: {load} (other work on the machine widens the ranges)",
        f"- Interpreter (bench venv): {m.python}",
        f"- Packages: {versions}",
        "",
        "Cases:",
        *[f"- `{case.name}`: {case.description}" for case in benchmark.cases],
        "",
        "Systems:",
        *[f"- `{system.name}`: {system.description}" for system in benchmark.systems],
        "",
        # A unit such as "GET/s | MB/s" (two cases, two units) must not split the cell.
        "| " + " | ".join(cell.replace(" | ", " or ") for cell in header) + " |",
        "|" + "|".join(["---", "---", "--:", "--:", "--:", "--:"]) + "|",
        *["| " + " | ".join(cells) + " |" for cells in body],
        *_side_figures(rows),
        *_notes(rows),
        f"<!-- bench:{benchmark.name}:end -->",
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, name: str, section: str) -> None:
    """Put ``section`` into the RESULTS file at ``path``, replacing the old one of ``name``."""
    text = path.read_text() if path.is_file() else RESULTS_HEADER
    pattern = re.compile(
        rf"<!-- bench:{re.escape(name)}:begin -->.*?<!-- bench:{re.escape(name)}:end -->\n?",
        re.DOTALL,
    )
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)
