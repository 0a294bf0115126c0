"""The gateway's upstream request head (``serialize_request``), timed in this tree and another.

Run: ``.venv/bin/python bench/gateway_serialize.py [--base /path/to/other/tree]``.

The head of a proxied ``GET /planets`` with a 1 KB bearer token and the gateway's forwarding
headers, built and checked for control bytes. Each tree is timed in its own process, the two
alternating for ``--rounds`` rounds; the best µs per call of each (the machine may be shared)
and their ratio are printed, with a ``RESULT`` line.
"""

from __future__ import annotations

import os
import sys

# bench/token.py is named like the stdlib `token` module: keep this folder off the import path.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMER = """
import timeit
from ostiary.gateway.upstream import serialize_request
headers = [
    (b"user-agent", b"wrk"),
    (b"authorization", b"Bearer " + b"e" * 1000),
    (b"x-forwarded-for", b"127.0.0.1"),
    (b"x-forwarded-proto", b"http"),
    (b"x-forwarded-host", b"127.0.0.1:8081"),
]
call = lambda: serialize_request(b"GET", b"/planets", b"127.0.0.1:8082", headers, b"")
print(min(timeit.repeat(call, number=20000, repeat=7)) / 20000 * 1e6)
"""


def time_in(tree: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    out = subprocess.run([sys.executable, "-c", TIMER], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, help="another tree (e.g. a worktree of main)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    trees = {"this tree": ROOT} | ({"base": args.base.resolve()} if args.base else {})
    times: dict[str, list[float]] = {name: [] for name in trees}
    for _ in range(args.rounds):  # alternating, so that both see the same load
        for name, tree in trees.items():
            times[name].append(time_in(tree))
    best = {name: min(values) for name, values in times.items()}
    for name, micros in best.items():
        print(f"{name:10} {micros:6.2f} µs per request head")
    if "base" in best:
        ratio = best["base"] / best["this tree"]
        print(f"base / this tree: {ratio:.2f}")
        result = {
            "measure": "gateway request head, µs",
            "value": round(best["this tree"], 2),
            "unit": "µs",
            "baseline": f"serialize_request of {args.base}",
            "baseline_value": round(best["base"], 2),
            "ratio": round(ratio, 2),
            "goal": None,
        }
        print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
