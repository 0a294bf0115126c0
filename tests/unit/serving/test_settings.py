"""Numeric OSTIARY_* variables: read when whole numbers, refused with a message naming the
variable otherwise (and `ostiary serve` stops with that message, not a traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ostiary.settings import SIGNING_PROCESSES_ENV, SettingsError, load_settings


def test_whole_numbers_are_read_and_unset_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIGNING_PROCESSES_ENV, raising=False)
    monkeypatch.setenv("OSTIARY_MAX_BODY_BYTES", " 2048 ")
    settings = load_settings()
    assert (settings.signing_processes, settings.max_body_bytes) == (0, 2048)
    monkeypatch.setenv(SIGNING_PROCESSES_ENV, "3")
    monkeypatch.setenv("OSTIARY_MAX_BODY_BYTES", "")
    settings = load_settings()
    assert (settings.signing_processes, settings.max_body_bytes) == (3, 1024 * 1024)


@pytest.mark.parametrize("variable", [SIGNING_PROCESSES_ENV, "OSTIARY_MAX_BODY_BYTES"])
@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "٣"])
def test_anything_else_is_refused_by_name(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_serve_stops_with_the_message(tmp_path: Path) -> None:
    ostiary = Path(sys.executable).with_name("ostiary")
    result = subprocess.run(
        [str(ostiary), "serve", "--port", "1"],
        env={**os.environ, "OSTIARY_DATA_DIR": str(tmp_path), SIGNING_PROCESSES_ENV: "two"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert f"error: {SIGNING_PROCESSES_ENV} must be a whole number" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "ostiary.db").exists()  # stopped before touching anything
