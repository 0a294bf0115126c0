"""Start-up against a database that may not be up yet (PostgreSQL restarting with its
applications, a container started before its database): wait with backoff, then give up with
one clear line instead of a traceback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy.engine import make_url

from ostiary.db_faults import Fault, classify
from ostiary.store.db import Database

_WORTH_WAITING = (Fault.UNREACHABLE, Fault.TIMEOUT)
_FIRST_PAUSE, _LONGEST_PAUSE = 0.25, 2.0


class DatabaseNotReady(Exception):
    """The database could not be used at start-up; the message is one line for the operator."""


def safe_url(url: str) -> str:
    """``url`` without its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "<unparsable URL>"


async def wait_for_database(
    db: Database, seconds: float, on_wait: Callable[[str], None] = lambda _line: None
) -> None:
    """Return once ``db`` answers; retry an unreachable or silent PostgreSQL with growing pauses
    for up to ``seconds`` (``on_wait`` hears about the first retry). SQLite is not waited for:
    a file that cannot be opened does not fix itself."""
    deadline = time.monotonic() + seconds
    pause = _FIRST_PAUSE
    while True:
        try:
            await db.ping()
            return
        except Exception as error:
            fault = classify(error)
            left = deadline - time.monotonic()
            if db.is_sqlite or fault not in _WORTH_WAITING or left <= 0:
                raise DatabaseNotReady(describe(error, db.url, waited=seconds - max(left, 0))) from None
            if pause == _FIRST_PAUSE:
                on_wait(f"waiting up to {seconds:g} s for the database at {safe_url(db.url)} ({fault.value})")
        await asyncio.sleep(min(pause, max(left, 0.0)))
        pause = min(pause * 2, _LONGEST_PAUSE)


def describe(error: BaseException, url: str, *, waited: float = 0.0) -> str:
    """One line on why the database at ``url`` cannot be used."""
    fault = classify(error)
    reason = fault.description if fault else "the database could not be used"
    if fault is Fault.UNREACHABLE and url.startswith("sqlite"):
        reason = "the database file cannot be opened (is the data directory writable?)"
    root = error
    while getattr(root, "orig", None) is not None or root.__cause__ is not None:
        root = getattr(root, "orig", None) or root.__cause__  # type: ignore[assignment]
    detail = str(root).splitlines()[0][:200] if str(root) else type(root).__name__
    after = f", gave up after {waited:.0f} s" if waited >= 1 else ""
    return f"{reason} ({safe_url(url)}: {detail}{after})"
