"""The authorization code grant at /v1/token: single-use codes bound to client, redirect URI and
PKCE verifier; replay revokes the first tokens; Okta's access-token and ID-token claims."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

import httpx
from sqlalchemy import select, update

from ostiary.jose.signer import left_hash
from ostiary.store.models.codes import AuthorizationCode
from ostiary.timeutil import utcnow
from tests.conftest import ORG_URL, Server
from tests.support.authorize import (
    REDIRECT,
    SPA_REDIRECT,
    authorize,
    claims,
    code_for,
    exchange,
    group,
    path_of,
    pkce_pair,
    redirected,
    session_token,
    spa_app,
    user,
    verified,
    web_app,
)
from tests.support.oauth import basic
from tests.support.policies import create_policy, create_rule, new_server

CARL = "carl.sagan@example.com"
AS = "/api/v1/authorizationServers"
INVALID_CODE = "The authorization code is invalid or has expired."


async def introspect(client: httpx.AsyncClient, token: str, client_id: str, secret: str) -> bool:
    response = await client.post(
        "/oauth2/default/v1/introspect", data={"token": token}, headers=basic(client_id, secret)
    )
    return bool(response.json()["active"])


async def test_a_code_becomes_tokens_with_client_secret_basic(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    client_id, secret = await web_app(any_admin)
    carl = await user(any_admin, CARL)
    async with any_server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        response = await exchange(anon, code, client_id, secret)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "openid profile email" and "refresh_token" not in body
    access = await verified(any_server, body["access_token"], "default", "api://default")
    assert access["sub"] == CARL and access["uid"] == carl and access["cid"] == client_id
    assert access["scp"] == ["openid", "profile", "email"] and isinstance(access["auth_time"], int)
    assert access["jti"].startswith("AT.") and access["ver"] == 1


async def test_the_id_token_carries_okta_claims_and_at_hash(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await web_app(admin)
    carl = await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        body = (await exchange(anon, code, client_id, secret)).json()
    id_token = await verified(server, body["id_token"], "default", client_id)
    assert id_token["sub"] == carl and id_token["aud"] == client_id
    assert id_token["iss"] == f"{ORG_URL}/oauth2/default"
    assert id_token["name"] == "Carl Sagan" and id_token["email"] == CARL
    assert id_token["preferred_username"] == CARL and id_token["email_verified"] is True
    assert id_token["given_name"] == "Carl" and id_token["family_name"] == "Sagan"
    assert id_token["nonce"] == "n0nce" and id_token["amr"] == ["pwd"] and id_token["ver"] == 1
    assert id_token["idp"].startswith("00o") and id_token["jti"].startswith("ID.")
    assert id_token["auth_time"] == claims(body["access_token"])["auth_time"]
    assert id_token["exp"] - id_token["iat"] == 3600
    assert id_token["at_hash"] == left_hash(body["access_token"], "RS256")
    assert "c_hash" not in id_token


async def test_without_openid_there_is_no_id_token(admin: httpx.AsyncClient, server: Server) -> None:
    assert (await admin.post(f"{AS}/default/scopes", json={"name": "api:read"})).status_code == 201
    client_id, secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL, scope="api:read", nonce=None)
        body = (await exchange(anon, code, client_id, secret)).json()
    assert "id_token" not in body and body["scope"] == "api:read"


async def test_a_public_client_redeems_with_its_pkce_verifier(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    client_id = await spa_app(any_admin)
    await user(any_admin, CARL)
    verifier, challenge = pkce_pair()
    async with any_server.client() as anon:
        code = await code_for(
            anon,
            client_id,
            CARL,
            redirect_uri=SPA_REDIRECT,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        response = await anon.post(
            "/oauth2/default/v1/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": SPA_REDIRECT,
                "client_id": client_id,
                "code_verifier": verifier,
            },
        )
    assert response.status_code == 200, response.text
    assert claims(response.json()["access_token"])["cid"] == client_id


async def test_the_demo_apps_query_string_token_request_works(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        token = await session_token(anon, CARL)
        response = await authorize(
            anon, client_id, sessionToken=token, response_mode="fragment", prompt="login"
        )
        code = redirected(response, part="fragment")["code"]
        query = urlencode({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT})
        answer = await anon.post(
            f"/oauth2/default/v1/token?{query}",
            content=b"",
            headers={
                **basic(client_id, secret or ""),
                "content-type": "application/x-www-form-urlencoded",
                "cache-control": "no-cache",
            },
        )
    assert answer.status_code == 200, answer.text
    assert {"access_token", "id_token"} <= set(answer.json())


async def test_a_reused_code_fails_and_revokes_the_first_access_token(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    client_id, secret = await web_app(any_admin)
    assert secret
    await user(any_admin, CARL)
    async with any_server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        first = await exchange(anon, code, client_id, secret)
        access = first.json()["access_token"]
        assert await introspect(anon, access, client_id, secret)
        replay = await exchange(anon, code, client_id, secret)
        still_active = await introspect(anon, access, client_id, secret)
        userinfo = await anon.get(
            "/oauth2/default/v1/userinfo", headers={"Authorization": f"Bearer {access}"}
        )
    assert replay.status_code == 400
    assert replay.json() == {"error": "invalid_grant", "error_description": INVALID_CODE}
    assert still_active is False and userinfo.status_code == 401


async def test_a_reused_code_also_revokes_the_refresh_token(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await web_app(admin)
    assert secret
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL, scope="openid offline_access")
        first = (await exchange(anon, code, client_id, secret)).json()
        assert first.get("refresh_token")
        await exchange(anon, code, client_id, secret)
        refresh = await anon.post(
            "/oauth2/default/v1/token",
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            headers=basic(client_id, secret),
        )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


async def test_a_wrong_or_missing_verifier_is_invalid_grant(admin: httpx.AsyncClient, server: Server) -> None:
    client_id = await spa_app(admin)
    await user(admin, CARL)
    verifier, challenge = pkce_pair()
    async with server.client() as anon:
        code = await code_for(
            anon,
            client_id,
            CARL,
            redirect_uri=SPA_REDIRECT,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        answers = []
        for wrong in (pkce_pair()[0], None, verifier[:-1] + ("A" if verifier[-1] != "A" else "B")):
            data = {"grant_type": "authorization_code", "code": code, "redirect_uri": SPA_REDIRECT}
            data["client_id"] = client_id
            if wrong is not None:
                data["code_verifier"] = wrong
            answers.append(await anon.post("/oauth2/default/v1/token", data=data))
    for answer in answers:
        assert answer.status_code == 400
        assert answer.json() == {"error": "invalid_grant", "error_description": "PKCE verification failed."}


async def test_a_verifier_for_a_code_without_challenge_is_refused(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        response = await exchange(anon, code, client_id, secret, code_verifier=pkce_pair()[0])
    assert response.json()["error"] == "invalid_grant"


async def test_a_different_redirect_uri_is_invalid_grant(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await web_app(admin, redirects=[REDIRECT, "https://app.example.com/other"])
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        response = await exchange(anon, code, client_id, secret, redirect_uri="https://app.example.com/other")
        missing = await anon.post(
            "/oauth2/default/v1/token",
            data={"grant_type": "authorization_code", "code": code},
            headers=basic(client_id, secret or ""),
        )
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert "redirect_uri" in response.json()["error_description"]
    assert missing.json()["error"] == "invalid_request"


async def test_another_client_cannot_redeem_the_code(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    other_id, other_secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        response = await exchange(anon, code, other_id, other_secret)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_description"].startswith("The grant was issued to another client.")


async def test_an_expired_code_is_invalid_grant(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        async with server.rt.db.session() as session:
            await session.execute(
                update(AuthorizationCode).values(expires_at=utcnow() - timedelta(seconds=1))
            )
        response = await exchange(anon, code, client_id, secret)
    assert response.json() == {"error": "invalid_grant", "error_description": INVALID_CODE}


async def test_codes_live_sixty_seconds_and_only_their_digest_is_stored(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL)
    async with server.rt.db.session() as session:
        row = (await session.scalars(select(AuthorizationCode))).one()
    assert row.code_hash != code and code not in row.code_hash
    assert abs((row.expires_at - row.created).total_seconds() - 60) < 1
    assert row.redirect_uri == REDIRECT and row.client_id == client_id and row.nonce == "n0nce"


async def test_unknown_codes_and_other_servers_codes_are_invalid_grant(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        unknown = await exchange(anon, "not-a-code", client_id, secret)
        code = await code_for(anon, client_id, CARL)
        at_org = await exchange(anon, code, client_id, secret, server_id=None)
        at_default = await exchange(anon, code, client_id, secret)
    assert unknown.json()["error"] == "invalid_grant" and at_org.json()["error"] == "invalid_grant"
    assert at_default.status_code == 200  # the failed attempt elsewhere did not use it up


async def test_a_client_without_the_grant_is_unauthorized_client(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        body = (await admin.get(f"/api/v1/apps/{client_id}")).json()
        body["settings"]["oauthClient"]["grant_types"] = ["implicit"]
        body["settings"]["oauthClient"]["response_types"] = ["token", "id_token"]
        assert (await admin.put(f"/api/v1/apps/{client_id}", json=body)).status_code == 200
        response = await exchange(anon, code, client_id, secret)
    assert response.json()["error"] == "unauthorized_client"


async def test_offline_access_brings_a_refresh_token(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL, scope="openid offline_access")
        body = (await exchange(anon, code, client_id, secret)).json()
    assert body["refresh_token"] and body["scope"] == "openid offline_access"


async def test_the_org_server_mints_tokens_for_the_org(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL, server_id=None, scope="openid profile groups")
        body = (await exchange(anon, code, client_id, secret, server_id=None)).json()
        management = await anon.get(
            "/api/v1/users", headers={"Authorization": f"Bearer {body['access_token']}"}
        )
    access = await verified(server, body["access_token"], None, ORG_URL)
    id_token = await verified(server, body["id_token"], None, client_id)
    assert access["iss"] == ORG_URL and access["scp"] == ["openid", "profile", "groups"]
    assert id_token["groups"] == ["Everyone"]
    assert management.status_code == 403  # an OIDC token grants no okta.* scope


async def test_custom_claims_use_the_user_and_their_groups(admin: httpx.AsyncClient, server: Server) -> None:
    silver = await group(admin, "silver subscribers")
    await user(admin, CARL, silver)
    groups_claim = {
        "name": "groups",
        "status": "ACTIVE",
        "claimType": "IDENTITY",
        "valueType": "GROUPS",
        "group_filter_type": "STARTS_WITH",
        "value": "silver",
        "conditions": {"scopes": []},
        "alwaysIncludeInToken": True,
    }
    login_claim = {
        "name": "greeting",
        "status": "ACTIVE",
        "claimType": "RESOURCE",
        "valueType": "EXPRESSION",
        "value": '"Hello " + user.firstName + " of " + app.clientId',
        "conditions": {"scopes": []},
        "alwaysIncludeInToken": True,
    }
    for claim in (groups_claim, login_claim):
        response = await admin.post(f"{AS}/default/claims", json=claim)
        assert response.status_code == 201, response.text
    client_id, secret = await web_app(admin)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL)
        body = (await exchange(anon, code, client_id, secret)).json()
    assert claims(body["id_token"])["groups"] == ["silver subscribers"]
    assert claims(body["access_token"])["greeting"] == f"Hello Carl of {client_id}"
    assert "groups" not in claims(body["access_token"])


async def test_the_rule_lifetime_applies_to_the_code_grant(admin: httpx.AsyncClient, server: Server) -> None:
    server_id = await new_server(admin, "api:read")
    policy = await create_policy(admin, server_id)
    await create_rule(
        admin,
        server_id,
        policy["id"],
        grants=["authorization_code"],
        scopes=["*"],
        actions={"token": {"accessTokenLifetimeMinutes": 5}},
    )
    client_id, secret = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as anon:
        code = await code_for(anon, client_id, CARL, server_id=server_id, scope="openid api:read")
        response = await anon.post(
            f"{path_of(server_id)}/token",
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
            headers=basic(client_id, secret or ""),
        )
    assert response.json()["expires_in"] == 300
    access = claims(response.json()["access_token"])
    assert access["exp"] - access["iat"] == 300 and access["iss"] == f"{ORG_URL}/oauth2/{server_id}"
