r"""Used client assertion ``jti``\ s in SQL: the ``AssertionReplay`` of ``domain.tokens.storage``.

``INSERT … ON CONFLICT DO NOTHING`` decides atomically, also between concurrent requests and
processes, without failing the caller's transaction; the client's expired entries are deleted
on the way.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.store.models import ClientAssertionJti
from ostiary.store.statements import insert_ignoring_duplicates


class SqlAssertionReplay:
    """The used assertion ``jti``\\ s, in one session's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_use(self, org_id: str, client_id: str, jti_digest: str, expires_at: datetime) -> bool:
        await self.session.execute(
            delete(ClientAssertionJti).where(
                ClientAssertionJti.client_id == client_id, ClientAssertionJti.expires_at < datetime.now(UTC)
            )
        )
        result = await self.session.execute(
            insert_ignoring_duplicates(self.session, ClientAssertionJti).values(
                client_id=client_id, jti_digest=jti_digest, org_id=org_id, expires_at=expires_at
            )
        )
        return getattr(result, "rowcount", 0) == 1
