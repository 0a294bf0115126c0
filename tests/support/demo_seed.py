"""The demo's scenario (``ostiary demo``) seeded into a test server's org."""

from __future__ import annotations

from typing import Any

from ostiary.demo.seed import DemoPorts, seed
from ostiary.domain.context import Actor, Tx
from ostiary.store.repositories import orgs
from tests.conftest import ORG_URL, Server
from tests.support.policies import USER_PASSWORD


async def seed_demo(server: Server) -> dict[str, Any]:
    """The demo's scenario (``ostiary demo``) in the test's org."""
    async with server.rt.db.session() as session:
        org = await orgs.ensure_default(session)
        tx = Tx(session=session, org=org, actor=Actor.system())
        return await seed(tx, org_url=ORG_URL, ports=DemoPorts(), password=USER_PASSWORD)
