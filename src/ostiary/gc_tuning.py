"""The cyclic garbage collector, set for a long-running server (``serve`` and ``gateway``).

Why: py-spy with ``--native`` on the token endpoint under load (``bench/token.py``'s
client_credentials load, one worker) put 15 % of the event loop's samples in
``gc_collect_main``, at the coroutine creations of the hot path. CPython's defaults
(``700, 10, 10``) collect the young generation every 700 net allocations: requests in flight
(64 at a time in the bench) are caught alive and promoted, so the older generations fill with
short-lived objects, and each full collection then walks every object the process holds,
about 120,000 of them after start-up (modules, SQLAlchemy's mappers, the routes), all of
which live as long as the process.

What: once start-up is done, :func:`tune_for_serving` collects, then moves every surviving
object to the permanent generation (:func:`gc.freeze`, as Instagram does for its forked
servers: those objects are never garbage and are no longer walked) and raises the young
generation's threshold so that a request's objects are mostly freed by reference counting
before a collection sees them. Cycles are still collected, only less often; the garbage a
larger young generation can hold is a few MB at most.

Measured gain (same run, ``bench/token.py`` and ``bench/gateway.py``): see the commit that
introduced this module and ``bench/`` notes; time in the collector per second of load went
from ~0.12 s to below 0.01 s in the token bench (``gc.callbacks`` timing).
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
