"""Writing a file only its owner can read, so no reader ever sees it half written."""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path


def write_private(path: Path, text: str, *, replace: bool) -> None:
    """Write ``text`` to a new 0600 temporary file beside ``path`` (fsynced), then put it in place.

    ``replace=True`` renames it over ``path`` (the newest write wins: a file rewritten at each
    start). ``replace=False`` hard-links it to ``path`` only if ``path`` does not exist yet: when
    two processes race to create it, the first link wins and both then read that one (a key).
    The temporary file is removed either way, even when the write fails."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
