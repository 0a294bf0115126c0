"""The user context of tokens, cached: the user, their groups, their app profile and
assignment, and the org's attributes, as :class:`~ostiary.domain.tokens.storage.TokenUsers`
reads them for code redemption, the refresh grant, userinfo and introspection.

Why: read through the ORM on every redemption, these four to five statements (each a thread
hop on SQLite, a round trip on PostgreSQL) made a code redemption cost about 12 times the CPU
of a client_credentials token (``docs/performance.md``, "Authorization code redemption").

Invalidation: every write of a table these are read from announces the ``directory`` cache
event with its org (``store.directory_events``, one session hook, so no write site can forget
it). The writing process forgets the org's entries at once and again when the transaction
ends; the other processes when the event reaches them at commit (PostgreSQL ``NOTIFY``; the
cache event log, polled every 0.5 s, on SQLite). A load that an invalidation overtakes is not
stored (generations). So a cached ``ACTIVE`` never outlives a suspension, deactivation,
lockout or removal from a group or an app beyond the event's delivery. Without events (their
connection lost) entries live :data:`TTL` seconds, as the other caches' short TTLs; while
events arrive, ``domain.caches.FOLLOWING_TTL`` (the runtime's ``follow_cache_events``), and a
lost event connection clears everything when it comes back.

Misses are not cached (a user that does not exist, or not in this org): a user created later
is read then. Everything else keyed by a user id belongs to a user that existed when it was
read; ids are generated and never reused.
"""

from __future__ import annotations

import copy
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Final, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.bounded_cache import BoundedTTLCache
from ostiary.domain.authz.expressions import GroupRef
from ostiary.domain.caches import caches_of
from ostiary.domain.tokens.token_user import TokenUser
from ostiary.domain.tokens.user_context import SessionTokenUsers

MAX_ENTRIES: Final = 50_000
"""Entries, each one of a user's five facts (about 1 KB each with a profile): ~10,000 users' contexts."""
TTL: Final = 5.0
"""Seconds an entry lives while this process does not receive other processes' cache events
(as ``domain.caches.UNREVOKED_TTL``); with them, ``FOLLOWING_TTL``."""

T = TypeVar("T")


class UserContextCache:
    """``(kind, org_id, …)`` → a user's fact, forgotten by org (:meth:`invalidate`).

    Each entry carries the generation of its org when it was loaded; forgetting an org bumps
    that generation (one dict write, however many entries the org has), so its entries stop
    answering at once and are replaced or pushed out later."""

    def __init__(self, max_entries: int = MAX_ENTRIES, ttl: float = TTL) -> None:
        self.entries: BoundedTTLCache[tuple[str, ...], tuple[int, Any]] = BoundedTTLCache(max_entries, ttl)
        self._orgs: dict[str, int] = {}

    def lookup(self, key: tuple[str, ...]) -> tuple[bool, Any]:
        found, entry = self.entries.lookup(key)
        if not found or entry is None or entry[0] != self._orgs.get(key[1], 0):
            return False, None
        return True, entry[1]

    async def get_or_load(
        self,
        key: tuple[str, ...],
        load: Callable[[], Awaitable[T]],
        *,
        keep: Callable[[T], bool] | None = None,
    ) -> T:
        """The live value, or ``load()``'s, stored (when ``keep`` accepts it) unless ``key``'s
        org or the whole cache was invalidated meanwhile."""
        found, value = self.lookup(key)
        if found:
            return value  # type: ignore[no-any-return]
        org_generation = self._orgs.get(key[1], 0)
        generation = self.entries.generation
        loaded = await load()
        if (keep is None or keep(loaded)) and org_generation == self._orgs.get(key[1], 0):
            self.entries.put(key, (org_generation, loaded), generation)
        return loaded

    def invalidate(self, org_id: str | None = None) -> None:
        """Forget ``org_id``'s entries (every org's when ``None``)."""
        if org_id is None:
            self.entries.invalidate()
        else:
            self._orgs[org_id] = self._orgs.get(org_id, 0) + 1

    def clear(self) -> None:
        self.invalidate()


def _detached(user: TokenUser) -> TokenUser:
    """A copy that shares no mutable state with the ORM row it was read from."""
    return replace(user, profile=copy.deepcopy(dict(user.profile)))


class CachedTokenUsers:
    """:class:`~ostiary.domain.tokens.storage.TokenUsers` with :class:`UserContextCache` in
    front of :class:`~ostiary.domain.tokens.user_context.SessionTokenUsers`. On a warm cache
    no session is used (a lazy session is then never created)."""

    def __init__(self, session: AsyncSession, cache: UserContextCache) -> None:
        self.rows = SessionTokenUsers(session)
        self.cache = cache

    async def user(self, org_id: str, user_id: str) -> TokenUser | None:
        async def load() -> TokenUser | None:
            found = await self.rows.user(org_id, user_id)
            return _detached(found) if found is not None else None

        return await self.cache.get_or_load(("user", org_id, user_id), load, keep=lambda u: u is not None)

    async def groups(self, org_id: str, user_id: str) -> list[GroupRef]:
        async def load() -> tuple[GroupRef, ...]:
            return tuple(await self.rows.groups(org_id, user_id))

        return list(await self.cache.get_or_load(("groups", org_id, user_id), load))

    async def app_profile(self, org_id: str, app_id: str, user_id: str) -> dict[str, Any]:
        async def load() -> dict[str, Any]:
            return copy.deepcopy(await self.rows.app_profile(org_id, app_id, user_id))

        return copy.deepcopy(await self.cache.get_or_load(("app_profile", org_id, app_id, user_id), load))

    async def org_attributes(self, org_id: str) -> dict[str, Any]:
        async def load() -> dict[str, Any]:
            return dict(await self.rows.org_attributes(org_id))

        return dict(await self.cache.get_or_load(("org", org_id), load))

    async def is_assigned(self, org_id: str, app_id: str, user_id: str) -> bool:
        return await self.cache.get_or_load(
            ("assigned", org_id, app_id, user_id), lambda: self.rows.is_assigned(org_id, app_id, user_id)
        )


def token_users(session: AsyncSession) -> CachedTokenUsers:
    """The cached user reads over ``session``, with its runtime's cache (a database no runtime
    owns gets a throwaway one: no caching)."""
    return CachedTokenUsers(session, caches_of(session).user_contexts)
