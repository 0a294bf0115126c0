"""bounded_cache.BoundedTTLCache, the one cache type: size bound, TTL, generations (a load
overtaken by an invalidation is not kept) and single-flight loads."""

from __future__ import annotations

import asyncio

import pytest

from ostiary.bounded_cache import BoundedTTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_least_recently_used_entry_goes_first_at_the_bound() -> None:
    cache: BoundedTTLCache[str, int] = BoundedTTLCache(2, 10.0)
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.set("c", 3)
    assert len(cache) == 2
    assert cache.lookup("b") == (False, None)
    assert cache.get("a") == 1 and cache.get("c") == 3


def test_entries_expire_after_the_ttl_and_a_changed_ttl_applies_to_them() -> None:
    clock = Clock()
    cache: BoundedTTLCache[str, int] = BoundedTTLCache(8, 10.0, clock=clock)
    cache.set("a", 1)
    clock.now += 9.9
    assert cache.get("a") == 1
    cache.ttl = 5.0
    assert cache.lookup("a") == (False, None)
    assert len(cache) == 0


def test_none_is_a_value_that_lookup_tells_apart_from_a_miss() -> None:
    cache: BoundedTTLCache[str, int | None] = BoundedTTLCache(8, 10.0)
    cache.set("unknown", None)
    assert cache.lookup("unknown") == (True, None)
    assert cache.lookup("other") == (False, None)


@pytest.mark.parametrize(
    "invalidate",
    [
        lambda cache: cache.invalidate("other"),
        lambda cache: cache.invalidate(),
        lambda cache: cache.invalidate_where(lambda key: key == "nothing"),
    ],
)
def test_a_value_read_before_an_invalidation_is_not_stored(invalidate) -> None:  # type: ignore[no-untyped-def]
    cache: BoundedTTLCache[str, int] = BoundedTTLCache(8, 10.0)
    generation = cache.generation
    invalidate(cache)  # a write committed while the value was being read
    assert cache.put("a", 1, generation) is False
    assert cache.lookup("a") == (False, None)
    assert cache.put("a", 1, cache.generation) is True
    assert cache.get("a") == 1


def test_invalidate_where_forgets_only_the_matching_keys() -> None:
    cache: BoundedTTLCache[tuple[str, str], int] = BoundedTTLCache(8, 10.0)
    cache.set(("org1", "a"), 1)
    cache.set(("org1", "b"), 2)
    cache.set(("org2", "a"), 3)
    cache.invalidate_where(lambda key: key[0] == "org1")
    assert len(cache) == 1 and cache.get(("org2", "a")) == 3


async def test_concurrent_misses_share_one_load() -> None:
    cache: BoundedTTLCache[str, int] = BoundedTTLCache(8, 10.0)
    release = asyncio.Event()
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        await release.wait()
        return 7

    waiting = [asyncio.create_task(cache.get_or_load("k", load)) for _ in range(5)]
    while loads == 0:
        await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiting) == [7] * 5
    assert loads == 1
    assert cache.get("k") == 7
    assert cache.loads_in_flight == 0  # no lock left behind per key


async def test_a_load_overtaken_by_an_invalidation_is_returned_but_not_kept() -> None:
    cache: BoundedTTLCache[str, int] = BoundedTTLCache(8, 10.0)

    async def load() -> int:
        cache.invalidate("k")
        return 1

    assert await cache.get_or_load("k", load) == 1
    assert cache.lookup("k") == (False, None)


async def test_a_failed_load_stores_nothing_and_leaves_no_lock() -> None:
    cache: BoundedTTLCache[str, int] = BoundedTTLCache(8, 10.0)

    async def load() -> int:
        raise RuntimeError("the database is away")

    with pytest.raises(RuntimeError):
        await cache.get_or_load("k", load)
    assert len(cache) == 0 and cache.loads_in_flight == 0
