"""Resetting a test org between tests: the pytest plugin's snapshot restore against starting a
fresh org from the same file (what a test suite would do without a reset).

Run: ``.venv/bin/python bench/org_reset.py [-n RESETS] [--starts N]``.

In one run, on ``examples/pytest-sample/org.yaml`` over plain http:

- ``python -c pass``: the floor of any process start;
- ``fresh org``: ``ostiary.testing.start_org`` (``serve --memory --testing --apply``, waiting
  for ``/healthz``, then the snapshot that also makes every server's signing keys), median of N;
- ``reset``: ``OstiaryOrg.reset()`` (one HTTP call: the SQLite backup API copies the snapshot
  over the live database, caches dropped), median of RESETS, after a write each time.

Prints the ratio fresh org / reset.
"""

from __future__ import annotations

import os
import sys

sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import argparse
import statistics
import subprocess
import time
from pathlib import Path

from ostiary.testing import start_org

ORG_FILE = Path(__file__).resolve().parents[1] / "examples" / "pytest-sample" / "org.yaml"


def _python_floor() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=30, help="resets")
    parser.add_argument("--starts", type=int, default=3, help="fresh orgs")
    args = parser.parse_args()

    floor = statistics.median(_python_floor() for _ in range(5))
    starts, resets = [], []
    for _ in range(args.starts):
        started = time.perf_counter()
        org = start_org(ORG_FILE)
        starts.append(time.perf_counter() - started)
        try:
            for i in range(args.n):
                org.api("POST", "/api/v1/groups", {"profile": {"name": f"bench{i}"}})
                started = time.perf_counter()
                org.reset()
                resets.append(time.perf_counter() - started)
        finally:
            org.stop()
    fresh, reset = statistics.median(starts), statistics.median(resets)
    print(f"python -c pass   {floor * 1000:8.1f} ms")
    print(f"fresh org        {fresh * 1000:8.1f} ms  (median of {len(starts)})")
    print(f"reset            {reset * 1000:8.1f} ms  (median of {len(resets)})")
    print(f"ratio fresh/reset {fresh / reset:7.0f}x")


if __name__ == "__main__":
    main()
