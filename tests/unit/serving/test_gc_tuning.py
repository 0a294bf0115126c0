"""``ostiary.gc_tuning``: only processes started by ``ostiary serve`` (and the gateway's main) are
tuned, and tuning freezes what start-up built and raises the young threshold."""

from __future__ import annotations

import gc

from ostiary.gc_tuning import SERVING_ENV, YOUNG_THRESHOLD, tune_for_serving, wanted


def test_only_serving_processes_ask_for_it() -> None:
    assert wanted({SERVING_ENV: "1"})
    assert not wanted({})
    assert not wanted({SERVING_ENV: "0"})


def test_tuning_freezes_start_up_objects_and_raises_the_young_threshold() -> None:
    saved = gc.get_threshold()
    try:
        tune_for_serving()
        assert gc.get_freeze_count() > 0
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *saved[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)
