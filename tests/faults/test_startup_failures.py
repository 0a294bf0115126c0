"""``ostiary serve`` that cannot start (a read-only or full data directory, a database that
stays down) says why in one line on stderr and exits non-zero, instead of a long traceback."""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.e2e.servers import OSTIARY, free_port

pytestmark = pytest.mark.faults


def _serve(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [OSTIARY, "serve", "--port", str(free_port()), *args],
        env={**os.environ, "OSTIARY_DATA_DIR": str(data_dir), "OSTIARY_SIGNING_PROCESSES": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _assert_one_line_failure(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: cannot start: "), result.stderr
    assert all(word in lines[-1] for word in words), lines[-1]
    assert "Traceback" not in result.stderr + result.stdout
    assert len(lines) <= 2, result.stderr  # the failure, and at most one "waiting" line before it


@contextmanager
def _tmpfs(size: str) -> Iterator[Path]:
    """A small tmpfs of its own (needs the right to mount: root in a container)."""
    point = Path(tempfile.mkdtemp(prefix="ostiary-faults-fs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True
    )
    if mounted.returncode != 0:
        point.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)
        point.rmdir()


def test_a_read_only_data_directory_is_one_line_and_exit_1() -> None:
    with _tmpfs("4m") as point:
        (point / "data").mkdir()
        subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
        result = _serve(point / "data")
    _assert_one_line_failure(result, "Read-only file system")


def test_a_full_disk_is_one_line_and_exit_1() -> None:
    with _tmpfs("1m") as point:
        (point / "data").mkdir()
        with (point / "filler").open("wb") as filler:
            try:
                while True:
                    filler.write(bytes(65536))
                    filler.flush()
            except OSError:
                pass
        result = _serve(point / "data", OSTIARY_MASTER_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode())
    _assert_one_line_failure(result)
    assert "full" in result.stderr or "No space left" in result.stderr, result.stderr


def test_a_database_that_stays_down_is_one_line_after_the_wait(tmp_path: Path) -> None:
    url = f"postgresql://postgres:not-shown@127.0.0.1:{free_port()}/ostiary"
    result = _serve(tmp_path, "--db-wait", "1", OSTIARY_DATABASE_URL=url)
    _assert_one_line_failure(result, "not reachable", "gave up after 1 s")
    assert "not-shown" not in result.stderr
