"""Run a few server processes as one program: ``ostiary demo``'s supervisor.

Each part is a child process in its own process group (so that a terminal's Ctrl-C reaches
only the supervisor, which then stops the parts in order, and whatever a part started, such
as the org server's signing processes, is stopped with it). The supervisor:

- starts every part and calls ``on_ready`` once every part's port accepts connections;
- on SIGINT, SIGTERM or SIGHUP stops every part and returns 0;
- when a part exits on its own (a crash, or a port already taken), says which one and how on
  stderr, stops the others and returns 1.

Stopping a part is SIGTERM to it, then, after ``stop_timeout`` seconds, SIGKILL to its whole
process group; a group whose leader exited is swept with SIGKILL too, so no process outlives
the supervisor. On Linux each part also gets SIGTERM if the supervisor itself dies
(``PR_SET_PDEATHSIG``), which a ``kill -9`` of the supervisor would otherwise leave running.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import FrameType
from typing import TextIO

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Part:
    """One server: its name in messages, its command line, the port it listens on."""

    name: str
    argv: Sequence[str]
    port: int
    env: Mapping[str, str] | None = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def probe_address(host: str) -> str:
    """The address to test a part's port on: a wildcard bind is reached over the loopback."""
    wildcards = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}  # noqa: S104 - read, not bound
    return wildcards.get(host, host)


def accepts_connections(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with status {returncode}"


class Supervisor:
    def __init__(
        self,
        parts: Sequence[Part],
        *,
        host: str = "127.0.0.1",
        stop_timeout: float = 10.0,
        poll_interval: float = 0.1,
        err: TextIO | None = None,
    ) -> None:
        self.parts = list(parts)
        self.probe_host = probe_address(host)
        self.stop_timeout = stop_timeout
        self.poll_interval = poll_interval
        self.err = err or sys.stderr
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stop_signal: int | None = None

    def run(self, on_ready: Callable[[], None] = lambda: None) -> int:
        """Start the parts, watch them, stop them all; 0 after a stop signal, 1 after a failure."""
        previous = {sig: signal.signal(sig, self._request_stop) for sig in STOP_SIGNALS}
        try:
            failed = self._start_all()
            if failed is None:
                failed = self._watch(on_ready)
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return 1 if failed else 0

    def _request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signal = signum

    def _start_all(self) -> str | None:
        for part in self.parts:
            if self.stop_signal is not None:
                return None
            try:
                self.children[part.name] = subprocess.Popen(  # noqa: S603 - the demo's own commands
                    list(part.argv),
                    env=dict(part.env) if part.env is not None else None,
                    start_new_session=True,
                    preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                )
            except OSError as exc:
                self._say(f"cannot start the {part.name}: {exc}")
                return part.name
        return None

    def _watch(self, on_ready: Callable[[], None]) -> str | None:
        """Until a stop signal (None) or a part's exit (its name)."""
        waiting = {part.name: part.port for part in self.parts}
        while self.stop_signal is None:
            for part in self.parts:
                returncode = self.children[part.name].poll()
                if returncode is not None:
                    pid = self.children[part.name].pid
                    self._say(f"the {part.name} (pid {pid}) {describe_exit(returncode)}; stopping the others")
                    return part.name
            if waiting:
                waiting = {n: p for n, p in waiting.items() if not accepts_connections(self.probe_host, p)}
                if not waiting:
                    on_ready()
            time.sleep(self.poll_interval)
        return None

    def _stop_all(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout
        for name, child in self.children.items():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"the {name} (pid {child.pid}) did not stop in {self.stop_timeout:g} s; killing it")
        for child in self.children.values():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.pid, signal.SIGKILL)  # the part's group: what it started too
            child.wait()

    def _say(self, message: str) -> None:
        print(f"ostiary demo: {message}", file=self.err, flush=True)
