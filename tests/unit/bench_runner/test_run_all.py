"""bench/run_all.py: the RESULT lines of each bench become one table, a JSON file and a chart."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from types import ModuleType

import pytest

RUN_ALL = Path(__file__).resolve().parents[3] / "bench" / "run_all.py"


@pytest.fixture(scope="module")
def run_all() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run_all", RUN_ALL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def result_line(**fields: object) -> str:
    record = {"measure": "m", "value": 10.0, "unit": "x/s", "baseline": "b", "baseline_value": 5.0}
    return "RESULT " + json.dumps(record | {"ratio": 2.0, "goal": 1.5} | fields)


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.split("|")[1:-1]]


def test_result_lines_become_figures_and_other_lines_are_ignored(run_all: ModuleType) -> None:
    output = ["some report\n", result_line(measure="tokens", goal=None) + "\n", "RESULTS are in\n"]
    figures, problems = run_all.parse_results("token", output)
    assert problems == []
    assert [(f.bench, f.measure, f.value, f.baseline_value, f.ratio, f.goal) for f in figures] == [
        ("token", "tokens", 10.0, 5.0, 2.0, None)
    ]


def test_a_malformed_result_line_is_reported_not_dropped(run_all: ModuleType) -> None:
    figures, problems = run_all.parse_results("gateway", ["RESULT {not json", 'RESULT {"measure": "m"}'])
    assert figures == []
    assert len(problems) == 2
    assert "missing value" in problems[1] and problems[1].startswith("gateway:")


def test_the_table_shows_value_baseline_ratio_goal_and_verdict(run_all: ModuleType) -> None:
    met, _ = run_all.parse_results("token", [result_line(measure="rs256", value=3400.0, ratio=1.6)])
    below, _ = run_all.parse_results("peers", [result_line(measure="vs node", ratio=0.8)])
    table = run_all.table(met + below).splitlines()
    assert cells(table[0]) == ["bench", "measure", "value", "baseline (same run)", "ratio", "goal", ""]
    assert cells(table[2]) == ["token", "rs256", "3,400 x/s", "b: 5", "1.60", "≥ 1.5", "met"]
    assert cells(table[3])[-1] == "below"


def test_quick_run_of_a_subset_prints_the_table_and_writes_json_and_chart(tmp_path: Path) -> None:
    benches, results = tmp_path / "benches", tmp_path / "results"
    benches.mkdir()
    # Named like a real bench so that --quick passes that bench's quick arguments.
    (benches / "policy.py").write_text(
        textwrap.dedent(
            """
            import json, sys
            print("policy report")
            print("RESULT " + json.dumps({"measure": " ".join(sys.argv[1:]), "value": 2.0, "unit": "ev/s",
                  "baseline": "small", "baseline_value": 4.0, "ratio": 0.5, "goal": None}))
            """
        )
    )
    (benches / "broken.py").write_text("import sys\nprint('RESULT {}')\nsys.exit(3)\n")
    (benches / "other.py").write_text("raise SystemExit('must not run: not named')\n")
    command = [sys.executable, str(RUN_ALL), "--quick", "policy", "broken"]
    run = subprocess.run(
        [*command, "--bench-dir", str(benches), "--results-dir", str(results)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert run.returncode == 1  # a bench failed
    assert "policy report" in run.stdout
    rows = [cells(line) for line in run.stdout.splitlines() if line.startswith("| policy")]
    assert rows == [["policy", "--seconds 0.3", "2 ev/s", "small: 4", "0.50", "", ""]]
    assert "PROBLEM broken: exited with 3" in run.stdout
    assert "must not run" not in run.stdout + run.stderr
    latest = json.loads((results / "latest.json").read_text())
    assert latest["quick"] is True
    assert latest["figures"] == [
        {
            "bench": "policy",
            "measure": "--seconds 0.3",
            "value": 2.0,
            "unit": "ev/s",
            "baseline": "small",
            "baseline_value": 4.0,
            "ratio": 0.5,
            "goal": None,
        }
    ]
    assert any("missing" in problem for problem in latest["problems"])
    stamped = [p for p in results.glob("2*.json")]
    assert len(stamped) == 1 and json.loads(stamped[0].read_text()) == latest
    if importlib.util.find_spec("matplotlib") is not None:
        assert (results / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (results / "latest.png").read_bytes() == stamped[0].with_suffix(".png").read_bytes()
    else:
        assert "no chart: matplotlib is not installed" in run.stdout


def test_an_unknown_bench_name_is_refused(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(RUN_ALL),
            "nosuch",
            "--bench-dir",
            str(tmp_path),
            "--results-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert "no such bench: nosuch" in run.stderr
