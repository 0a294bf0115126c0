"""Trusted origins: which web origins may call CORS-enabled endpoints, and be redirected to.

An origin is ``scheme://host[:port]`` with ``http`` or ``https``, nothing after the host. It
is stored normalised exactly as browsers send the ``Origin`` header (lower-case, no default
port), so a check is a set lookup. Checks run on hot paths (every CORS request, every
redirect), so the ACTIVE origins of an org are cached in memory per org (the runtime's
``DomainCaches.origins``):

- every write calls :func:`invalidate`, which drops the org's entry now and again when the
  writing transaction ends (a concurrent request could otherwise re-cache what it read
  before the commit); a set loaded while an invalidation happened is not stored;
- entries expire after ``TTL_SECONDS``, which bounds how long another process sharing the
  database may act on a stale set.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.caches import caches_of
from ostiary.domain.context import Tx
from ostiary.domain.errors import Invalid, NotFound
from ostiary.domain.unit_of_work import UnitOfWork
from ostiary.store import cache_events
from ostiary.store.models.sessions import TrustedOrigin
from ostiary.store.repositories.paging import Page, fetch_page
from ostiary.timeutil import utcnow

if TYPE_CHECKING:
    from ostiary.domain.directory.filter_expr import AttributePolicy
    from ostiary.filter_ast import Comparison, Present

ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"
CORS, REDIRECT, IFRAME_EMBED = "CORS", "REDIRECT", "IFRAME_EMBED"
SCOPE_TYPES = (CORS, REDIRECT, IFRAME_EMBED)
ALLOWED_OKTA_APPS = ("OKTA_ENDUSER",)
MAX_LENGTH = 255
TTL_SECONDS = 5.0
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HOST = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*\.?")
_IPV6 = re.compile(r"[0-9a-f:.]+")


@dataclass(frozen=True, slots=True)
class TrustedOriginRecord:
    """A trusted origin as the management API shows it (a plain copy of the row)."""

    id: str
    name: str
    origin: str
    scopes: Sequence[Mapping[str, Any]]
    status: str
    created: datetime
    created_by: str | None
    last_updated: datetime
    last_updated_by: str | None


def _record(row: TrustedOrigin) -> TrustedOriginRecord:
    return TrustedOriginRecord(
        id=row.id,
        name=row.name,
        origin=row.origin,
        scopes=list(row.scopes),
        status=row.status,
        created=row.created,
        created_by=row.created_by,
        last_updated=row.last_updated,
        last_updated_by=row.last_updated_by,
    )


def not_found(origin_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {origin_id} (TrustedOrigin)", code="E0000007")


def target(origin: TrustedOrigin) -> Target:
    return Target(origin.id, "TrustedOrigin", origin.origin, origin.name)


def _invalid(field: str, cause: str) -> Invalid:
    return Invalid(f"Api validation failed: {field}", code="E0000001", causes=[f"{field}: {cause}"])


# --- origins -----------------------------------------------------------------------------------


def canonical_origin(value: str | None) -> str | None:
    """``value`` as a browser's ``Origin`` header would carry it, or None if it is not an
    ``http(s)://host[:port]`` origin (a path, query, user info or ``null`` included)."""
    if not value or len(value) > MAX_LENGTH or any(c.isspace() or ord(c) < 0x20 for c in value):
        return None
    if value.endswith(("?", "#")) or "\\" in value:
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if "@" in parts.netloc or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        if not _IPV6.fullmatch(host):
            return None
        host = f"[{host}]"
    elif not _HOST.fullmatch(host):
        return None
    suffix = f":{port}" if port is not None and port != _DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


def origin_of(url: str) -> str | None:
    """The origin of an absolute ``http(s)`` URL (for redirect checks), or None."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return canonical_origin(f"{parts.scheme}://{parts.netloc}")


def _validated_origin(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _invalid("origin", "The field cannot be left blank")
    origin = canonical_origin(raw.strip())
    if origin is None:
        raise _invalid(
            "origin", "must be an http or https origin: scheme://host[:port], with no path, query or fragment"
        )
    return origin


def _validated_name(raw: object) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _invalid("name", "The field cannot be left blank")
    name = raw.strip()
    if len(name) > MAX_LENGTH:
        raise _invalid("name", f"must be at most {MAX_LENGTH} characters")
    return name


def _validated_scopes(raw: object) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not raw:
        raise _invalid("scopes", "At least one scope (CORS, REDIRECT or IFRAME_EMBED) is required")
    scopes: list[dict[str, Any]] = []
    for item in raw:
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind not in SCOPE_TYPES:
            raise _invalid("scopes", "type must be one of CORS, REDIRECT, IFRAME_EMBED")
        if any(s["type"] == kind for s in scopes):
            raise _invalid("scopes", f"{kind} is listed more than once")
        scope: dict[str, Any] = {"type": kind}
        apps = item.get("allowedOktaApps")
        if kind == IFRAME_EMBED:
            if apps is None:
                apps = []
            if not isinstance(apps, list) or any(a not in ALLOWED_OKTA_APPS for a in apps):
                raise _invalid("scopes", "allowedOktaApps may only contain OKTA_ENDUSER")
            scope["allowedOktaApps"] = list(apps)
        elif apps:
            raise _invalid("scopes", "allowedOktaApps applies to IFRAME_EMBED only")
        scopes.append(scope)
    return scopes


def _scope_types(scopes: list[dict[str, Any]]) -> str:
    return "," + ",".join(s["type"] for s in scopes) + ","


# --- reads -------------------------------------------------------------------------------------


async def get_origin(tx: Tx, origin_id: str) -> TrustedOriginRecord:
    return _record(await _row(tx, origin_id))


async def _row(tx: Tx, origin_id: str) -> TrustedOrigin:
    stmt = select(TrustedOrigin).where(TrustedOrigin.org_id == tx.org_id, TrustedOrigin.id == origin_id)
    found = (await tx.session.scalars(stmt)).first()
    if found is None:
        raise not_found(origin_id)
    return found


def _type_condition(node: Comparison | Present) -> ColumnElement[bool]:
    from ostiary.filter_ast import Present

    if isinstance(node, Present):
        return TrustedOrigin.scope_types != ","
    return TrustedOrigin.scope_types.contains(f",{node.value},", autoescape=True)


@functools.cache
def filter_policy() -> AttributePolicy:
    """``GET /api/v1/trustedOrigins?filter=``: ``name``, ``origin``, ``status`` and ``type`` (of a
    scope), with ``eq``. Built on first use: most requests carry no filter."""
    from ostiary.domain.directory.filter_expr import AttributePolicy, AttributeRule

    eq = frozenset({"eq"})
    return AttributePolicy(
        name="filter",
        attributes=MappingProxyType(
            {
                "name": AttributeRule(eq),
                "origin": AttributeRule(eq),
                "status": AttributeRule(eq, case="upper"),
                "type": AttributeRule(eq, case="upper"),
            }
        ),
    )


def _column(attr: str) -> Any:
    from ostiary.store.repositories.filter_sql import Custom

    columns: dict[str, Any] = {
        "name": TrustedOrigin.name,
        "origin": TrustedOrigin.origin,
        "status": TrustedOrigin.status,
        "type": Custom(_type_condition),
    }
    return columns[attr]


def filter_condition(filter_text: str | None) -> ColumnElement[bool] | None:
    """The SQL condition of a ``filter`` expression (E0000031 when it is not acceptable)."""
    if not filter_text:
        return None
    from ostiary.domain.directory import filter_expr
    from ostiary.store.repositories.filter_sql import compile_filter

    return compile_filter(filter_expr.parse_filter(filter_text, allowed=filter_policy()), _column)


async def list_origins(
    tx: Tx,
    *,
    q: str | None = None,
    filter_text: str | None = None,
    after: str | None = None,
    limit: int = 20,
) -> Page[TrustedOriginRecord]:
    """``q`` is a case-insensitive prefix of the name or the origin."""
    stmt = select(TrustedOrigin).where(TrustedOrigin.org_id == tx.org_id)
    if q:
        prefix = q.lower()
        stmt = stmt.where(
            or_(
                TrustedOrigin.name_lower.startswith(prefix, autoescape=True),
                TrustedOrigin.origin.startswith(prefix, autoescape=True),
            )
        )
    condition = filter_condition(filter_text)
    if condition is not None:
        stmt = stmt.where(condition)
    page = await fetch_page(tx.session, stmt, TrustedOrigin.id, after=after, limit=limit)
    return Page([_record(row) for row in page.items], page.next_cursor)


# --- writes ------------------------------------------------------------------------------------


def _duplicate(field: str) -> Invalid:
    return _invalid(field, "An object with this field already exists in the current organization")


async def _ensure_unique(tx: Tx, name: str, origin: str, except_id: str | None = None) -> None:
    stmt = select(TrustedOrigin).where(
        TrustedOrigin.org_id == tx.org_id,
        or_(TrustedOrigin.name_lower == name.lower(), TrustedOrigin.origin == origin),
    )
    for existing in (await tx.session.scalars(stmt)).all():
        if existing.id == except_id:
            continue
        raise _duplicate("origin" if existing.origin == origin else "name")


async def _flush(tx: Tx) -> None:
    try:
        await tx.session.flush()
    except IntegrityError as exc:
        raise _duplicate("origin") from exc


async def create_origin(tx: Tx, body: Mapping[str, Any]) -> TrustedOriginRecord:
    name = _validated_name(body.get("name"))
    origin = _validated_origin(body.get("origin"))
    scopes = _validated_scopes(body.get("scopes"))
    await _ensure_unique(tx, name, origin)
    now = utcnow()
    row = TrustedOrigin(
        id=ids.new_id(ids.TRUSTED_ORIGIN),
        org_id=tx.org_id,
        name=name,
        name_lower=name.lower(),
        origin=origin,
        scopes=scopes,
        scope_types=_scope_types(scopes),
        status=ACTIVE,
        created=now,
        created_by=tx.actor.id,
        last_updated=now,
        last_updated_by=tx.actor.id,
    )
    tx.session.add(row)
    await _flush(tx)
    invalidate(tx.org_id, tx.session)
    record(tx, "security.trusted_origin.create", "Create trusted origin", [target(row)])
    return _record(row)


async def replace_origin(tx: Tx, origin_id: str, body: Mapping[str, Any]) -> TrustedOriginRecord:
    """PUT: name, origin and scopes are replaced; the status changes only through the lifecycle."""
    row = await _row(tx, origin_id)
    name = _validated_name(body.get("name"))
    origin = _validated_origin(body.get("origin"))
    scopes = _validated_scopes(body.get("scopes"))
    await _ensure_unique(tx, name, origin, except_id=row.id)
    row.name, row.name_lower, row.origin = name, name.lower(), origin
    row.scopes, row.scope_types = scopes, _scope_types(scopes)
    _touch(tx, row)
    await _flush(tx)
    invalidate(tx.org_id, tx.session)
    record(tx, "security.trusted_origin.update", "Update trusted origin", [target(row)])
    return _record(row)


async def delete_origin(tx: Tx, origin_id: str) -> None:
    row = await _row(tx, origin_id)
    await tx.session.delete(row)
    invalidate(tx.org_id, tx.session)
    record(tx, "security.trusted_origin.delete", "Delete trusted origin", [target(row)])


async def activate(tx: Tx, origin_id: str) -> TrustedOriginRecord:
    return await _set_status(tx, origin_id, ACTIVE, "activate")


async def deactivate(tx: Tx, origin_id: str) -> TrustedOriginRecord:
    return await _set_status(tx, origin_id, INACTIVE, "deactivate")


async def _set_status(tx: Tx, origin_id: str, status: str, verb: str) -> TrustedOriginRecord:
    row = await _row(tx, origin_id)
    if row.status != status:
        row.status = status
        _touch(tx, row)
        await tx.session.flush()
        invalidate(tx.org_id, tx.session)
    record(tx, f"security.trusted_origin.{verb}", f"{verb.capitalize()} trusted origin", [target(row)])
    return _record(row)


def _touch(tx: Tx, row: TrustedOrigin) -> None:
    row.last_updated = utcnow()
    row.last_updated_by = tx.actor.id


# --- the cached check --------------------------------------------------------------------------


def invalidate(org_id: str, session: AsyncSession) -> None:
    """Forget the org's origins now and again when the writing ``session`` ends; tell the
    other processes when it commits."""
    cache_events.forget_after_commit(session, caches_of(session).origins, org_id)
    cache_events.announce(session, "trusted_origins", org_id)


async def load_trusted(session: AsyncSession, org_id: str) -> frozenset[tuple[str, str]]:
    """Read the org's ACTIVE origins and their scope types from the database (no cache)."""
    stmt = select(TrustedOrigin.origin, TrustedOrigin.scopes).where(
        TrustedOrigin.org_id == org_id, TrustedOrigin.status == ACTIVE
    )
    rows = (await session.execute(stmt)).all()
    return frozenset((origin, str(scope.get("type"))) for origin, scopes in rows for scope in scopes)


async def is_trusted(db: UnitOfWork, org_id: str, origin: str | None, scope_type: str) -> bool:
    """Is ``origin`` (an ``Origin`` header, or any origin string) an ACTIVE trusted origin of
    ``org_id`` with ``scope_type`` (CORS, REDIRECT)? Opens a database session only on a miss."""
    key = canonical_origin(origin)
    if key is None:
        return False
    cache = caches_of(db).origins
    pairs = cache.get(org_id)
    if pairs is None:
        generation = cache.generation
        async with db.session() as session:
            pairs = await load_trusted(session, org_id)
        cache.put(org_id, pairs, generation)
    return (key, scope_type) in pairs


async def is_trusted_redirect(db: UnitOfWork, org_id: str, url: str) -> bool:
    """May the browser be sent to the absolute ``url``? Its origin must be trusted for REDIRECT."""
    origin = origin_of(url)
    return origin is not None and await is_trusted(db, org_id, origin, REDIRECT)
