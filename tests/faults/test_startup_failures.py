"""``ostiary serve`` that cannot start (a read-only or full data directory, a database that
stays down) says why in one line on stderr and exits non-zero, instead of a long traceback.
The three start in parallel (each ``serve`` costs seconds of start-up on a loaded machine)."""

from __future__ import annotations

import base64
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.servers import OSTIARY, free_port

pytestmark = pytest.mark.faults

HIDDEN_PASSWORD = "not-shown"


@dataclass
class Outcome:
    returncode: int
    stderr: str
    stdout: str


def _serve(data_dir: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [OSTIARY, "serve", "--port", str(free_port()), *args],
        env={**os.environ, "OSTIARY_DATA_DIR": str(data_dir), "OSTIARY_SIGNING_PROCESSES": "0", **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def _tmpfs(size: str) -> Iterator[Path | None]:
    """A small tmpfs of its own, or None where mounting is not allowed (it needs root)."""
    point = Path(tempfile.mkdtemp(prefix="ostiary-faults-fs-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)], capture_output=True
    )
    if mounted.returncode != 0:
        point.rmdir()
        yield None
        return
    try:
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], check=False)
        point.rmdir()


def _read_only(point: Path) -> Path:
    (point / "data").mkdir()
    subprocess.run(["mount", "-o", "remount,ro", str(point)], check=True)
    return point / "data"


def _full(point: Path) -> Path:
    (point / "data").mkdir()
    with (point / "filler").open("wb") as filler:
        try:
            while True:
                filler.write(bytes(65536))
                filler.flush()
        except OSError:
            pass
    return point / "data"


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome | None]]:
    master_key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    down = f"postgresql://postgres:{HIDDEN_PASSWORD}@127.0.0.1:{free_port()}/ostiary"
    with _tmpfs("4m") as read_only, _tmpfs("1m") as full:
        started = {
            "down": _serve(tmp_path_factory.mktemp("down"), "--db-wait", "1", OSTIARY_DATABASE_URL=down),
            "read-only": _serve(_read_only(read_only)) if read_only else None,
            "full": _serve(_full(full), OSTIARY_MASTER_KEY=master_key) if full else None,
        }
        results: dict[str, Outcome | None] = {}
        for name, process in started.items():
            if process is None:
                results[name] = None
                continue
            stdout, stderr = process.communicate(timeout=120)
            results[name] = Outcome(process.returncode, stderr, stdout)
        yield results


def _outcome(outcomes: dict[str, Outcome | None], name: str) -> Outcome:
    outcome = outcomes[name]
    if outcome is None:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    return outcome


def _assert_one_line_failure(result: Outcome, *words: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith("error: cannot start: "), result.stderr
    assert all(word in lines[-1] for word in words), lines[-1]
    assert "Traceback" not in result.stderr + result.stdout
    assert len(lines) <= 2, result.stderr  # the failure, and at most one "waiting" line before it


def test_a_read_only_data_directory_is_one_line_and_exit_1(outcomes: dict[str, Outcome | None]) -> None:
    _assert_one_line_failure(_outcome(outcomes, "read-only"), "Read-only file system")


def test_a_full_disk_is_one_line_and_exit_1(outcomes: dict[str, Outcome | None]) -> None:
    result = _outcome(outcomes, "full")
    _assert_one_line_failure(result)
    assert "full" in result.stderr or "No space left" in result.stderr, result.stderr


def test_a_database_that_stays_down_is_one_line_after_the_wait(outcomes: dict[str, Outcome | None]) -> None:
    result = _outcome(outcomes, "down")
    _assert_one_line_failure(result, "not reachable", "gave up after 1 s")
    assert HIDDEN_PASSWORD not in result.stderr
