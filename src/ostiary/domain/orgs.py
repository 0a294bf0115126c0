"""Orgs as every part above the store sees them (a plain record, not the row), and finding the
org a host names: ``{subdomain}.{base host}``, or the default org for the base host itself."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.store.models import Org as OrgRow
from ostiary.store.repositories import orgs


@dataclass(frozen=True, slots=True)
class Org:
    id: str
    name: str
    subdomain: str
    is_default: bool
    created: datetime


def org_record(row: OrgRow) -> Org:
    return Org(
        id=row.id, name=row.name, subdomain=row.subdomain, is_default=row.is_default, created=row.created
    )


async def org_named(session: AsyncSession, subdomain: str | None) -> Org | None:
    """The org at ``subdomain``; ``None`` names the default org, created on first use."""
    row = (
        await orgs.ensure_default(session)
        if subdomain is None
        else await orgs.get_by_subdomain(session, subdomain)
    )
    return org_record(row) if row is not None else None


async def org_with_domain(session: AsyncSession, host: str) -> Org | None:
    """The org a custom domain (``ostiary org domain add``) belongs to."""
    row = await orgs.get_by_domain(session, host)
    return org_record(row) if row is not None else None
