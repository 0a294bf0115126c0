"""`ostiary serve --memory` as a test starts it: the SSWS token it prints on stdout."""

from __future__ import annotations

import subprocess
import threading

PREFIX = "SSWS token: "


def read_token(process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    """The token line from the server's stdout (read on a thread so a silent server cannot hang the test)."""
    found: list[str] = []
    done = threading.Event()

    def reader() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith(PREFIX):
                found.append(line[len(PREFIX) :].strip())
                break
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    if not done.wait(timeout) or not found:
        raise AssertionError("no token line on stdout")
    return found[0]
