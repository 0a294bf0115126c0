"""``ostiary demo``'s supervisor (issue 20): each part is a process; a stop signal stops them all,
a part that dies is reported and stops the rest, and nothing they started outlives them.

The supervisor runs in a process of its own (it installs signal handlers), over parts that
listen on a port and start a grandchild, as the org server starts its signing processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.process_tree import descendants, still_running, wait_for_descendants

DRIVER = """
import json, sys
from ostiary.demo.supervisor import Part, Supervisor
spec = json.loads(sys.argv[1])
parts = [Part(p["name"], p["argv"], p["port"]) for p in spec["parts"]]
supervisor = Supervisor(parts, stop_timeout=spec["stop_timeout"], poll_interval=0.02)
sys.exit(supervisor.run(on_ready=lambda: print("ready", flush=True)))
"""

PART = """
import signal, socket, subprocess, sys, time
port, mode = int(sys.argv[1]), sys.argv[2]
if mode == "fails":
    sys.exit(3)
if mode == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
listener = socket.socket()
listener.bind(("127.0.0.1", port))
listener.listen()
subprocess.Popen(["sleep", "120"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(120)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Supervised:
    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def part_pid(self, name: str) -> int:
        for pid in descendants(self.process.pid):
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if argv[-2:] == [name.encode(), b""]:
                return pid
        raise LookupError(name)

    def wait_until_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while "ready" not in self.out.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the parts did not all come up: {self.stderr()}")
            time.sleep(0.02)

    def finish(self, timeout: float = 30.0) -> int:
        return self.process.wait(timeout=timeout)

    def stderr(self) -> str:
        return self.err.read_text()


@contextmanager
def supervising(tmp_path: Path, modes: dict[str, str], stop_timeout: float = 10.0) -> Iterator[Supervised]:
    """The supervisor over one part per entry of ``modes``; its output goes to files, not pipes
    (a process left behind would hold a pipe open, and reading it would wait for that process)."""
    parts = []
    for name, mode in modes.items():
        port = free_port()
        parts.append(
            {"name": name, "argv": [sys.executable, "-c", PART, str(port), mode, name], "port": port}
        )
    out, err = tmp_path / "out", tmp_path / "err"
    with out.open("wb") as out_file, err.open("wb") as err_file:
        process = subprocess.Popen(
            [sys.executable, "-c", DRIVER, json.dumps({"parts": parts, "stop_timeout": stop_timeout})],
            stdout=out_file,
            stderr=err_file,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
    try:
        yield Supervised(process, out, err)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


THREE = {"org server": "serves", "gateway": "serves", "demo app": "serves"}


def test_a_part_that_dies_is_reported_and_the_others_are_stopped(tmp_path: Path) -> None:
    with supervising(tmp_path, THREE) as supervised:
        supervised.wait_until_ready()
        everything = wait_for_descendants(supervised.process.pid, 6)  # 3 parts, 3 grandchildren
        gateway = supervised.part_pid("gateway")
        os.kill(gateway, signal.SIGKILL)
        assert supervised.finish() == 1
        assert f"ostiary demo: the gateway (pid {gateway}) was killed by SIGKILL; stopping the others" in (
            supervised.stderr()
        )
        assert still_running(everything) == set()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_stops_every_part_and_what_each_started(tmp_path: Path, stop: signal.Signals) -> None:
    with supervising(tmp_path, THREE) as supervised:
        supervised.wait_until_ready()
        everything = wait_for_descendants(supervised.process.pid, 6)
        supervised.process.send_signal(stop)
        assert supervised.finish() == 0
        assert still_running(everything) == set()
        assert supervised.stderr() == ""


def test_a_part_that_cannot_start_is_reported_and_stops_the_others(tmp_path: Path) -> None:
    with supervising(tmp_path, {"org server": "serves", "gateway": "fails"}) as supervised:
        assert supervised.finish() == 1
        assert "the gateway (pid " in (err := supervised.stderr())
        assert ") exited with status 3; stopping the others" in err
        assert descendants(supervised.process.pid) == set()


def test_a_part_that_ignores_sigterm_is_killed_after_the_stop_timeout(tmp_path: Path) -> None:
    with supervising(tmp_path, {"org server": "serves", "gateway": "stubborn"}, stop_timeout=1) as supervised:
        supervised.wait_until_ready()
        everything = wait_for_descendants(supervised.process.pid, 4)
        gateway = supervised.part_pid("gateway")
        supervised.process.send_signal(signal.SIGINT)
        assert supervised.finish() == 0
        assert f"the gateway (pid {gateway}) did not stop in 1 s; killing it" in supervised.stderr()
        assert still_running(everything) == set()


def test_the_parts_stop_when_the_supervisor_is_killed(tmp_path: Path) -> None:
    with supervising(tmp_path, THREE) as supervised:
        supervised.wait_until_ready()
        parts = {supervised.part_pid(name) for name in THREE}
        supervised.process.kill()
        supervised.finish()
        assert still_running(parts) == set()
