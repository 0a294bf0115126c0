"""No cyclic garbage collection while ``serve --memory`` starts; the serving settings after.

Why: importing the server creates about 120,000 long-lived objects (modules, SQLAlchemy's
mappers and compiled caches, routes). CPython's collector runs every 700 net allocations and
walks the young objects each time, and every tenth time the middle generation: ``gc.callbacks``
timing counted 192 young, 18 middle and 1 full collection during ``import ostiary.app`` alone,
90-150 ms of its 0.8-1.5 s on this 2-core VM (about a tenth), all of it finding next to nothing.

What: :func:`pause` turns the collector off at exec; :func:`resume_after_start` waits until the
port is open and a moment more (the first requests of a test suite come then), and then applies
:func:`ostiary.gc_tuning.tune_for_serving` (one full collection, freeze the survivors, a higher
young threshold: what ``serve`` workers do) and turns the collector back on. Reference counting
frees almost everything meanwhile; only cyclic garbage waits for that first collection.
"""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable

SETTLE_SECONDS = 1.0
"""After the port opens, how long the collector stays off (the first requests come then)."""


def pause() -> None:
    gc.disable()


def resume() -> None:
    from ostiary.gc_tuning import tune_for_serving

    tune_for_serving()
    gc.enable()


async def resume_after_start(started: Callable[[], bool], settle: float = SETTLE_SECONDS) -> None:
    """:func:`resume` once ``started()`` (the port is open) and ``settle`` seconds have passed;
    at once if the wait is cancelled (the server stopped or failed to start)."""
    try:
        while not started():  # noqa: ASYNC110 - uvicorn.Server.started is a plain flag, no event
            await asyncio.sleep(0.05)
        await asyncio.sleep(settle)
    finally:
        resume()
