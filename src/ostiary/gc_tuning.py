"""The cyclic garbage collector, set for a long-running server (``serve`` and ``gateway``).

Why: py-spy with ``--native`` on the token endpoint under ``bench/token.py``'s load (one worker)
put 15 % of the event loop's samples in ``gc_collect_main``, at the coroutine creations of the
hot path. CPython's defaults (``700, 10, 10``) collect the young generation every 700 net
allocations, so requests in flight (64 at a time in the bench) are caught alive and promoted,
and each full collection walks every object the process holds: about 120,000 after start-up
(modules, SQLAlchemy's mappers, routes), which all live as long as the process. A full
collection took 0.1-0.3 s of the loop's time on this 2-core VM (``gc.callbacks`` timing).

What: once start-up is done, :func:`tune_for_serving` collects, then moves every surviving
object to the permanent generation (:func:`gc.freeze`: never walked again) and raises the
young generation's threshold, so that a request's objects are freed by reference counting
before a collection sees them. Cycles are still collected, only less often.

Measured (``gc.callbacks`` timing in an ``ostiary serve`` worker, 2,000 client_credentials
tokens after warm-up, two runs each): without it 54-61 young and 5-6 middle collections,
8-10 µs of collector time per token (about 3 % of the worker's CPU per token), plus the full
collections above every few seconds; with it no collection at all in those 2,000 tokens.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Mapping

SERVING_ENV = "OSTIARY_SERVING_PROCESS"
"""Set by ``ostiary serve`` for its workers: the app's start-up then calls
:func:`tune_for_serving`. Apps built in tests and embedders' processes are left as they are (a
frozen object that later becomes part of a garbage cycle is never collected)."""

YOUNG_THRESHOLD = 20_000
"""Net allocations between young collections (CPython's default: 700)."""


def tune_for_serving() -> None:
    """Freeze what start-up built and raise the young generation's threshold. Idempotent."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def wanted(env: Mapping[str, str] = os.environ) -> bool:
    """Whether this process is a server started by ``ostiary serve`` (see :data:`SERVING_ENV`)."""
    return env.get(SERVING_ENV) == "1"
