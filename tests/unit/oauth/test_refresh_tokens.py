"""Refresh tokens (``offline_access``): opaque and stored as digests; the refresh_token grant
with rotation, a one-retry grace, reuse detection that revokes the family, absolute and idle
expiry, down-scoping, and the checks made at every use (client, server, user, assignment,
policy); introspection and revocation of refresh tokens."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from sqlalchemy import select, update

from ostiary.domain.authz.policy_engine import POLICY_DENIED
from ostiary.domain.tokens import refresh_tokens
from ostiary.domain.tokens.grants.refresh_token import NOT_ASSIGNED
from ostiary.store.models.refresh_tokens import RefreshToken
from ostiary.store.repositories import orgs
from ostiary.store.repositories.refresh_tokens import SqlRefreshTokens
from ostiary.timeutil import utcnow
from tests.conftest import Server
from tests.support.apps import create_app, oidc_app, rsa_jwk, rsa_private
from tests.support.authorization_servers import AS
from tests.support.authorize import spa_app, spa_code_tokens
from tests.support.authorize import user as create_account
from tests.support.oauth import ORG, assertion
from tests.support.policies import create_policy, create_rule, new_server
from tests.support.refresh_tokens import (
    AUTH_TIME,
    ORIGINAL_SCOPES,
    ROTATE_NO_GRACE,
    ROTATE_WITH_GRACE,
    Scenario,
    assert_invalid_grant,
    assign,
    scenario,
    web_client,
)
from tests.support.users import create as create_user

# --- the scenario: a web app, an assigned user, tokens issued the way the code grant does ----


def claims_of(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


# --- issuing ----------------------------------------------------------------------------------


async def test_a_refresh_token_is_opaque_random_and_stored_only_as_its_digest(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server)
    token, other = await s.issue(), await s.issue()
    assert token != other and len(token) == 43 and "." not in token
    row = await s.row(token)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert row.id.startswith("oar") and row.family_id == row.id
    assert token not in {str(value) for value in vars(row).values()}
    assert (row.scopes, row.auth_time, row.expires_at) == (list(ORIGINAL_SCOPES), AUTH_TIME, None)
    assert row.idle_expires_at is not None and row.idle_expires_at > utcnow() + timedelta(days=6)


async def test_a_lifetime_sets_the_absolute_expiry_and_zero_means_unlimited(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server)
    limited = await s.row(await s.issue(lifetime=90, window=0))
    unlimited = await s.row(await s.issue(lifetime=0, window=None))
    assert limited.expires_at is not None
    assert timedelta(minutes=89) < limited.expires_at - limited.created <= timedelta(minutes=90)
    assert limited.idle_expires_at is None
    assert (unlimited.expires_at, unlimited.idle_expires_at) == (None, None)


async def test_the_users_long_dead_families_are_purged_when_a_token_is_issued(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_NO_GRACE)
    revoked = await s.issue()
    assert (await s.refresh(revoked)).status_code == 200
    idle = await s.issue()
    recent = await s.issue()
    await s.post("revoke", recent)
    live = await s.issue()
    long_ago = utcnow() - timedelta(days=2)
    family_id = (await s.row(revoked)).family_id
    async with any_server.rt.db.session() as session:
        await session.execute(
            update(RefreshToken).where(RefreshToken.family_id == family_id).values(revoked_at=long_ago)
        )
    await s.set_times(idle, idle_expires_at=long_ago)
    await s.issue()
    async with any_server.rt.db.session() as session:
        left = set(await session.scalars(select(RefreshToken.token_hash)))
    assert refresh_tokens.digest(revoked) not in left and refresh_tokens.digest(idle) not in left
    assert {refresh_tokens.digest(recent), refresh_tokens.digest(live)} <= left
    assert len(left) == 3


# --- the grant --------------------------------------------------------------------------------


async def test_refresh_mints_user_tokens_and_rotates(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_NO_GRACE)
    token = await s.issue()
    response = await s.refresh(token)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"token_type", "expires_in", "access_token", "scope", "refresh_token", "id_token"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == (
        "Bearer",
        3600,
        "openid profile offline_access",
    )
    assert body["refresh_token"] != token
    access = claims_of(body["access_token"])
    assert access["iss"] == f"{ORG}/oauth2/default" and access["cid"] == s.client_id
    assert (access["uid"], access["sub"], access["auth_time"]) == (
        s.user_id,
        "ann.lee@example.com",
        AUTH_TIME,
    )
    assert access["scp"] == list(ORIGINAL_SCOPES)
    identity = claims_of(body["id_token"])
    assert (identity["sub"], identity["aud"], identity["auth_time"]) == (s.user_id, s.client_id, AUTH_TIME)
    assert "nonce" not in identity and "at_hash" in identity
    old, new = await s.family(token)
    assert old.rotated_at is not None and old.replaced_by == new.id
    assert new.family_id == old.id and new.token_hash == refresh_tokens.digest(body["refresh_token"])
    assert old.successor_seal is not None and body["refresh_token"] not in old.successor_seal
    assert (await s.refresh(body["refresh_token"])).status_code == 200
    assert (await s.family(token))[0].successor_seal is None


async def test_no_id_token_without_openid(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    response = await s.refresh(await s.issue(scopes=("profile", "offline_access")))
    assert response.status_code == 200, response.text
    assert "id_token" not in response.json()


async def test_reuse_of_a_rotated_token_revokes_the_whole_family(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_NO_GRACE)
    first = await s.issue()
    second = (await s.refresh(first)).json()["refresh_token"]
    assert_invalid_grant(await s.refresh(first))
    assert all(row.revoked_at is not None for row in await s.family(first))
    assert_invalid_grant(await s.refresh(second))


async def test_a_grace_retry_answers_the_same_successor_once(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_WITH_GRACE)
    first = await s.issue()
    rotated = await s.refresh(first)
    retried = await s.refresh(first)
    assert retried.status_code == 200, retried.text
    assert retried.json()["refresh_token"] == rotated.json()["refresh_token"]
    assert retried.json()["access_token"] != rotated.json()["access_token"]
    previous, _successor = await s.family(first)
    assert previous.grace_used_at is not None and previous.successor_seal is None
    assert_invalid_grant(await s.refresh(first))
    assert_invalid_grant(await s.refresh(rotated.json()["refresh_token"]))


async def test_a_grace_retry_after_the_successor_was_used_is_reuse(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server, rotation=ROTATE_WITH_GRACE)
    first = await s.issue()
    second = (await s.refresh(first)).json()["refresh_token"]
    third = (await s.refresh(second)).json()["refresh_token"]
    assert_invalid_grant(await s.refresh(first))
    assert_invalid_grant(await s.refresh(third))


async def test_the_grace_ends_after_the_leeway(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server, rotation=ROTATE_WITH_GRACE)
    first = await s.issue()
    second = (await s.refresh(first)).json()["refresh_token"]
    await s.set_times(first, rotated_at=utcnow() - timedelta(seconds=31))
    assert_invalid_grant(await s.refresh(first))
    assert_invalid_grant(await s.refresh(second))


async def test_a_rotation_that_lost_a_race_answers_the_winners_successor(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server)
    token = await s.issue()
    policy = refresh_tokens.RotationPolicy(rotate=True, leeway=30)
    async with any_server.rt.db.session() as session:
        org = await orgs.ensure_default(session)
        stale = await refresh_tokens.find_refresh_token(session, org.id, token)
    assert stale is not None
    async with any_server.rt.db.session() as session:
        row = await refresh_tokens.find_refresh_token(session, org.id, token)
        assert row is not None
        winner = await refresh_tokens.exchange(
            SqlRefreshTokens(session), row, token, policy=policy, window_minutes=60
        )
    async with any_server.rt.db.session() as session:
        loser = await refresh_tokens.exchange(
            SqlRefreshTokens(session), stale, token, policy=policy, window_minutes=60
        )
    assert loser == winner != token


async def test_static_tokens_are_answered_again_and_their_idle_deadline_moves(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server)
    token = await s.issue(window=60)
    await s.set_times(token, idle_expires_at=utcnow() + timedelta(minutes=1))
    for _ in range(2):
        response = await s.refresh(token)
        assert response.status_code == 200, response.text
        assert response.json()["refresh_token"] == token
    (row,) = await s.family(token)
    assert row.rotated_at is None and row.last_used is not None
    assert row.idle_expires_at is not None and row.idle_expires_at > utcnow() + timedelta(minutes=59)


def test_browser_apps_rotate_by_default_and_others_keep_static_tokens() -> None:
    @dataclass
    class App:
        application_type: str
        settings: dict[str, Any]

    policy = refresh_tokens.rotation_policy
    assert policy(App("browser", {"oauthClient": {}})) == refresh_tokens.RotationPolicy(True, 30)
    assert policy(App("web", {"oauthClient": {}})) == refresh_tokens.RotationPolicy(False, 0)
    assert policy(App("native", {})) == refresh_tokens.RotationPolicy(False, 0)
    configured = {"oauthClient": {"refresh_token": {"rotation_type": "ROTATE", "leeway": 5}}}
    assert policy(App("web", configured)) == refresh_tokens.RotationPolicy(True, 5)
    static = {"oauthClient": {"refresh_token": {"rotation_type": "STATIC"}}}
    assert policy(App("browser", static)).rotate is False


async def test_a_token_past_its_absolute_lifetime_is_invalid(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_NO_GRACE)
    token = await s.issue(lifetime=60)
    successor = (await s.refresh(token)).json()["refresh_token"]
    first, second = await s.family(token)
    assert second.expires_at == first.expires_at
    await s.set_times(successor, expires_at=utcnow() - timedelta(seconds=1))
    assert_invalid_grant(await s.refresh(successor))


async def test_a_token_unused_for_its_idle_window_is_invalid(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server)
    token = await s.issue(window=10)
    await s.set_times(token, idle_expires_at=utcnow() - timedelta(seconds=1))
    assert_invalid_grant(await s.refresh(token))


async def test_a_narrower_scope_narrows_the_new_tokens_but_not_the_grant(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_NO_GRACE)
    token = await s.issue()
    narrowed = await s.refresh(token, scope="offline_access openid")
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["scope"] == "offline_access openid"
    assert claims_of(narrowed.json()["access_token"])["scp"] == ["offline_access", "openid"]
    assert (await s.row(narrowed.json()["refresh_token"])).scopes == list(ORIGINAL_SCOPES)
    again = await s.refresh(narrowed.json()["refresh_token"])
    assert again.json()["scope"] == "openid profile offline_access"


@pytest.mark.parametrize("scope", ["openid profile email offline_access", "openid profile"])
async def test_a_wider_scope_or_one_without_offline_access_is_refused(
    admin: httpx.AsyncClient, server: Server, scope: str
) -> None:
    s = await scenario(admin, server, rotation=ROTATE_NO_GRACE)
    token = await s.issue()
    refused = await s.refresh(token, scope=scope)
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_scope")
    (row,) = await s.family(token)
    assert row.rotated_at is None and row.revoked_at is None
    assert (await s.refresh(token)).status_code == 200


async def test_another_client_cannot_use_the_token(any_admin: httpx.AsyncClient, any_server: Server) -> None:
    s = await scenario(any_admin, any_server)
    other = await web_client(any_admin, label="Other")
    await assign(any_admin, other[0], s.user_id)
    token = await s.issue()
    assert_invalid_grant(await s.refresh(token, client=other))
    assert (await s.refresh(token)).status_code == 200


async def test_another_server_does_not_know_the_token(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    server_id = await new_server(admin, "api:read")
    token = await s.issue()
    assert_invalid_grant(await s.refresh(token, server_id=server_id))
    assert_invalid_grant(await s.refresh(token, server_id="$org"))
    assert (await s.refresh(token)).status_code == 200


async def test_the_org_server_refreshes_its_own_tokens(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    token = await s.issue(server_id="$org", scopes=("openid", "offline_access"))
    response = await s.refresh(token, server_id="$org")
    assert response.status_code == 200, response.text
    access = claims_of(response.json()["access_token"])
    assert access["iss"] == ORG == access["aud"] and response.json()["expires_in"] == 3600
    assert "id_token" in response.json()


@pytest.mark.parametrize("lifecycle", ["deactivate", "suspend"])
async def test_a_user_who_left_active_cannot_refresh_even_after_coming_back(
    any_admin: httpx.AsyncClient, any_server: Server, lifecycle: str
) -> None:
    s = await scenario(any_admin, any_server)
    token = await s.issue()
    users = f"/api/v1/users/{s.user_id}/lifecycle"
    assert (await any_admin.post(f"{users}/{lifecycle}")).status_code == 200
    assert_invalid_grant(await s.refresh(token))
    back = "activate" if lifecycle == "deactivate" else "unsuspend"
    assert (await any_admin.post(f"{users}/{back}", params={"sendEmail": "false"})).status_code == 200
    assert (await any_admin.get(f"/api/v1/users/{s.user_id}")).json()["status"] == "ACTIVE"
    assert_invalid_grant(await s.refresh(token))


async def test_an_unassigned_user_cannot_refresh(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    token = await s.issue()
    assert (await admin.delete(f"/api/v1/apps/{s.client_id}/users/{s.user_id}")).status_code == 204
    assert_invalid_grant(await s.refresh(token), NOT_ASSIGNED)


async def test_the_policy_is_evaluated_again_and_its_rule_sets_the_lifetimes(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server)
    server_id = await new_server(any_admin, "api:read")
    policy = await create_policy(any_admin, server_id, "Web")
    rule = await create_rule(
        any_admin,
        server_id,
        policy["id"],
        "users",
        grants=["authorization_code", "refresh_token"],
        scopes=["openid", "offline_access", "api:read"],
        actions={
            "token": {
                "accessTokenLifetimeMinutes": 5,
                "refreshTokenLifetimeMinutes": 0,
                "refreshTokenWindowMinutes": 30,
            }
        },
    )
    token = await s.issue(server_id=server_id, scopes=("openid", "offline_access", "api:read"))
    granted = await s.refresh(token, server_id=server_id)
    assert granted.status_code == 200, granted.text
    assert granted.json()["expires_in"] == 300
    (row,) = await s.family(token)
    assert row.idle_expires_at is not None and row.idle_expires_at < utcnow() + timedelta(minutes=31)
    url = f"{AS}/{server_id}/policies/{policy['id']}/rules/{rule['id']}"
    body = {**rule, "conditions": {**rule["conditions"], "grantTypes": {"include": ["authorization_code"]}}}
    assert (await any_admin.put(url, json=body)).status_code == 200
    assert_invalid_grant(await s.refresh(token, server_id=server_id), POLICY_DENIED)


async def test_a_client_without_the_refresh_token_grant_is_unauthorized(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server, grants=["authorization_code"])
    response = await s.refresh(await s.issue())
    assert (response.status_code, response.json()["error"]) == (400, "unauthorized_client")


@pytest.mark.parametrize("token", ["", "not-a-token", "x" * 5000])
async def test_missing_unknown_and_oversized_tokens_are_refused(
    admin: httpx.AsyncClient, server: Server, token: str
) -> None:
    s = await scenario(admin, server)
    response = await s.refresh(token)
    assert response.status_code == 400
    assert response.json()["error"] == ("invalid_request" if not token else "invalid_grant")


# --- introspection ----------------------------------------------------------------------------


async def test_introspection_describes_an_active_refresh_token(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server)
    token = await s.issue(lifetime=120, window=60)
    response = await s.post("introspect", token)
    assert response.status_code == 200, response.text
    body = response.json()
    row = await s.row(token)
    assert body == {
        "active": True,
        "token_type": "Bearer",
        "scope": "openid profile offline_access",
        "client_id": s.client_id,
        "username": "ann.lee@example.com",
        "exp": int(row.idle_expires_at.timestamp()),  # type: ignore[union-attr]
        "iat": int(row.created.timestamp()),
        "sub": "ann.lee@example.com",
        "uid": s.user_id,
    }


async def test_introspection_of_a_revoked_rotated_or_foreign_token_is_inactive(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server, rotation=ROTATE_WITH_GRACE)
    rotated = await s.issue()
    await s.refresh(rotated)
    revoked = await s.issue()
    assert (await s.post("revoke", revoked)).status_code == 200
    foreign = await s.issue(server_id="$org")
    for token in (rotated, revoked, foreign):
        assert (await s.post("introspect", token)).json() == {"active": False}


# --- revocation -------------------------------------------------------------------------------


async def test_the_owning_client_revokes_the_whole_family(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server, rotation=ROTATE_WITH_GRACE)
    first = await s.issue()
    second = (await s.refresh(first)).json()["refresh_token"]
    response = await s.post("revoke", first)
    assert (response.status_code, response.content) == (200, b"")
    assert all(row.revoked_at is not None for row in await s.family(first))
    assert_invalid_grant(await s.refresh(second))
    assert (await s.post("revoke", second)).status_code == 200


async def test_another_client_cannot_revoke_the_token(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    other = await web_client(admin, label="Other")
    token = await s.issue()
    refused = await s.post("revoke", token, client=other)
    assert (refused.status_code, refused.json()["error"]) == (400, "unauthorized_client")
    assert (await s.refresh(token)).status_code == 200


async def test_reuse_revokes_the_family_even_when_the_grant_runs_in_a_savepoint(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    """A client_assertion request runs its grant in a savepoint that an error rolls back."""
    jwk = rsa_jwk("refresh-assertion", kid="k-refresh")
    body = oidc_app(
        "web",
        method="private_key_jwt",
        grants=["authorization_code", "refresh_token"],
        jwks={"keys": [jwk]},
        refresh_token=ROTATE_NO_GRACE,
    )
    client_id = (await create_app(any_admin, body))["credentials"]["oauthClient"]["client_id"]
    user = (await create_user(any_admin)).json()
    await assign(any_admin, client_id, user["id"])
    s = Scenario(any_server, any_admin, client_id, "", user["id"])
    first = await s.issue()

    async def refresh(token: str) -> httpx.Response:
        signed = assertion(
            client_id, rsa_private("refresh-assertion"), "k-refresh", aud=f"{ORG}/oauth2/default/v1/token"
        )
        data = {
            "grant_type": "refresh_token",
            "refresh_token": token,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": signed,
        }
        async with any_server.client() as anon:
            return await anon.post("/oauth2/default/v1/token", data=data)

    rotated = await refresh(first)
    assert rotated.status_code == 200, rotated.text
    assert_invalid_grant(await refresh(first))
    assert all(row.revoked_at is not None for row in await s.family(first))
    assert_invalid_grant(await refresh(rotated.json()["refresh_token"]))


async def test_discovery_lists_the_refresh_token_grant(server: Server) -> None:
    async with server.client() as anon:
        doc = (await anon.get("/oauth2/default/.well-known/openid-configuration")).json()
    assert "refresh_token" in doc["grant_types_supported"]


async def test_a_spa_refreshes_the_token_of_its_code_flow_with_rotation_by_default(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    """A browser app (public client, PKCE) rotates with Okta's default 30 s grace."""
    client_id = await spa_app(any_admin)
    await create_account(any_admin, "carl.sagan@example.com")
    async with any_server.client() as anon:
        tokens = await spa_code_tokens(anon, client_id, "carl.sagan@example.com", "openid offline_access")
        assert tokens.status_code == 200, tokens.text
        first = tokens.json()["refresh_token"]

        async def refresh(token: str) -> httpx.Response:
            data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id}
            return await anon.post("/oauth2/default/v1/token", data=data)

        rotated = await refresh(first)
        retried = await refresh(first)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["refresh_token"] != first
    assert retried.json()["refresh_token"] == rotated.json()["refresh_token"]
    identity = claims_of(rotated.json()["id_token"])
    assert identity["aud"] == client_id and "nonce" not in identity
    assert identity["auth_time"] == claims_of(tokens.json()["id_token"])["auth_time"]
