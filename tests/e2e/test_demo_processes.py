"""``ostiary demo`` runs each server in its own process under one supervisor (issue 20): Ctrl-C
stops them all, and a server that dies is reported and stops the rest, with a non-zero exit."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

from tests.e2e.demo_server import demo_process
from tests.support.process_tree import descendants, still_running

PASSWORD = "Solar-Processes-12-7a"


def command_lines(pids: set[int]) -> dict[int, str]:
    lines = {}
    for pid in pids:
        try:
            lines[pid] = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
    return lines


def children(pid: int) -> dict[int, str]:
    """The supervisor's own children (each server), by pid."""
    found = command_lines(descendants(pid))
    return {
        child: line
        for child, line in found.items()
        if Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid)
    }


def test_each_server_is_a_process_and_ctrl_c_stops_them_all(tmp_path: Path) -> None:
    with demo_process(tmp_path / "data", PASSWORD) as (process, _demo):
        servers = children(process.pid)
        everything = descendants(process.pid)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    kinds = sorted(re.sub(r" --.*", "", line.split(" -m ", 1)[1]) for line in servers.values())
    assert kinds == [
        "ostiary.cli gateway",
        "ostiary.cli serve",
        "ostiary.demo_runner app",
        "ostiary.demo_runner protected-api",
        "ostiary.demo_runner upstream",
    ]
    assert len(everything) > len(servers)  # the org server's signing processes are stopped too
    assert still_running(everything) == set()


def test_a_server_that_dies_is_reported_and_stops_the_others(tmp_path: Path) -> None:
    with demo_process(tmp_path / "data", PASSWORD) as (process, _demo):
        gateway = next(pid for pid, line in children(process.pid).items() if "ostiary.cli gateway" in line)
        everything = descendants(process.pid)
        os.kill(gateway, signal.SIGKILL)
        assert process.wait(timeout=30) == 1
    log = (tmp_path / "demo.log").read_text()
    assert f"ostiary demo: the gateway (pid {gateway}) was killed by SIGKILL; stopping the others" in log
    assert still_running(everything) == set()
