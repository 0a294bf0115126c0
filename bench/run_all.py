"""Run the benchmarks, gather their figures into one table, and keep it as JSON and a PNG chart.

    python bench/run_all.py [--quick] [NAME ...]        # make bench [BENCH="token peers"] [QUICK=1]

Each bench in this folder prints its own report and, for each figure, one line

    RESULT {"measure": str, "value": float, "unit": str, "baseline": str,
            "baseline_value": float, "ratio": float | null, "goal": float | str | null}

where ``baseline`` was measured in the same run and ``ratio`` is ``value`` over it (or a median
of per-round ratios, which is why it is given rather than derived). ``goal`` says what the
figure should reach: a number is a floor for the ratio (``1.5``: at least 1.5 times the baseline);
a string bounds the value itself (``"<= 50 ms"``, ``">= 1000 users/s"``), or is ``"no growth"``
(the value, a growth, at most the baseline's growth + ``GROWTH_SLACK``); null: no goal.

Issue 20's goals are listed here too (``GOALS``): each names the benches that measure it and
the rows that do, and its bound overrides the row's own ``goal``. So each row of the table is
marked ``met`` or ``below``, and each goal that no row measured is listed after it, as a row
too: ``not run (needs OSTIARY_TEST_POSTGRES_URL)`` when its bench needs what this machine lacks,
``missing`` otherwise (a ``PROBLEM``: the bench failed, or ran without printing its row).

This script runs the named benches (all by default, in ``FIRST``'s order), echoes their output,
prints the table, and writes it to ``bench/results/<UTC time>.json`` and ``.png`` and to
``latest.json``/``latest.png`` there (git-ignored), so runs can be compared. ``--quick`` runs
each bench briefly (``QUICK_ARGS``): a smoke run that checks the machinery, not a measurement.
It exits 1 when there was a ``PROBLEM`` (a bench failed, a row was malformed or missing).
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import json
import math
import platform
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS_DIR = HERE / "results"
POSTGRES = "OSTIARY_TEST_POSTGRES_URL"
FIRST = [
    "sign",
    "token",
    "token_flows",
    "peers",
    "gateway",
    "gateway_goals",
    "verify_paths",
    "directory",
    "directory_scale",
    "startup",
    "footprint",
    "scale_out",
]
NOT_BENCHES = {"run_all"}
QUICK_ARGS: dict[str, list[str]] = {  # every bench has an entry (a unit test checks)
    "sign": ["--quick"],
    "token": ["--seconds", "2", "--rounds", "1"],
    "token_flows": ["--seconds", "1", "--rounds", "1"],
    "peers": ["--quick"],
    "gateway": ["--seconds", "2"],
    "gateway_goals": ["--seconds", "1", "--rounds", "1"],
    "verify_paths": ["--seconds", "1", "--rounds", "1"],
    "directory": ["--users", "3000", "--api-users", "200"],
    "directory_scale": ["--users", "20000", "--requests", "20", "--creates", "200"],
    "startup": ["--runs", "1"],
    "footprint": ["--requests", "5000", "--trace-requests", "1000"],
    "scale_out": ["--seconds", "1", "--rounds", "1"],
    "policy": ["--seconds", "0.3"],
    "orgs": ["--orgs", "20", "--seconds", "1", "--rounds", "1", "--warm-seconds", "1"],
    "gateway_calls": ["--requests", "200"],
    "gateway_serialize": ["--rounds", "1"],
    "token_calls": ["--requests", "100"],
    "org_reset": ["-n", "3", "--starts", "1"],
    "edge_token_client": ["--number", "100"],
    "serve_calls": ["--requests", "200", "--rounds", "1"],
}
PREFIX = "RESULT "
KEYS = ("measure", "value", "unit", "baseline", "baseline_value", "ratio", "goal")
GROWTH_SLACK = 2.0
"""A "no growth" goal allows the baseline's own growth plus this much (in the row's unit, MB):
resident memory moves by a megabyte or two with allocator arenas and caches warming up, while a
leak over 100k requests grows with the request count."""


@dataclass(frozen=True)
class Check:
    """What a goal asks of a figure: its ``ratio`` or its ``value`` ``>=`` or ``<=`` a bound, or
    ``growth``: its value at most the baseline's (when positive) plus the bound."""

    on: str
    op: str
    bound: float
    unit: str = ""

    @property
    def text(self) -> str:
        if self.on == "growth":
            return f"no growth (≤ baseline + {self.bound:g} {self.unit})".replace(" )", ")")
        sign = "≥" if self.op == ">=" else "≤"
        bound = f"{self.bound:,.0f}" if self.bound >= 1000 else f"{self.bound:g}"
        return f"{sign} {bound} {self.unit}".rstrip() if self.on == "value" else f"{sign} {bound}"

    def verdict(self, figure: Figure) -> str:
        """``met``, ``below``, or ``""`` when the figure is not a number (nothing was measured)."""
        if self.on == "growth":
            measured, bound = figure.value, max(figure.baseline_value, 0.0) + self.bound
            if math.isnan(figure.baseline_value):
                bound = self.bound
        else:
            measured, bound = (figure.ratio if self.on == "ratio" else figure.value), self.bound
        if math.isnan(measured):
            return ""
        return "met" if (measured >= bound if self.op == ">=" else measured <= bound) else "below"


_BOUND = re.compile(r"^\s*(<=|>=|≤|≥)\s*([0-9][0-9,_]*(?:\.[0-9]+)?)\s*(.*?)\s*$")


def parse_goal(goal: float | str | None) -> Check | None:
    """A row's or an issue goal's ``goal`` as a check; None when there is none or it is not
    understood (the row then shows the text and no verdict)."""
    if goal is None:
        return None
    if isinstance(goal, int | float):
        return None if math.isnan(goal) else Check("ratio", ">=", float(goal))
    if goal.strip().lower() == "no growth":
        return Check("growth", "<=", GROWTH_SLACK, "MB")
    match = _BOUND.match(goal)
    if match is None:
        return None
    op = {"≤": "<=", "≥": ">="}.get(match[1], match[1])
    return Check("value", op, float(match[2].replace(",", "").replace("_", "")), match[3])


@dataclass(frozen=True)
class Goal:
    """One of issue 20's goals: the benches that measure it, the rows that are it (``pattern``,
    searched in ``"<measure> ÷ <baseline>"``), its bound, and what its benches need to run it
    (environment variables, by their upper-case names, or commands on PATH)."""

    name: str
    benches: tuple[str, ...]
    pattern: str
    goal: float | str
    needs: tuple[str, ...] = ()

    @property
    def check(self) -> Check:
        check = parse_goal(self.goal)
        assert check is not None, self.goal
        return check

    def matches(self, figure: Figure) -> bool:
        return figure.bench in self.benches and re.search(self.pattern, figure.label) is not None

    def lacking(self, environ: Mapping[str, str]) -> list[str]:
        """What this machine lacks of ``needs``."""
        return [
            need
            for need in self.needs
            if not (environ.get(need) if need.isupper() else shutil.which(need))  # env var or command
        ]


TOKENS = ("token", "token_flows", "peers")
GOALS: tuple[Goal, ...] = (
    Goal("tokens: client_credentials RS256 ÷ openssl speed rsa2048 (1 core)", TOKENS,
         r"^client_credentials RS256.* ÷ openssl speed rsa2048", 1.5),
    Goal("tokens: client_credentials RS256 ÷ node-oidc-provider 8.8.1", ("peers",),
         r"^client_credentials RS256.* ÷ node-oidc-provider", 1.5, ("npm", "node")),
    Goal("tokens: ES256 ÷ RS256", ("token", "token_flows"), r"^client_credentials ES256", 5.0),
    Goal("tokens: custom AS, 10 policies x 10 rules + 2 EL claims ÷ plain", ("token_flows",),
         r"policies/rules \+ 2 EL claims", 0.8),
    Goal("tokens: authorization code redemption ÷ client_credentials", ("token_flows",),
         r"^authorization_code redemption", 0.7),
    Goal("gateway ÷ upstream called directly", ("gateway", "gateway_goals"),
         r"through the gateway ÷ upstream called directly|^gateway / upstream direct", 0.7),
    Goal("gateway ÷ HAProxy jwt_verify, 1 thread", ("gateway_goals",), r"^gateway / HAProxy jwt_verify",
         0.7, ("haproxy",)),
    Goal("gateway: added p99 latency on a token-cache hit", ("gateway", "gateway_goals"), r"added p99",
         "<= 1 ms"),
    Goal("gateway: 2 processes ÷ 1", ("gateway_goals",), r"^2 gateway processes / 1", 1.6),
    Goal("introspection ÷ raw RS256 verify, 1 thread", ("verify_paths",), r"^introspection", 0.3),
    Goal("JWKS ÷ hello world (/healthz) of the same server", ("verify_paths",), r"^JWKS", 0.8),
    Goal("directory: search=profile.login sw p95 at 1M users, PostgreSQL", ("directory_scale", "directory"),
         r"(?=.*profile\.login sw)(?=.*p95)(?=.*postgres)", "<= 50 ms", (POSTGRES,)),
    Goal("directory: users created/s on PostgreSQL", ("directory_scale", "directory"),
         r"^(?!.*with password)(?=.*create users)(?=.*postgres)", ">= 1000 users/s", (POSTGRES,)),
    Goal("start: serve --memory, exec to first token", ("startup",), r"first token", "<= 500 ms"),
    Goal("size: one worker's RSS idle", ("footprint",), r"RSS idle", "<= 100 MB"),
    Goal("size: one worker's RSS under token load", ("footprint",), r"RSS under token load", "<= 150 MB"),
    Goal("size: RSS growth over 100k token requests", ("footprint",), r"RSS growth", "no growth"),
    Goal("scale-out: CPU per token, 2 serve processes ÷ 1, one PostgreSQL", ("scale_out",),
         r"^2 serve processes.*CPU per token", 0.9, (POSTGRES,)),
    Goal("scale-out: database transactions per client_credentials token (warm cache)", ("scale_out",),
         r"database transactions per", "<= 0.01 transactions/token", (POSTGRES,)),
)  # fmt: skip


@dataclass(frozen=True)
class Figure:
    bench: str
    measure: str
    value: float
    unit: str
    baseline: str
    baseline_value: float
    ratio: float
    goal: float | str | None

    @property
    def label(self) -> str:
        return f"{self.measure} ÷ {self.baseline}"

    @property
    def issue_goal(self) -> Goal | None:
        return next((goal for goal in GOALS if goal.matches(self)), None)

    @property
    def check(self) -> Check | None:
        """The issue goal's check when the row is one, else the row's own."""
        goal = self.issue_goal
        return goal.check if goal is not None else parse_goal(self.goal)

    @property
    def goal_text(self) -> str:
        check = self.check
        if check is not None:
            return check.text
        return "" if self.goal is None else str(self.goal)

    @property
    def verdict(self) -> str:
        check = self.check
        return "" if check is None else check.verdict(self)

    def record(self) -> dict[str, Any]:
        """For the JSON file: the fields (null for a number not measured), the goal, the verdict."""
        goal = self.issue_goal
        fields = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in asdict(self).items()}
        extra = {"goal_text": self.goal_text, "verdict": self.verdict}
        return fields | extra | {"issue_goal": goal.name if goal else None}


@dataclass
class GoalStatus:
    goal: Goal
    figures: list[Figure] = field(default_factory=list)
    status: str = ""
    problem: bool = False

    def record(self) -> dict[str, Any]:
        return {"goal": self.goal.name, "status": self.status, "rows": len(self.figures)}


def _float(value: Any) -> float:
    return math.nan if value is None else float(value)


def parse_results(bench: str, output: Iterable[str]) -> tuple[list[Figure], list[str]]:
    """The figures in a bench's ``RESULT`` lines, and a complaint for each line that is not one."""
    figures: list[Figure] = []
    problems: list[str] = []
    for line in output:
        if not line.startswith(PREFIX):
            continue
        try:
            record = json.loads(line[len(PREFIX) :])
            if not isinstance(record, dict):
                raise ValueError("not an object")
            missing = [key for key in KEYS if key not in record]
            if missing:
                raise ValueError(f"missing {', '.join(missing)}")
            goal = record["goal"]
            if goal is not None and not isinstance(goal, int | float | str):
                raise ValueError(f"goal {goal!r} is not a number, a string or null")
            figures.append(
                Figure(
                    bench=bench,
                    measure=str(record["measure"]),
                    value=float(record["value"]),
                    unit=str(record["unit"]),
                    baseline=str(record["baseline"]),
                    baseline_value=_float(record["baseline_value"]),
                    ratio=_float(record["ratio"]),
                    goal=goal if isinstance(goal, str) or goal is None else float(goal),
                )
            )
        except (ValueError, TypeError) as exc:
            problems.append(f"{bench}: bad RESULT line ({exc}): {line.strip()[:200]}")
    return figures, problems


def assess(
    figures: Sequence[Figure],
    ran: Mapping[str, int],
    environ: Mapping[str, str] = os.environ,
) -> list[GoalStatus]:
    """Each issue goal's status in a run: its rows' verdicts, or why it has none. ``ran`` maps the
    benches that ran to their exit codes. A goal whose benches ran without failing and printed
    no row of it is a ``problem``: the machinery broke (a renamed measure, a lost line)."""
    statuses = []
    for goal in GOALS:
        status = GoalStatus(goal, [f for f in figures if goal.matches(f)])
        verdicts = [f.verdict for f in status.figures]
        ran_here = [bench for bench in goal.benches if bench in ran]
        failed = [bench for bench in ran_here if ran[bench] != 0]
        lacking = goal.lacking(environ)
        if status.figures:
            met = verdicts.count("met")
            if met == len(verdicts):
                status.status = "met"
            elif met == 0:
                status.status = "below"
            else:
                status.status = f"partly met ({met} of {len(verdicts)} rows)"
        elif not ran_here:
            status.status = "not selected"
        elif lacking:
            status.status = f"not run (needs {', '.join(lacking)})"
        elif failed:  # a PROBLEM already, as the bench's failure
            status.status = "missing: " + ", ".join(f"{b} exited with {ran[b]}" for b in failed)
        else:
            status.status = f"missing: no row from {', '.join(ran_here)}"
            status.problem = True
        statuses.append(status)
    return statuses


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _ratio(value: float, bound: float | None = None) -> str:
    """Two decimals (two digits below 0.1), three when two would round up to ``bound``."""
    if math.isnan(value):
        return "-"
    if bound is not None and value < bound <= round(value, 2):
        return f"{value:.3f}"
    return f"{value:.2f}" if abs(value) >= 0.1 else f"{value:.2g}"


def _figure_ratio(figure: Figure) -> str:
    check = figure.check
    return _ratio(figure.ratio, check.bound if check is not None and check.on == "ratio" else None)


def table(figures: Sequence[Figure], goals: Sequence[GoalStatus] = ()) -> str:
    """Markdown: readable in a terminal and pasted as is into docs/performance.md. After the
    figures, one row per issue goal that was meant to run here and has none."""
    header = ["bench", "measure", "value", "baseline (same run)", "ratio", "goal", ""]
    rows = [
        [
            f.bench,
            f.measure,
            f"{_number(f.value)} {f.unit}",
            f"{f.baseline}: {_number(f.baseline_value)}",
            _figure_ratio(f),
            f.goal_text,
            f.verdict,
        ]
        for f in figures
    ]
    rows += [
        ["/".join(s.goal.benches), s.goal.name, "-", "-", "-", s.goal.check.text, s.status]
        for s in goals
        if not s.figures and s.status != "not selected"
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)) + " |"

    return "\n".join([line(header), line(["-" * w for w in widths]), *(line(row) for row in rows)])


def summary(goals: Sequence[GoalStatus]) -> list[str]:
    """One line counting the goals by status, then one line per goal without a row."""
    counts: dict[str, int] = {}
    for s in goals:
        key = s.status.split(" (")[0].split(":")[0]
        counts[key] = counts.get(key, 0) + 1
    lines = [f"issue 20 goals ({len(goals)}): " + ", ".join(f"{n} {key}" for key, n in counts.items())]
    lines += [f"  {s.status}: {s.goal.name}" for s in goals if not s.figures and s.status != "not selected"]
    return lines


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpus": cpus,
        "load_average": list(load),
        "python": platform.python_version(),
        "host": platform.node(),
    }


def write_results(
    figures: Sequence[Figure],
    meta: dict[str, Any],
    directory: Path,
    stamp: str,
    goals: Sequence[GoalStatus] = (),
) -> list[Path]:
    """``<stamp>.json`` and ``latest.json``, and the chart as ``<stamp>.png`` and ``latest.png``
    when matplotlib is installed (the ``bench`` extra). Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    document = {**meta, "figures": [f.record() for f in figures], "goals": [s.record() for s in goals]}
    text = json.dumps(document, indent=2, ensure_ascii=False)
    written = []
    for name in (f"{stamp}.json", "latest.json"):
        (directory / name).write_text(text + "\n")
        written.append(directory / name)
    if figures and chart(figures, directory / f"{stamp}.png", title=f"Ostiary bench {stamp}"):
        (directory / "latest.png").write_bytes((directory / f"{stamp}.png").read_bytes())
        written += [directory / f"{stamp}.png", directory / "latest.png"]
    return written


def attainment(figure: Figure) -> float:
    """How far a judged figure is from its goal, as one number: 1 is the goal exactly, above 1
    met (ratio ÷ goal for a floor on the ratio, value ÷ bound for a floor on the value, bound ÷
    value for a ceiling, capped at 10 when the value is at or below 0). NaN without a goal."""
    check = figure.check
    if check is None:
        return math.nan
    if check.on == "ratio":
        return figure.ratio / check.bound
    if check.on == "growth":
        bound = check.bound + (0.0 if math.isnan(figure.baseline_value) else max(figure.baseline_value, 0.0))
    else:
        bound = check.bound
    if check.op == ">=":
        return figure.value / bound
    return 10.0 if figure.value <= 0 else min(bound / figure.value, 10.0)


def chart(figures: Sequence[Figure], path: Path, *, title: str) -> bool:
    """Two panels of horizontal bars: the figures with a goal, each as its :func:`attainment`
    (log scale, the goal at 1; green met, red below), then the others as their ratio to their
    baseline. False without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("no chart: matplotlib is not installed (pip install -e '.[bench]')")
        return False
    judged = [f for f in figures if f.check is not None and not math.isnan(attainment(f))]
    others = [f for f in figures if f not in judged]
    panels = [group for group in (judged, others) if group]
    fig, axes = plt.subplots(
        len(panels),
        1,
        figsize=(13, max(2.5, 0.5 * len(figures) + 1.2 * len(panels))),
        gridspec_kw={"height_ratios": [len(group) for group in panels]},
        squeeze=False,
    )
    for ax, group in zip(axes[:, 0], panels, strict=True):
        positions = list(range(len(group)))[::-1]
        if group is judged:
            values = [min(max(attainment(f), 0.01), 10.0) for f in group]
            colors = ["tab:green" if f.verdict == "met" else "tab:red" for f in group]
            texts = [
                f" {_ratio(f.ratio) if f.check.on == 'ratio' else _number(f.value) + ' ' + f.unit}"
                for f in group
            ]
            labels = [f"{f.bench}: {f.measure}\n÷ {f.baseline}; goal {f.goal_text}" for f in group]
            ax.set_xscale("log")
            ax.set_xlim(0.01, 10)
            ax.axvline(1.0, color="black", linewidth=1.5)
            ax.set_xlabel("figure ÷ goal (ratio ÷ goal; goal ÷ value for an upper bound): 1 is the goal")
        else:
            values = [0.0 if math.isnan(f.ratio) else f.ratio for f in group]
            colors = ["tab:gray"] * len(group)
            texts = [f" {_ratio(f.ratio)}" for f in group]
            labels = [f"{f.bench}: {f.measure}\n÷ {f.baseline}" for f in group]
            ax.set_xlabel("no goal: ratio to the baseline measured in the same run")
        left = 0.01 if group is judged else 0.0  # a log scale has no 0
        ax.barh(positions, [v - left for v in values], left=left, color=colors)
        for pos, value, text in zip(positions, values, texts, strict=True):
            ax.text(value, pos, text, va="center", fontsize=8)
        ax.set_yticks(positions, labels, fontsize=7)
    axes[0, 0].set_title(title)
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
    """Run one bench, echo its output (stderr included) as it comes, and return its figures,
    problems and exit code. A failure's problem quotes the bench's last line of output."""
    command = [sys.executable, str(bench_dir / f"{name}.py"), *(QUICK_ARGS.get(name, []) if quick else [])]
    print(f"\n=== bench/{name}.py {' '.join(command[2:])}".rstrip(), flush=True)
    lines: list[str] = []
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    )
    killed = threading.Event()

    def kill() -> None:
        killed.set()
        process.kill()

    timer = threading.Timer(timeout, kill)
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
        last = next((ln.strip() for ln in reversed(lines) if ln.strip() and not ln.startswith(PREFIX)), "")
        why = f"killed after {timeout:g} s" if killed.is_set() else last[:300]
        problems.append(f"{name}: exited with {code}" + (f": {why}" if why else ""))
    return figures, problems, code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("benches", nargs="*", help="bench names (file stems); all when none")
    parser.add_argument("--quick", action="store_true", help="each bench briefly: a smoke run")
    parser.add_argument("--bench-dir", type=Path, default=HERE, help=argparse.SUPPRESS)
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per bench before it is killed")
    args = parser.parse_args(argv)
    available = bench_names(args.bench_dir)
    names = [name.removesuffix(".py") for name in args.benches] or available
    unknown = [name for name in names if name not in available]
    if unknown:
        parser.error(f"no such bench: {', '.join(unknown)} (have: {', '.join(available)})")

    started = time.time()
    meta = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)), "quick": args.quick}
    meta |= {"machine_before": machine(), "postgres": bool(os.environ.get(POSTGRES))}
    figures: list[Figure] = []
    problems: list[str] = []
    ran: dict[str, int] = {}
    for name in names:
        found, complaints, ran[name] = run_bench(args.bench_dir, name, args.quick, args.timeout)
        figures += found
        problems += complaints
    goals = assess(figures, ran)
    problems += [f"goal {s.goal.name}: {s.status}" for s in goals if s.problem]
    meta |= {"seconds": round(time.time() - started, 1), "machine_after": machine(), "problems": problems}

    print(
        f"\n=== {len(figures)} figures, {meta['seconds']:.0f} s{' (quick: not a measurement)' * args.quick}"
    )
    print(table(figures, goals))
    print()
    for line in summary(goals):
        print(line)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(started))
    for path in write_results(figures, meta, args.results_dir, stamp, goals):
        print(f"wrote {path}")
    for problem in problems:
        print(f"PROBLEM {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
