"""The one in-memory cache type: size-bounded, time-limited, with a generation counter.

Caches keyed by anything a client sends (a Host header, an id in a URL, a scope list) must
not grow with what clients send: every cache is one of these, with a maximum size (least
recently used entries go first).

Invalidation and loads race: a request may read the database, a write may then commit and
invalidate, and the request would store what it read before the commit. So a load reads
:attr:`BoundedTTLCache.generation` first and stores with :meth:`BoundedTTLCache.put`, which
refuses when any invalidation happened meanwhile (:meth:`get_or_load` does both, and lets
one caller per key load while the others wait for it). Invalidating again after the writing
transaction commits is ``store.cache_events.forget_after_commit``.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedTTLCache(Generic[K, V]):
    """At most ``max_size`` entries, each valid for ``ttl`` seconds after it was stored.

    ``ttl`` is read at lookup time, so changing it applies to the entries already held."""

    def __init__(self, max_size: int, ttl: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self.max_size = max_size
        self.ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._generation = 0
        self._loading: dict[K, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def loads_in_flight(self) -> int:
        """Keys being loaded through :meth:`get_or_load` now (their locks go when done)."""
        return len(self._loading)

    @property
    def generation(self) -> int:
        """Bumped by every invalidation; read it before a load and hand it to :meth:`put`."""
        return self._generation

    def lookup(self, key: K) -> tuple[bool, V | None]:
        """``(True, value)`` for a live entry, ``(False, None)`` for none or an expired one."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        if self._clock() - entry[0] >= self.ttl:
            del self._entries[key]
            return False, None
        self._entries.move_to_end(key)
        return True, entry[1]

    def get(self, key: K) -> V | None:
        """The live value, or ``None`` (for caches that never store ``None``)."""
        return self.lookup(key)[1]

    def set(self, key: K, value: V) -> None:
        """Store unconditionally (for values that no write invalidates, or loads that cannot race)."""
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_size:
            self._entries.popitem(last=False)

    def put(self, key: K, value: V, generation: int) -> bool:
        """Store unless an invalidation happened since ``generation`` was read."""
        if generation != self._generation:
            return False
        self.set(key, value)
        return True

    async def get_or_load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The live value, or ``load()``'s result, stored unless an invalidation overtook it.

        Concurrent misses on one key wait for the first load instead of repeating it."""
        found, value = self.lookup(key)
        if found:
            return value  # type: ignore[return-value]
        async with self.loading(key):
            found, value = self.lookup(key)
            if found:
                return value  # type: ignore[return-value]
            generation = self._generation
            loaded = await load()
            self.put(key, loaded, generation)
            return loaded

    @asynccontextmanager
    async def loading(self, key: K) -> AsyncIterator[None]:
        """One load of ``key`` at a time: the lock :meth:`get_or_load` holds, for loads that store
        elsewhere or only some results (look the key up again once inside)."""
        lock, users = self._loading.get(key) or (asyncio.Lock(), 0)
        self._loading[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._loading[key]
            if users == 1:
                del self._loading[key]
            else:
                self._loading[key] = (lock, users - 1)

    def invalidate(self, key: K | None = None) -> None:
        """Forget ``key`` (every key when ``None``); loads under way will not be stored."""
        self._generation += 1
        if key is None:
            self._entries.clear()
        else:
            self._entries.pop(key, None)

    def invalidate_where(self, predicate: Callable[[K], bool]) -> None:
        """Forget every key ``predicate`` accepts; loads under way will not be stored."""
        self._generation += 1
        for key in [k for k in self._entries if predicate(k)]:
            del self._entries[key]

    def pop(self, key: K) -> None:
        self.invalidate(key)

    def clear(self) -> None:
        self.invalidate()

    def discard_where(self, predicate: Callable[[K], bool]) -> None:
        self.invalidate_where(predicate)
