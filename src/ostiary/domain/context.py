"""The unit of work every domain operation runs in: a DB session, the org, and who acts."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.orgs import Org


@dataclass(frozen=True)
class Actor:
    """Who performs an operation, as the system log names them."""

    id: str
    type: str
    alternate_id: str
    display_name: str
    scopes: frozenset[str] | None = None  # None: every scope (SSWS API token)

    @staticmethod
    def system() -> Actor:
        return Actor(id="system", type="SystemPrincipal", alternate_id="system", display_name="Ostiary")


@dataclass(frozen=True)
class ClientInfo:
    ip_address: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


@dataclass
class Tx:
    session: AsyncSession
    org: Org
    actor: Actor = field(default_factory=Actor.system)
    client: ClientInfo = field(default_factory=ClientInfo)

    @property
    def org_id(self) -> str:
        return self.org.id
