"""Run every benchmark in this folder, one after the other (each prints its own baseline and ratio)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = ["sign.py", "token.py", "gateway.py", "directory.py"]


def main() -> int:
    here = Path(__file__).parent
    failed = 0
    others = [p.name for p in sorted(here.glob("*.py")) if p.name not in [*BENCHES, "run_all.py"]]
    for name in BENCHES + others:
        print(f"\n=== bench/{name}", flush=True)
        failed += subprocess.run([sys.executable, str(here / name)], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
