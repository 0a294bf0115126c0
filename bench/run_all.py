"""Run the benchmarks, gather their figures into one table, and keep it as JSON and a PNG chart.

    python bench/run_all.py [--quick] [NAME ...]        # make bench [BENCH="token peers"] [QUICK=1]

Each bench in this folder prints its own report and, for each figure, one line

    RESULT {"measure": str, "value": float, "unit": str, "baseline": str,
            "baseline_value": float, "ratio": float, "goal": float | null}

where ``baseline`` was measured in the same run, ``ratio`` is ``value`` over it (or a median of
per-round ratios, which is why it is given rather than derived), and ``goal`` is the ratio the
figure should reach (issue 20), null when it has none. A bench that prints no RESULT line still
runs; it just has no row. This script runs the named benches (all by default, ``sign``, ``token``
and ``peers`` first), prints one table of every RESULT, and writes it to
``bench/results/<UTC time>.json`` and ``.png`` and to ``latest.json``/``latest.png`` there
(git-ignored), so runs can be compared. ``--quick`` runs each bench briefly (``QUICK_ARGS``):
a smoke run that checks the machinery, not a measurement.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
FIRST = ["sign", "token", "peers", "gateway", "directory"]
NOT_BENCHES = {"run_all"}
QUICK_ARGS: dict[str, list[str]] = {
    "sign": ["--quick"],
    "token": ["--seconds", "2", "--rounds", "1"],
    "peers": ["--quick"],
    "gateway": ["--seconds", "2"],
    "directory": ["--users", "3000", "--api-users", "200"],
    "policy": ["--seconds", "0.3"],
    "orgs": ["--orgs", "20", "--seconds", "1", "--rounds", "1", "--warm-seconds", "1"],
    "gateway_calls": ["--requests", "200"],
    "startup": ["--runs", "1"],
    "edge_token_client": ["--number", "100"],
}
PREFIX = "RESULT "
KEYS = ("measure", "value", "unit", "baseline", "baseline_value", "ratio", "goal")


@dataclass(frozen=True)
class Figure:
    bench: str
    measure: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    ratio: float
    goal: float | None

    @property
    def verdict(self) -> str:
        if self.goal is None:
            return ""
        return "met" if self.ratio >= self.goal else "below"


def parse_results(bench: str, output: Iterable[str]) -> tuple[list[Figure], list[str]]:
    """The figures in a bench's ``RESULT`` lines, and a complaint for each line that is not one."""
    figures: list[Figure] = []
    problems: list[str] = []
    for line in output:
        if not line.startswith(PREFIX):
            continue
        try:
            record = json.loads(line[len(PREFIX) :])
            missing = [key for key in KEYS if key not in record]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            goal = record["goal"]
            figures.append(
                Figure(
                    bench=bench,
                    measure=str(record["measure"]),
                    value=float(record["value"]),
                    unit=str(record["unit"]),
                    baseline=str(record["baseline"]),
                    baseline_value=float(record["baseline_value"]),
                    ratio=float(record["ratio"]),
                    goal=None if goal is None else float(goal),
                )
            )
        except (ValueError, TypeError) as exc:
            problems.append(f"{bench}: bad RESULT line ({exc}): {line.strip()[:200]}")
    return figures, problems


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def table(figures: Sequence[Figure]) -> str:
    """Markdown: readable in a terminal and pasted as is into docs/performance.md."""
    header = ["bench", "measure", "value", "baseline (same run)", "ratio", "goal", ""]
    rows = [
        [
            f.bench,
            f.measure,
            f"{_number(f.value)} {f.unit}",
            f"{f.baseline}: {_number(f.baseline_value)}",
            f"{f.ratio:.2f}" if f.ratio >= 0.1 else f"{f.ratio:.2g}",
            "" if f.goal is None else f"≥ {f.goal:g}",
            f.verdict,
        ]
        for f in figures
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus": cpus,
        "load_average": list(load),
        "python": platform.python_version(),
        "host": platform.node(),
    }


def write_results(figures: Sequence[Figure], meta: dict[str, Any], directory: Path, stamp: str) -> list[Path]:
    """``<stamp>.json`` and ``latest.json``, and the chart as ``<stamp>.png`` and ``latest.png``
    when matplotlib is installed (the ``bench`` extra). Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    document = {**meta, "figures": [asdict(f) for f in figures]}
    text = json.dumps(document, indent=2, allow_nan=True)
    written = []
    for name in (f"{stamp}.json", "latest.json"):
        (directory / name).write_text(text + "\n")
        written.append(directory / name)
    if figures and chart(figures, directory / f"{stamp}.png", title=f"Ostiary bench {stamp}"):
        (directory / "latest.png").write_bytes((directory / f"{stamp}.png").read_bytes())
        written += [directory / f"{stamp}.png", directory / "latest.png"]
    return written


def chart(figures: Sequence[Figure], path: Path, *, title: str) -> bool:
    """One horizontal bar per figure: its ratio, with its goal marked. False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no chart: matplotlib is not installed (pip install -e '.[bench]')")
        return False
    labels = [f"{f.bench}: {f.measure}\n÷ {f.baseline}" for f in figures]
    height = max(2.5, 0.55 * len(figures) + 1.2)
    fig, ax = plt.subplots(figsize=(13, height))
    positions = list(range(len(figures)))[::-1]
    colors = [
        "tab:gray" if f.goal is None else "tab:green" if f.ratio >= f.goal else "tab:red" for f in figures
    ]
    ax.barh(positions, [f.ratio for f in figures], color=colors)
    for pos, f in zip(positions, figures, strict=True):
        ax.text(f.ratio, pos, f" {f.ratio:.2f}", va="center", fontsize=8)
        if f.goal is not None:
            ax.plot([f.goal, f.goal], [pos - 0.4, pos + 0.4], color="black", linewidth=2)
    ax.set_yticks(positions, labels, fontsize=7)
    ax.set_xlabel("ratio to the baseline measured in the same run (black mark: goal)")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def bench_names(bench_dir: Path) -> list[str]:
    found = sorted(
        p.stem for p in bench_dir.glob("*.py") if p.stem not in NOT_BENCHES and not p.stem.startswith("_")
    )
    return [name for name in FIRST if name in found] + [name for name in found if name not in FIRST]


def run_bench(bench_dir: Path, name: str, quick: bool, timeout: float) -> tuple[list[Figure], list[str], int]:
    """Run one bench, echo its output as it comes, and return its figures, problems and exit code."""
    command = [sys.executable, str(bench_dir / f"{name}.py"), *(QUICK_ARGS.get(name, []) if quick else [])]
    print(f"\n=== bench/{name}.py {' '.join(command[2:])}".rstrip(), flush=True)
    lines: list[str] = []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1)
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    assert process.stdout is not None
    try:
        for line in process.stdout:
            lines.append(line)
            print(line, end="", flush=True)
        code = process.wait()
    finally:
        timer.cancel()
    figures, problems = parse_results(name, lines)
    if code != 0:
        problems.append(f"{name}: exited with {code}")
    return figures, problems, code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benches", nargs="*", help="bench names (file stems); all when none")
    parser.add_argument("--quick", action="store_true", help="each bench briefly: a smoke run")
    parser.add_argument("--bench-dir", type=Path, default=HERE, help=argparse.SUPPRESS)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per bench before it is killed")
    args = parser.parse_args(argv)
    available = bench_names(args.bench_dir)
    names = args.benches or available
    unknown = [name.removesuffix(".py") for name in names if name.removesuffix(".py") not in available]
    if unknown:
        parser.error(f"no such bench: {', '.join(unknown)} (have: {', '.join(available)})")

    started = time.time()
    meta = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "quick": args.quick}
    meta |= {"machine_before": machine()}
    figures: list[Figure] = []
    problems: list[str] = []
    for name in (n.removesuffix(".py") for n in names):
        found, complaints, _code = run_bench(args.bench_dir, name, args.quick, args.timeout)
        figures += found
        problems += complaints
    meta |= {"seconds": round(time.time() - started, 1), "machine_after": machine(), "problems": problems}

    print(
        f"\n=== {len(figures)} figures, {meta['seconds']:.0f} s{' (quick: not a measurement)' * args.quick}"
    )
    print(table(figures))
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
    for path in write_results(figures, meta, args.results_dir, stamp):
        print(f"wrote {path}")
    for problem in problems:
        print(f"PROBLEM {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
