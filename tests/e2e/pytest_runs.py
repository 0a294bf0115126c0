"""Running pytest on a project of its own, as its user would, with the ostiary plugin loaded."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

PLUGIN = "ostiary.testing.pytest_plugin"


def plugin_args() -> list[str]:
    """Nothing when the ``pytest11`` entry point is installed (``make setup``: pytest loads the
    plugin by itself); otherwise ``-p`` names it (a checkout run without reinstalling)."""
    installed = any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", PLUGIN]


def run_pytest(project: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *plugin_args(), *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
