"""``ostiary.startup_gc``: the collector is off from :func:`pause` until the server has started
and settled, then on with the serving settings (also when the wait is cancelled)."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest

from ostiary import startup_gc
from ostiary.gc_tuning import YOUNG_THRESHOLD


@pytest.fixture(autouse=True)
def restore_gc() -> Iterator[None]:
    saved = gc.get_threshold()
    yield
    gc.enable()
    gc.unfreeze()
    gc.set_threshold(*saved)


async def test_the_collector_comes_back_once_started_and_settled() -> None:
    started = False
    startup_gc.pause()
    waiting = asyncio.create_task(startup_gc.resume_after_start(lambda: started, settle=0.01))
    await asyncio.sleep(0.12)
    assert not gc.isenabled() and not waiting.done()
    started = True
    await asyncio.wait_for(waiting, 5)
    assert gc.isenabled()
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD and gc.get_freeze_count() > 0


async def test_a_cancelled_wait_turns_the_collector_back_on() -> None:
    startup_gc.pause()
    waiting = asyncio.create_task(startup_gc.resume_after_start(lambda: False))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert gc.isenabled()
