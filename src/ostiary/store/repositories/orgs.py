"""Orgs: the default org is created on first start."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary import ids
from ostiary.store.models import Group, Org, OrgDomain
from ostiary.timeutil import utcnow

DEFAULT_SUBDOMAIN = "default"


async def get_default(session: AsyncSession) -> Org | None:
    return (await session.scalars(select(Org).where(Org.is_default.is_(True)))).first()


async def get_by_subdomain(session: AsyncSession, subdomain: str) -> Org | None:
    return (await session.scalars(select(Org).where(Org.subdomain == subdomain))).first()


async def create_org(session: AsyncSession, name: str, subdomain: str, *, is_default: bool = False) -> Org:
    """An org with its built-in ``Everyone`` group."""
    now = utcnow()
    org_id = ids.new_id(ids.ORG)
    org = Org(id=org_id, org_id=org_id, name=name, subdomain=subdomain, is_default=is_default, created=now)
    session.add(org)
    await session.flush()
    session.add(
        Group(
            id=ids.new_id(ids.GROUP),
            org_id=org_id,
            type="BUILT_IN",
            name="Everyone",
            name_lower="everyone",
            profile={"name": "Everyone", "description": "All users in your organization"},
            created=now,
            last_updated=now,
            last_membership_updated=now,
        )
    )
    await session.flush()
    return org


async def ensure_default(session: AsyncSession) -> Org:
    org = await get_default(session)
    if org is None:
        org = await create_org(session, "Ostiary", DEFAULT_SUBDOMAIN, is_default=True)
    return org


async def get_by_domain(session: AsyncSession, host: str) -> Org | None:
    """The org a custom domain names (``host`` lower case, without port)."""
    stmt = select(Org).join(OrgDomain, OrgDomain.org_id == Org.id).where(OrgDomain.host == host)
    return (await session.scalars(stmt)).first()


async def list_orgs(session: AsyncSession) -> list[Org]:
    return list((await session.scalars(select(Org).order_by(Org.subdomain))).all())


async def domains_by_org(session: AsyncSession) -> dict[str, list[str]]:
    """org id → its custom domains, sorted."""
    rows = (await session.execute(select(OrgDomain.org_id, OrgDomain.host).order_by(OrgDomain.host))).all()
    found: dict[str, list[str]] = {}
    for org_id, host in rows:
        found.setdefault(org_id, []).append(host)
    return found


async def get_domain(session: AsyncSession, host: str) -> OrgDomain | None:
    return await session.get(OrgDomain, host)


async def add_domain(session: AsyncSession, org_id: str, host: str) -> OrgDomain:
    domain = OrgDomain(host=host, org_id=org_id, created=utcnow())
    session.add(domain)
    await session.flush()
    return domain


async def unprovisioned(session: AsyncSession) -> list[Org]:
    return list((await session.scalars(select(Org).where(Org.provisioned.is_(False)))).all())
