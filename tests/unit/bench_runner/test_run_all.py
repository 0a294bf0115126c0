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
            "goal_text": "",
            "verdict": "",
            "issue_goal": None,
        }
    ]
    assert {g["status"] for g in latest["goals"]} == {"not selected"}  # neither bench measures one
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


def test_a_failed_bench_s_problem_quotes_its_last_line_of_output(tmp_path: Path) -> None:
    (tmp_path / "policy.py").write_text("import sys\nprint('report')\nsys.exit('database is locked')\n")
    run = subprocess.run(
        [
            sys.executable,
            str(RUN_ALL),
            "policy",
            "--bench-dir",
            str(tmp_path),
            "--results-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert "PROBLEM policy: exited with 1: database is locked" in run.stdout


@pytest.mark.parametrize(
    ("goal", "value", "ratio", "baseline_value", "text", "verdict"),
    [
        (1.5, 10.0, 1.6, 5.0, "≥ 1.5", "met"),
        (1.5, 10.0, 1.4, 5.0, "≥ 1.5", "below"),
        ("<= 1 ms added", 0.8, 3.0, 2.0, "≤ 1 ms added", "met"),
        ("<= 500 ms", 650.0, 20.0, 30.0, "≤ 500 ms", "below"),
        (">= 1,000 users/s", 1200.0, 0.5, 2400.0, "≥ 1,000 users/s", "met"),
        (">= 1000 users/s", 120.0, 0.5, 240.0, "≥ 1,000 users/s", "below"),
        ("no growth", 2.5, None, 1.0, "no growth (≤ baseline + 2 MB)", "met"),
        ("no growth", 3.5, None, 1.0, "no growth (≤ baseline + 2 MB)", "below"),
        ("no growth", 1.5, None, -3.0, "no growth (≤ baseline + 2 MB)", "met"),  # the baseline shrank
        (1.1, 10.0, 1.0996, 9.1, "≥ 1.1", "below"),  # shown as 1.100, not as a 1.10 that is below
        ("about as fast", 1.0, 1.0, 1.0, "about as fast", ""),  # not understood: shown, not judged
        (None, 1.0, 1.0, 1.0, "", ""),
    ],
)
def test_a_goal_bounds_the_ratio_when_a_number_and_the_value_when_a_bound(
    run_all: ModuleType,
    goal: object,
    value: float,
    ratio: float | None,
    baseline_value: float,
    text: str,
    verdict: str,
) -> None:
    line = result_line(measure="m", value=value, ratio=ratio, baseline_value=baseline_value, goal=goal)
    (figure,), problems = run_all.parse_results("policy", [line])
    assert problems == []
    assert (figure.goal_text, figure.verdict) == (text, verdict)
    row = cells(run_all.table([figure]).splitlines()[2])
    assert row[-2:] == [text, verdict]
    assert row[4] == ("-" if ratio is None else "1.100" if ratio == 1.0996 else f"{ratio:.2f}")


def test_a_goal_that_is_neither_a_number_nor_a_string_is_a_bad_line(run_all: ModuleType) -> None:
    figures, problems = run_all.parse_results("token", [result_line(goal=[1.5])])
    assert figures == [] and "goal [1.5]" in problems[0]


# One RESULT line per issue 20 goal, as the benches print them (measure and baseline verbatim).
# A bench that renames a row must update the pattern in run_all.GOALS and the sample here.
ROWS_OF_EACH_GOAL = {
    "tokens: client_credentials RS256 ÷ openssl speed rsa2048 (1 core)": [
        ("token", "client_credentials RS256, org AS", "openssl speed rsa2048 sign/s, 1 core"),
        (
            "token_flows",
            "client_credentials RS256 (org AS), capacity",
            "openssl speed rsa2048 sign/s, 1 core",
        ),
        ("peers", "client_credentials RS256, serve --workers 1", "openssl speed rsa2048 sign/s, 1 core"),
    ],
    "tokens: client_credentials RS256 ÷ node-oidc-provider 8.8.1": [
        ("peers", "client_credentials RS256, serve --workers 1", "node-oidc-provider 8.8.1, 1 process"),
    ],
    "tokens: ES256 ÷ RS256": [
        ("token", "client_credentials ES256, custom AS", "the RS256 tokens/s above"),
        ("token_flows", "client_credentials ES256 (custom AS), capacity", "RS256 capacity"),
    ],
    "tokens: custom AS, 10 policies x 10 rules + 2 EL claims ÷ plain": [
        (
            "token_flows",
            "custom AS 10x10 policies/rules + 2 EL claims, capacity",
            "custom AS 1 policy x 1 rule",
        ),
    ],
    "tokens: authorization code redemption ÷ client_credentials": [
        (
            "token_flows",
            "authorization_code redemption (openid: 2 signatures), capacity",
            "client_credentials RS256",
        ),
    ],
    "gateway ÷ upstream called directly": [
        ("gateway", "GET /planets through the gateway", "upstream called directly"),
        ("gateway_goals", "gateway / upstream direct", "solar-system API called directly"),
    ],
    "gateway ÷ HAProxy jwt_verify, 1 thread": [
        ("gateway_goals", "gateway / HAProxy jwt_verify", "HAProxy 2.6 jwt_verify, 1 thread"),
        ("gateway_goals", "gateway / HAProxy jwt_verify, per CPU", "HAProxy 2.6 jwt_verify"),
    ],
    "gateway: added p99 latency on a token-cache hit": [
        ("gateway", "added p99, 1 connection", "upstream p99 ms, 1 connection"),
        ("gateway_goals", "gateway added p99 latency, token-cache hit", "upstream direct p99, 1 connection"),
    ],
    "gateway: 2 processes ÷ 1": [("gateway_goals", "2 gateway processes / 1", "one gateway process")],
    "introspection ÷ raw RS256 verify, 1 thread": [
        ("verify_paths", "introspection (RS256 access token), capacity", "raw RS256 verify/s, 1 thread"),
    ],
    "JWKS ÷ hello world (/healthz) of the same server": [
        ("verify_paths", "JWKS keys (org AS), capacity", "/healthz (same server)"),
    ],
    "directory: search=profile.login sw p95 at 1M users, PostgreSQL": [
        (
            "directory_scale",
            'directory search=profile.login sw "…" p95 at 1,000,000 users (postgres)',
            "GET /readyz p95 ms",
        ),
        (
            "directory",
            '[postgres] search=profile.login sw "..." p95 at 100,000 users',
            "raw SELECT page p95 ms",
        ),
    ],
    "directory: users created/s on PostgreSQL": [
        (
            "directory_scale",
            "directory create users/s without password (postgres)",
            "raw INSERT+COMMIT rows/s, 8 connections",
        ),
        ("directory", "[postgres] create users via API, in process", "raw INSERT rows/s"),
    ],
    "start: serve --memory, exec to first token": [
        ("startup", "serve --memory --apply: exec to first token", "python -c pass"),
    ],
    "size: one worker's RSS idle": [
        ("footprint", "serve --workers 1 (SQLite): RSS idle", "hello-world Starlette on uvicorn, same run"),
    ],
    "size: one worker's RSS under token load": [
        ("footprint", "serve --memory: RSS under token load", "hello-world Starlette on uvicorn, same run"),
    ],
    "size: RSS growth over 100k token requests": [
        (
            "footprint",
            "serve --memory: RSS growth over 100000 token requests",
            "hello-world Starlette, same run",
        ),
    ],
    "scale-out: CPU per token, 2 serve processes ÷ 1, one PostgreSQL": [
        ("scale_out", "2 serve processes on one PostgreSQL: CPU per token", "1 process, same run"),
    ],
    "scale-out: database transactions per client_credentials token (warm cache)": [
        ("scale_out", "database transactions per client_credentials token (2 processes)", "1 process"),
    ],
}
NOT_GOALS = [  # rows that look like a goal's but are not one
    ("peers", "client_credentials RS256, serve --workers 1", "openssl speed -elapsed rsa2048 sign/s"),
    ("peers", "node-oidc-provider 8.8.1 client_credentials RS256", "openssl speed rsa2048 sign/s, 1 core"),
    ("directory_scale", "directory create users/s with password (postgres)", "argon2 hashes/s (2 threads)"),
    ("directory", "[sqlite] create users via API, in process", "raw INSERT rows/s"),
    ("directory", '[sqlite] search=profile.login sw "..." p95 at 100,000 users', "raw SELECT page p95 ms"),
    ("gateway_goals", "gateway / before", "gateway of main"),
    ("orgs", "client_credentials RS256 spread over 1000 orgs", "all to one org"),
]


def figures_of(run_all: ModuleType, rows: list[tuple[str, str, str]], **fields: object) -> list[object]:
    figures = []
    for bench, measure, baseline in rows:
        found, problems = run_all.parse_results(
            bench, [result_line(measure=measure, baseline=baseline, **fields)]
        )
        assert problems == []
        figures += found
    return figures


def test_every_issue_goal_is_found_in_the_rows_its_benches_print(run_all: ModuleType) -> None:
    assert [goal.name for goal in run_all.GOALS] == list(ROWS_OF_EACH_GOAL)
    for name, rows in ROWS_OF_EACH_GOAL.items():
        for figure in figures_of(run_all, rows):
            assert figure.issue_goal is not None and figure.issue_goal.name == name, figure
    for figure in figures_of(run_all, NOT_GOALS):
        assert figure.issue_goal is None, figure


def test_an_issue_goal_judges_its_rows_whatever_goal_the_bench_printed(run_all: ModuleType) -> None:
    rows = ROWS_OF_EACH_GOAL["directory: search=profile.login sw p95 at 1M users, PostgreSQL"][:1]
    fast, slow = (figures_of(run_all, rows, value=v, ratio=9.0, goal=50.0)[0] for v in (30.0, 80.0))
    assert (fast.goal_text, fast.verdict, slow.verdict) == ("≤ 50 ms", "met", "below")
    rows = ROWS_OF_EACH_GOAL["directory: users created/s on PostgreSQL"][:1]
    (creates,) = figures_of(run_all, rows, value=120.0, ratio=0.5, goal=None)
    assert (creates.goal_text, creates.verdict) == ("≥ 1,000 users/s", "below")


def every_bench_ran(run_all: ModuleType) -> dict[str, int]:
    return {bench: 0 for goal in run_all.GOALS for bench in goal.benches}


ENVIRON = {"OSTIARY_TEST_POSTGRES_URL": "postgresql+asyncpg://db/test"}


def test_a_run_with_every_goal_measured_lists_none_missing(run_all: ModuleType) -> None:
    figures = [f for rows in ROWS_OF_EACH_GOAL.values() for f in figures_of(run_all, rows[:1])]
    goals = run_all.assess(figures, every_bench_ran(run_all), ENVIRON)
    assert [s.status for s in goals if s.status not in ("met", "below")] == []
    assert not any(s.problem for s in goals)
    assert run_all.summary(goals)[1:] == []
    assert len(run_all.table(figures, goals).splitlines()) == 2 + len(figures)


def test_goals_without_rows_say_why_and_only_a_lost_row_is_a_problem_of_its_own(
    run_all: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        run_all.shutil, "which", lambda name: None if name == "haproxy" else f"/usr/bin/{name}"
    )
    met = figures_of(run_all, ROWS_OF_EACH_GOAL["tokens: ES256 ÷ RS256"], ratio=6.0)
    mixed = figures_of(run_all, ROWS_OF_EACH_GOAL["gateway ÷ upstream called directly"][:1], ratio=0.5)
    mixed += figures_of(run_all, ROWS_OF_EACH_GOAL["gateway ÷ upstream called directly"][1:], ratio=0.8)
    ran = {"token": 0, "token_flows": 0, "gateway": 0, "gateway_goals": 0, "scale_out": 0}
    ran |= {"directory": 0, "directory_scale": 0, "startup": 1, "verify_paths": 0}
    goals = {s.goal.name: s for s in run_all.assess(met + mixed, ran, environ={})}

    expected = {
        "tokens: ES256 ÷ RS256": ("met", False),
        "gateway ÷ upstream called directly": ("partly met (1 of 2 rows)", False),
        "tokens: client_credentials RS256 ÷ node-oidc-provider 8.8.1": ("not selected", False),
        "directory: users created/s on PostgreSQL": ("not run (needs OSTIARY_TEST_POSTGRES_URL)", False),
        "scale-out: CPU per token, 2 serve processes ÷ 1, one PostgreSQL": (
            "not run (needs OSTIARY_TEST_POSTGRES_URL)",
            False,
        ),
        "gateway ÷ HAProxy jwt_verify, 1 thread": ("not run (needs haproxy)", False),
        "start: serve --memory, exec to first token": ("missing: startup exited with 1", False),
        "introspection ÷ raw RS256 verify, 1 thread": ("missing: no row from verify_paths", True),
        "gateway: 2 processes ÷ 1": ("missing: no row from gateway_goals", True),
    }
    assert {name: (goals[name].status, goals[name].problem) for name in expected} == expected

    table = run_all.table(met + mixed, list(goals.values()))
    rows = {cells(line)[1]: cells(line) for line in table.splitlines()[2:]}
    assert rows["directory: users created/s on PostgreSQL"] == [
        "directory_scale/directory",
        "directory: users created/s on PostgreSQL",
        "-",
        "-",
        "-",
        "≥ 1,000 users/s",
        "not run (needs OSTIARY_TEST_POSTGRES_URL)",
    ]
    assert rows["start: serve --memory, exec to first token"][-1] == "missing: startup exited with 1"
    assert "tokens: client_credentials RS256 ÷ node-oidc-provider 8.8.1" not in rows  # not selected
    assert [cells(line)[-1] for line in table.splitlines()[2:5]] == ["met", "met", "below"]
    lines = run_all.summary(list(goals.values()))
    assert lines[0].startswith(f"issue 20 goals ({len(run_all.GOALS)}): ")
    assert "  missing: startup exited with 1: start: serve --memory, exec to first token" in lines


def test_every_bench_has_quick_arguments_and_every_goal_a_bench(run_all: ModuleType) -> None:
    benches = set(run_all.bench_names(RUN_ALL.parent))
    assert benches == set(run_all.QUICK_ARGS)  # a new bench needs a short smoke run for QUICK=1
    assert {bench for goal in run_all.GOALS for bench in goal.benches} <= benches
    assert set(run_all.FIRST) <= benches


@pytest.mark.parametrize(
    ("goal", "value", "ratio", "baseline_value", "expected"),
    [
        (1.5, 10.0, 0.75, 5.0, 0.5),  # ratio ÷ goal
        ("<= 50 ms", 100.0, 9.0, 5.0, 0.5),  # bound ÷ value
        ("<= 1 ms", -3.0, 9.0, 5.0, 10.0),  # at or below 0: capped
        (">= 1000 users/s", 250.0, 0.5, 500.0, 0.25),  # value ÷ bound
        ("no growth", 4.0, None, 2.0, 1.0),  # (baseline + 2) ÷ value
    ],
)
def test_the_chart_puts_every_goal_at_1(
    run_all: ModuleType,
    goal: object,
    value: float,
    ratio: float | None,
    baseline_value: float,
    expected: float,
) -> None:
    line = result_line(value=value, ratio=ratio, baseline_value=baseline_value, goal=goal)
    (figure,), _ = run_all.parse_results("policy", [line])
    assert run_all.attainment(figure) == pytest.approx(expected)


def test_a_number_not_measured_is_null_in_the_json_record(run_all: ModuleType) -> None:
    rows = ROWS_OF_EACH_GOAL["size: RSS growth over 100k token requests"]
    (figure,) = figures_of(run_all, rows, value=0.5, ratio=None, baseline_value=0.2, goal="no growth")
    record = figure.record()
    assert record["ratio"] is None and record["baseline_value"] == 0.2
    assert (record["verdict"], record["issue_goal"]) == ("met", "size: RSS growth over 100k token requests")
    assert json.loads(json.dumps(record, allow_nan=False)) == record
