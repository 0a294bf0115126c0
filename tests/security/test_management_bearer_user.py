"""The management API's ``Authorization: Bearer`` check (``http/management/bearer_auth.py``) applies the
rule that introspection and userinfo apply (``verification.active_parties``): a user-bound
access token of the org authorization server stops working on ``/api/v1/*`` once its user is
suspended or deactivated, and stays dead after the user is unsuspended (Okta revokes it). A
client's own token (no ``uid``) still depends on its client only.

Today's org AS issues okta.* scopes through client_credentials only, so the user-bound token is
minted here with the org AS's own key, exactly as a user grant would mint it. As in Okta, a
user's token acts within that user's admin roles, so the user is given one (READ_ONLY_ADMIN)."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from ostiary.domain.authz.server_lookup import ORG_SERVER_ID
from ostiary.domain.tokens.access_tokens import UserSubject, access_token_claims
from ostiary.store.models import User
from ostiary.store.repositories import orgs
from ostiary.timeutil import utcnow
from tests.conftest import ORG_URL, Server
from tests.support.authorize import user
from tests.support.oauth import client_token, service_client

SCOPE = "okta.users.read"


async def user_bound_token(server: Server, client_id: str, user_id: str, login: str) -> str:
    """An org AS access token of ``user_id`` minted 5 s ago; the user's status dates from an hour
    before, so that a status change now is after the token, whatever the clock's second."""
    rt = server.rt
    async with rt.db.session() as session:
        org = await orgs.ensure_default(session)
        await session.execute(
            update(User).where(User.id == user_id).values(status_changed=utcnow() - timedelta(hours=1))
        )
    ring = await rt.rings.ring(org.id, ORG_SERVER_ID)
    claims = access_token_claims(
        issuer=ORG_URL,
        audience=ORG_URL,
        client_id=client_id,
        scopes=[SCOPE],
        lifetime_seconds=3600,
        user=UserSubject(user_id, login),
        now=int(time.time()) - 5,
    )
    return str(await rt.signer.sign(claims, ring.active))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_refused(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["errorCode"] == "E0000011"


@pytest.mark.parametrize("lifecycle", ["suspend", "deactivate"])
async def test_a_user_bound_token_stops_working_when_its_user_is_suspended_or_deactivated(
    admin: httpx.AsyncClient, server: Server, lifecycle: str
) -> None:
    client_id, _secret = await service_client(admin, SCOPE)
    login = f"{lifecycle}.user@example.com"
    user_id = await user(admin, login)
    role = await admin.post(f"/api/v1/users/{user_id}/roles", json={"type": "READ_ONLY_ADMIN"})
    assert role.status_code == 201, role.text
    token = await user_bound_token(server, client_id, user_id, login)
    async with server.client() as anon:
        before = await anon.get("/api/v1/users", headers=bearer(token))
        assert before.status_code == 200, before.text
        changed = await admin.post(f"/api/v1/users/{user_id}/lifecycle/{lifecycle}")
        assert changed.status_code == 200, changed.text
        assert_refused(await anon.get("/api/v1/users", headers=bearer(token)))
        if lifecycle == "suspend":
            back = await admin.post(f"/api/v1/users/{user_id}/lifecycle/unsuspend")
            assert back.status_code == 200, back.text
            assert_refused(await anon.get("/api/v1/users", headers=bearer(token)))


async def test_a_token_naming_an_unknown_user_is_refused(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _secret = await service_client(admin, SCOPE)
    token = await user_bound_token(server, client_id, "00uNoSuchUser00000000", "ghost.user@example.com")
    async with server.client() as anon:
        assert_refused(await anon.get("/api/v1/users", headers=bearer(token)))


async def test_a_clients_own_token_still_works(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await service_client(admin, SCOPE)
    async with server.client() as anon:
        token = (await client_token(anon, client_id, secret, SCOPE)).json()["access_token"]
        response = await anon.get("/api/v1/users", headers=bearer(token))
    assert response.status_code == 200, response.text
