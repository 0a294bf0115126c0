"""The ``directory`` cache event: announced by one session hook whenever a transaction writes
what a user's token context is made of, instead of at each write site.

A token for a user depends on the user (status, login, profile, verified email, the times
of its last update and status change), the groups they are in (direct, through group rules,
Everyone), their app assignments (direct, with the app profile, and through groups) and the
org (``org.*`` in claims). ``domain.tokens.user_context_cache`` keeps those in memory, so a
cached ``ACTIVE`` must go as soon as a suspension, a deactivation, a lockout or a removal from
a group or an app commits, whichever code path wrote it: the admin API, sign-in, group rules,
directory sync, an org file, the console. Announcing at every write site would be easy to get
incomplete as write sites are added; a hook on the session sees every write:

- ``after_flush``: the ORM objects of :data:`TABLES` that a flush inserted, updated or deleted;
- ``do_orm_execute``: a Core/bulk ``INSERT``, ``UPDATE`` or ``DELETE`` on one of them sent
  through the session (``update(User).where(...).values(status=...)``).

Either announces ``directory`` with the row's ``org_id`` (a bulk statement, whose rows are not
known here, announces it with no key: every org) through ``store.cache_events.announce``,
which sends it to the other processes when the transaction commits (``pg_notify`` on
PostgreSQL, the cache event log on SQLite) and never for a rolled-back one; and forgets the
org's entries in this process's cache now and again at commit or rollback
(``cache_events.forget_after_commit``), the cache being the one the runtime shared under
:data:`USER_CONTEXT_CACHE`. Rows deleted by the database itself (``ON DELETE CASCADE``)
follow a delete of a parent row in :data:`TABLES` (a user, a group, an org), which announces.

The same hooks announce ``api_tokens`` (no key) when a stored API token is updated or deleted
(a revocation, a new name or network, an expiry extension), for the cache of authenticated
tokens (``domain.directory.api_tokens``): a revoked token stops working in every process
as soon as the event arrives. A user token's admin is checked on every request anyway.

Not announced, because no cached value depends on them: a new user (nothing is cached for a
user before it exists: misses are not cached), and a change of only
:data:`USER_COLUMNS_NOT_CACHED` (sign-in bookkeeping: ``last_login``, ``failed_logins``, the
password); a lockout changes ``status`` too, which announces. Writes that bypass the session
(``psql``, another program) are not seen; the cache's TTL bounds them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from sqlalchemy import Delete, Insert, Update, event, inspect
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction
from sqlalchemy.sql.elements import TextClause

from ostiary.store.cache_events import announce, forget_after_commit
from ostiary.store.db import shared

DIRECTORY: Final = "directory"
"""The cache event kind (key: an org id, or none for every org)."""
USER_CONTEXT_CACHE: Final = "ostiary.user_contexts"
"""The name the runtime shares its user context cache under (``Database.share``)."""
API_TOKENS: Final = "api_tokens"
"""The cache event kind announced when a stored API token changes or goes (no key)."""
API_TOKEN_CACHE: Final = "ostiary.api_tokens"
"""The name the runtime shares its cache of authenticated API tokens under."""
API_TOKEN_TABLE: Final = "api_tokens"

TABLES: Final = frozenset(
    {
        "users",
        "groups",
        "group_memberships",
        "group_rule_members",
        "app_user_assignments",
        "app_group_assignments",
        "orgs",
    }
)
"""The tables a user's token context is read from (``store.repositories.user_context``, the
user row, the org row); ``group_rule_members`` records the memberships group rules gave."""
USER_COLUMNS_NOT_CACHED: Final = frozenset(
    {
        "last_login",
        "failed_logins",
        "password_hash",
        "password_changed",
        "recovery_question",
        "transitioning_to_status",
    }
)
"""``users`` columns no token context reads: updating only these announces nothing (every
successful or failed sign-in writes some of them)."""
_EVERY_ORG: Final = object()


def _changed_columns(obj: Any) -> set[str]:
    state = inspect(obj)
    return {attr.key for attr in state.attrs if attr.history.has_changes()}


def _org_of(obj: Any) -> str | None:
    """The org an object of :data:`TABLES` belongs to (an org row is its own)."""
    if obj.__tablename__ == "orgs":
        return str(obj.id)
    org_id = getattr(obj, "org_id", None)
    return str(org_id) if org_id is not None else None


def _touched_orgs(session: Session, dirty: Iterable[Any]) -> set[Any]:
    """The orgs whose user contexts this flush changes (:data:`_EVERY_ORG` for an unknown one);
    ``dirty`` is ``session.dirty``, computed once per flush by :func:`_after_flush`."""
    orgs: set[Any] = set()
    for obj in session.new:
        table = getattr(obj, "__tablename__", None)
        if table in TABLES and table != "users":
            orgs.add(_org_of(obj) or _EVERY_ORG)
    for obj in session.deleted:
        if getattr(obj, "__tablename__", None) in TABLES:
            orgs.add(_org_of(obj) or _EVERY_ORG)
    for obj in dirty:
        table = getattr(obj, "__tablename__", None)
        if table not in TABLES:
            continue
        changed = _changed_columns(obj)
        if table == "users":
            changed -= USER_COLUMNS_NOT_CACHED
        if changed:
            orgs.add(_org_of(obj) or _EVERY_ORG)
    return orgs


def announce_directory(session: Session, org_id: str | None) -> None:
    """``org_id``'s user contexts (every org's: None) change in ``session``'s transaction."""
    if org_id is None:
        announce(session, DIRECTORY)
    else:
        announce(session, DIRECTORY, org_id)
    cache = shared(session, USER_CONTEXT_CACHE)
    if cache is not None:
        forget_after_commit(session, cache, org_id)


def announce_api_tokens(session: Session) -> None:
    """A stored API token changes or goes in ``session``'s transaction: every process forgets
    every token it authenticated (changes are rare: a revocation, a rename, an hourly expiry
    extension), at once here and at commit elsewhere."""
    announce(session, API_TOKENS)
    cache = shared(session, API_TOKEN_CACHE)
    if cache is not None:
        forget_after_commit(session, cache, None)


def _api_token_changed(dirty: Iterable[Any], deleted: Iterable[Any]) -> bool:
    """A flush updates or deletes a stored API token (a new one was never cached), or deletes
    an org (whose tokens the database deletes with it)."""
    return any(getattr(obj, "__tablename__", None) == API_TOKEN_TABLE for obj in dirty) or any(
        getattr(obj, "__tablename__", None) in (API_TOKEN_TABLE, "orgs") for obj in deleted
    )


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: UOWTransaction) -> None:
    dirty = session.dirty  # built from the identity map's modified states on each access
    if _api_token_changed(dirty, session.deleted):
        announce_api_tokens(session)
    orgs = _touched_orgs(session, dirty)
    if _EVERY_ORG in orgs:
        announce_directory(session, None)
        return
    for org_id in orgs:
        announce_directory(session, org_id)


def _statement_table(statement: Any) -> str | None:
    table = getattr(statement, "table", None)
    return getattr(table, "name", None)


def _bulk_user_update_matters(statement: Update) -> bool:
    """An ``UPDATE users`` that sets a column a token context reads."""
    values = getattr(statement, "_values", None) or {}
    names = {getattr(column, "key", None) or str(column) for column in values}
    if not names:
        return True  # values given at execution time (executemany): assume the worst
    return bool(names - USER_COLUMNS_NOT_CACHED)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state: ORMExecuteState) -> None:
    statement = state.statement
    if isinstance(statement, TextClause):
        sql = statement.text.lstrip().upper()
        if sql.startswith(("UPDATE", "DELETE", "INSERT")):
            if any(t.upper() in sql for t in TABLES):
                announce_directory(state.session, None)
            if API_TOKEN_TABLE.upper() in sql or (sql.startswith("DELETE") and "ORGS" in sql):
                announce_api_tokens(state.session)
        return
    if not isinstance(statement, Update | Delete | Insert):
        return
    table = _statement_table(statement)
    if (table == API_TOKEN_TABLE and not isinstance(statement, Insert)) or (
        table == "orgs" and isinstance(statement, Delete)
    ):
        announce_api_tokens(state.session)
    if table == API_TOKEN_TABLE:
        return
    if table not in TABLES:
        return
    if isinstance(statement, Insert) and not announces_insert(table):
        return
    if table == "users" and isinstance(statement, Update) and not _bulk_user_update_matters(statement):
        return
    announce_directory(state.session, None)


def announces_insert(table: str) -> bool:
    """Does a row inserted into ``table`` change a cached user context? Not a new user's: nothing
    is cached for a user before it exists (misses are not cached)."""
    return table in TABLES and table != "users"
