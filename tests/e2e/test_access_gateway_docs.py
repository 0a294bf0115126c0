"""docs/access-gateway.md's "From zero" runs as written: its shell block, on free ports, in an
empty directory, with the project's ``ostiary`` and Python first on ``PATH``; the legacy app
sees the signed-in login and the assertion verifies against the gateway's JWKS."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

from tests.e2e.servers import free_port

DOC = Path(__file__).resolve().parents[2] / "docs" / "access-gateway.md"


def from_zero_script() -> str:
    section = DOC.read_text().split("## From zero", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)\n```", section, re.S)
    assert match is not None, "docs/access-gateway.md lost its From zero shell block"
    script = match.group(1)
    ports = "ORG_PORT=8080 GW_PORT=8090 APP_PORT=9000"
    assert ports in script
    return script.replace(ports, f"ORG_PORT={free_port()} GW_PORT={free_port()} APP_PORT={free_port()}")


def test_from_zero_runs_as_written(tmp_path: Path) -> None:
    (tmp_path / "from_zero.sh").write_text("set -e\n" + from_zero_script() + "\n")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")},
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    process = subprocess.Popen(
        ["bash", "from_zero.sh"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the org, the gateway and the echo app stay in its group
    )
    try:
        output, _ = process.communicate(timeout=180)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    assert process.returncode == 0, output
    assert '"x-remote-user": "ada@example.com"' in output.lower()
    assert "admin@example.com" not in output
    assert "ada@example.com ['Everyone', 'Staff']" in output
