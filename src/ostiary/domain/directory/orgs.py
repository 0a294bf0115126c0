"""Orgs: create one (with its built-in authorization servers), list them, give one a custom domain.

An org ``NAME`` is served at ``{scheme}://{NAME}.{base host}`` (``http.hosts``), so a name is
one DNS label in lower case. A custom domain maps one host to exactly one org. Every write
announces ``orgs`` (``store.cache_events``) so that running servers drop the "no such org"
answers they cached for a host (the PostgreSQL channel; on SQLite a short TTL bounds it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.server_admin import seed_default_server
from ostiary.domain.errors import Conflict, Invalid, NotFound
from ostiary.store import cache_events
from ostiary.store.models import Org
from ostiary.store.repositories import orgs as repo

LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MAX_HOST_LENGTH = 253
MAX_DISPLAY_NAME = 255
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
ORGS_CHANGED = "orgs"
"""The cache event kind (no key): an org or a custom domain was added."""


@dataclass(frozen=True)
class OrgListing:
    org: Org
    domains: list[str]


def validate_name(name: str) -> str:
    """``name`` if it is one DNS label in lower case (``acme``, ``team-2``), else :class:`Invalid`."""
    if not LABEL.fullmatch(name):
        raise Invalid(
            "Api validation failed: name",
            code="E0000001",
            causes=[
                "name: must be one DNS label in lower case: a-z, 0-9 and '-', "
                "1 to 63 characters, not starting or ending with '-'"
            ],
        )
    return name


def validate_host(host: str, base_host: str) -> str:
    """A custom domain: a host name (no port, no scheme), lower-cased, that is neither the base
    host, a loopback name, nor under the base host (those name orgs by their subdomain)."""
    value = host.strip().lower().removesuffix(".")
    labels = value.split(".")
    if not value or len(value) > MAX_HOST_LENGTH or not all(LABEL.fullmatch(label) for label in labels):
        raise Invalid("Api validation failed: host", code="E0000001", causes=["host: must be a host name"])
    base = base_host.lower()
    if value in LOOPBACK_NAMES or value == base or value.endswith("." + base):
        raise Invalid(
            "Api validation failed: host",
            code="E0000001",
            causes=[f"host: {value} is the base host, a loopback name or under the base host {base}"],
        )
    return value


async def provision_org(session: AsyncSession, org: Org) -> None:
    """Give ``org`` its org authorization server and its ``default`` server with the default
    scopes, ``sub`` claim and Default Policy — once: a ``default`` deleted later stays deleted."""
    if org.provisioned:
        return
    await server_lookup.ensure_builtin(session, org.id)
    await seed_default_server(session, org.id)
    org.provisioned = True
    await session.flush()


async def provision_pending(session: AsyncSession) -> None:
    """Provision every org that never was (the default org on a first start; orgs made by
    older versions)."""
    for org in await repo.unprovisioned(session):
        await provision_org(session, org)


async def create_org(session: AsyncSession, name: str, display_name: str | None = None) -> Org:
    """A new, provisioned org ``name``; :class:`Conflict` when the name is taken."""
    validate_name(name)
    display = (display_name or name).strip() or name
    if len(display) > MAX_DISPLAY_NAME:
        raise Invalid(
            "Api validation failed: displayName",
            code="E0000001",
            causes=[f"displayName: must be at most {MAX_DISPLAY_NAME} characters"],
        )
    if await repo.get_by_subdomain(session, name) is not None:
        raise Conflict(f"An org named {name} already exists", code="E0000001")
    org = await repo.create_org(session, display, name)
    await provision_org(session, org)
    cache_events.announce(session, ORGS_CHANGED)
    return org


async def get_org(session: AsyncSession, name: str) -> Org:
    """The existing org ``name``; :class:`NotFound` otherwise (never creates one)."""
    org = await repo.get_by_subdomain(session, name)
    if org is None:
        raise NotFound(f"No org named {name} (create it with: ostiary org create {name})", code="E0000007")
    return org


async def list_orgs(session: AsyncSession) -> list[OrgListing]:
    domains = await repo.domains_by_org(session)
    return [OrgListing(org, domains.get(org.id, [])) for org in await repo.list_orgs(session)]


async def add_domain(session: AsyncSession, name: str, host: str, *, base_host: str) -> str:
    """Map the custom domain ``host`` to the org ``name``; a host names at most one org."""
    org = await get_org(session, name)
    value = validate_host(host, base_host)
    existing = await repo.get_domain(session, value)
    if existing is not None:
        if existing.org_id == org.id:
            return value
        raise Conflict(f"The domain {value} already belongs to another org", code="E0000001")
    await repo.add_domain(session, org.id, value)
    cache_events.announce(session, ORGS_CHANGED)
    return value
