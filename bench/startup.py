"""Start-up: wall time from exec of ``ostiary serve --memory --apply org.yaml`` to the first
client_credentials token.

Run: ``.venv/bin/python bench/startup.py [-n RUNS] [--compare SRC]``. Goals: under 1 s (issue 21),
at most 0.5 s (issue 20, goal 5).

Each run, in a fresh empty working directory with no ``OSTIARY_*`` variable but the log level:

1. exec ``ostiary serve --memory --apply org.yaml --port P`` (t = 0); the file declares one
   service app with a fixed ``client_id`` and secret, granted ``okta.users.read`` (so the
   token comes from the org server, ``/oauth2/v1/token``), and no API token (so the server
   generates one and prints it: ``token line`` is when that line is read);
2. from t = 0, ask ``/oauth2/v1/token`` for a client_credentials token every 2 ms until the
   port answers; ``first token`` is when the 200 arrives.

``python -c pass`` is the floor, measured in the same run; ``import ostiary.cli`` and
``import ostiary.app`` show the share of the start that is only imports. The runs are
interleaved, so a busy machine weighs on every figure alike; figures are medians.

``--compare SRC`` also starts the server from another source tree (``PYTHONPATH=SRC``, e.g. a
worktree of main) in the same runs and prints this tree's figures over that one's. The figure
for ``make bench`` is the ``RESULT {json}`` line.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import json
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx

OSTIARY = str(Path(sys.executable).with_name("ostiary"))
HERE_SRC = str(Path(__file__).resolve().parents[1] / "src")
PREFIX = "SSWS token: "
CLIENT_ID, CLIENT_SECRET = "0oaStartupBench", "startup-bench-secret-0123456789abcdef"
ORG_FILE = f"""\
apps:
  - label: Startup bench service
    credentials:
      oauthClient:
        client_id: {CLIENT_ID}
        client_secret: {CLIENT_SECRET}
        token_endpoint_auth_method: client_secret_basic
    settings:
      oauthClient:
        application_type: service
        grant_types: [client_credentials]
        response_types: [token]
    grants: [okta.users.read]
"""
GOAL_MS = 500.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(src: str) -> dict[str, str]:
    """No ``OSTIARY_*`` but the log level; bytecode caching on (as in an installed package)."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_") and k != "PYTHONDONTWRITEBYTECODE"
    }
    env["OSTIARY_LOG_LEVEL"] = "warning"
    env["PYTHONPATH"] = src
    return env


def time_command(args: list[str], src: str = HERE_SRC) -> float:
    start = time.perf_counter()
    subprocess.run(args, check=True, env=clean_env(src))
    return time.perf_counter() - start


def one_start(src: str) -> dict[str, float]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/oauth2/v1/token"
    form = {"grant_type": "client_credentials", "scope": "okta.users.read"}
    with tempfile.TemporaryDirectory(prefix="ostiary-startup-") as cwd:
        org_file = Path(cwd) / "org.yaml"
        org_file.write_text(ORG_FILE)
        lines: list[tuple[float, str]] = []
        client = httpx.Client(auth=(CLIENT_ID, CLIENT_SECRET), timeout=10)
        start = time.perf_counter()
        process = subprocess.Popen(
            [OSTIARY, "serve", "--memory", "--apply", str(org_file), "--port", str(port)],
            cwd=cwd,
            env=clean_env(src),
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

        def read_lines() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append((time.perf_counter() - start, line))

        reader = threading.Thread(target=read_lines, daemon=True)
        reader.start()
        try:
            while True:
                try:
                    issued = client.post(url, data=form)
                    break
                except httpx.ConnectError:
                    if process.poll() is not None:
                        raise RuntimeError("server exited") from None
                    time.sleep(0.002)
            t_token = time.perf_counter() - start
            cpu = server_cpu_seconds(process.pid)
            if issued.status_code != 200:
                raise RuntimeError(f"token endpoint: {issued.status_code} {issued.text[:200]}")
        finally:
            client.close()
            process.terminate()
            process.wait(timeout=10)
            reader.join(timeout=5)
        org_file.unlink()
        left = list(Path(cwd).iterdir())
        if left:
            raise RuntimeError(f"serve --memory wrote {left}")
    token_lines = [at for at, line in lines if line.startswith(PREFIX)]
    if not token_lines:
        raise RuntimeError("no token line on stdout (the file declares no API token)")
    return {"token line": token_lines[0], "first token": t_token, "server CPU to first token": cpu}


def server_cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used, from ``/proc`` (Linux): a
    figure a busy machine inflates far less than wall time. NaN where there is no ``/proc``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def result_line(measure: str, value_ms: float, floor_ms: float) -> str:
    return "RESULT " + json.dumps(
        {
            "measure": measure,
            "value": round(value_ms, 1),
            "unit": "ms",
            "baseline": "python -c pass",
            "baseline_value": round(floor_ms, 1),
            "ratio": round(value_ms / floor_ms, 2),
            "goal": f"<= {GOAL_MS:.0f} ms",
        },
        ensure_ascii=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", "--runs", type=int, default=7)
    parser.add_argument("--compare", metavar="SRC", help="another source tree to start in the same runs")
    args = parser.parse_args()
    trees = {"this": HERE_SRC}
    if args.compare:
        trees["compare"] = str(Path(args.compare).resolve())
    floors: list[float] = []
    imports: dict[str, dict[str, list[float]]] = {name: {"cli": [], "app": []} for name in trees}
    starts: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for src in trees.values():  # unmeasured: writes the .pyc files an installed package has
        one_start(src)
    for _ in range(args.runs):
        floors.append(time_command([sys.executable, "-c", "pass"]))
        for name, src in trees.items():
            for module in ("cli", "app"):
                imports[name][module].append(
                    time_command([sys.executable, "-c", f"import ostiary.{module}"], src)
                )
            starts[name].append(one_start(src))
    floor = statistics.median(floors)
    print(f"median of {args.runs} runs, load average {os.getloadavg()[0]:.1f}, {os.cpu_count()} CPUs")
    print(f"{'python -c pass':<48}{floor * 1000:8.0f} ms   1.0x")
    medians: dict[str, dict[str, float]] = {}
    for name, src in trees.items():
        rows = {f"import ostiary.{m}": imports[name][m] for m in ("cli", "app")}
        rows.update({key: [s[key] for s in starts[name]] for key in starts[name][0]})
        medians[name] = {key: statistics.median(values) for key, values in rows.items()}
        print(f"{name}: {src}")
        for key, value in medians[name].items():
            print(f"  {key:<46}{value * 1000:8.0f} ms {value / floor:6.1f}x")
    if "compare" in medians:
        print("this ÷ compare:")
        for key, value in medians["this"].items():
            print(f"  {key:<46}{value / medians['compare'][key]:8.2f}")
    print(f"goal: first token <= {GOAL_MS:.0f} ms (issue 20), < 1000 ms (issue 21)")
    print(
        result_line(
            "serve --memory --apply: exec to first token", medians["this"]["first token"] * 1000, floor * 1000
        )
    )


if __name__ == "__main__":
    main()
