"""/v1/userinfo (claims by scope, Bearer errors) and /v1/logout (id_token_hint, registered
post-logout redirect URIs, state, the session ends only for its own user)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.conftest import Server
from tests.support.authorize import code_for, exchange, user, web_app
from tests.support.oauth import basic
from tests.support.userinfo import CARL, LOGOUT_TO, bearer, tokens

# --- userinfo ------------------------------------------------------------------------------------


async def test_userinfo_releases_the_claims_of_the_granted_scopes(
    admin: httpx.AsyncClient, server: Server
) -> None:
    issued = await tokens(
        admin,
        server,
        "openid profile email address phone",
        locale="en_US",
        timezone="America/Los_Angeles",
        mobilePhone="+1 555 0100",
        city="Pasadena",
        countryCode="US",
    )
    async with server.client() as anon:
        response = await anon.get("/oauth2/default/v1/userinfo", headers=bearer(issued["access_token"]))
        posted = await anon.post("/oauth2/default/v1/userinfo", headers=bearer(issued["access_token"]))
    assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["sub"].startswith("00u") and body["name"] == "Carl Sagan"
    assert (
        body["given_name"] == "Carl" and body["family_name"] == "Sagan" and body["preferred_username"] == CARL
    )
    assert body["email"] == CARL and body["email_verified"] is True
    assert body["locale"] == "en-US" and body["zoneinfo"] == "America/Los_Angeles"
    assert body["address"] == {"locality": "Pasadena", "country": "US"}
    assert body["phone_number"] == "+1 555 0100" and isinstance(body["updated_at"], int)
    assert posted.json() == body


async def test_userinfo_with_only_openid_is_just_the_subject(
    admin: httpx.AsyncClient, server: Server
) -> None:
    issued = await tokens(admin, server, "openid")
    async with server.client() as anon:
        response = await anon.get("/oauth2/default/v1/userinfo", headers=bearer(issued["access_token"]))
    assert list(response.json()) == ["sub"]


async def test_userinfo_on_the_org_server_releases_groups(admin: httpx.AsyncClient, server: Server) -> None:
    issued = await tokens(admin, server, "openid groups", server_id=None)
    async with server.client() as anon:
        response = await anon.get("/oauth2/v1/userinfo", headers=bearer(issued["access_token"]))
        elsewhere = await anon.get("/oauth2/default/v1/userinfo", headers=bearer(issued["access_token"]))
    assert response.json()["groups"] == ["Everyone"]
    assert elsewhere.status_code == 401  # a token is only good at its own server


async def test_userinfo_without_a_token_or_with_a_bad_one_is_401(
    admin: httpx.AsyncClient, server: Server
) -> None:
    issued = await tokens(admin, server, "openid")
    async with server.client() as anon:
        missing = await anon.get("/oauth2/default/v1/userinfo")
        garbage = await anon.get("/oauth2/default/v1/userinfo", headers=bearer("not.a.token"))
        tampered = await anon.get(
            "/oauth2/default/v1/userinfo", headers=bearer(issued["access_token"][:-4] + "AAAA")
        )
    for response in (missing, garbage, tampered):
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in garbage.headers["www-authenticate"]


async def test_userinfo_after_revocation_is_401(admin: httpx.AsyncClient, server: Server) -> None:
    issued = await tokens(admin, server, "openid")
    async with server.client() as anon:
        revoked = await anon.post(
            "/oauth2/default/v1/revoke",
            data={"token": issued["access_token"]},
            headers=basic(issued["client_id"], issued["secret"]),
        )
        response = await anon.get("/oauth2/default/v1/userinfo", headers=bearer(issued["access_token"]))
    assert revoked.status_code == 200 and response.status_code == 401


async def test_userinfo_without_openid_is_403_insufficient_scope(
    admin: httpx.AsyncClient, server: Server
) -> None:
    assert (
        await admin.post("/api/v1/authorizationServers/default/scopes", json={"name": "api:read"})
    ).status_code == 201
    issued = await tokens(admin, server, "api:read")
    async with server.client() as anon:
        response = await anon.get("/oauth2/default/v1/userinfo", headers=bearer(issued["access_token"]))
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


async def test_userinfo_for_a_deactivated_user_is_401(admin: httpx.AsyncClient, server: Server) -> None:
    issued = await tokens(admin, server, "openid")
    user_id = (await admin.get(f"/api/v1/users/{CARL}")).json()["id"]
    assert (await admin.post(f"/api/v1/users/{user_id}/lifecycle/suspend")).status_code == 200
    async with server.client() as anon:
        response = await anon.get("/oauth2/default/v1/userinfo", headers=bearer(issued["access_token"]))
    assert response.status_code == 401


# --- logout --------------------------------------------------------------------------------------


async def sign_in(admin: httpx.AsyncClient, browser: httpx.AsyncClient) -> dict[str, str]:
    """Give ``browser`` a session (made by the sessionToken of ``code_for``); its tokens."""
    client_id, secret = await web_app(admin, post_logout_redirect_uris=[LOGOUT_TO])
    await user(admin, CARL)
    code = await code_for(browser, client_id, CARL)
    answer = (await exchange(browser, code, client_id, secret)).json()
    assert (await browser.get("/api/v1/sessions/me")).status_code == 200
    return {**answer, "client_id": client_id}


async def test_logout_ends_the_session_and_returns_with_state(
    admin: httpx.AsyncClient, server: Server
) -> None:
    async with server.client() as browser:
        issued = await sign_in(admin, browser)
        response = await browser.get(
            "/oauth2/default/v1/logout",
            params={
                "id_token_hint": issued["id_token"],
                "post_logout_redirect_uri": LOGOUT_TO,
                "state": "bye",
            },
        )
        me = await browser.get("/api/v1/sessions/me")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == LOGOUT_TO
    assert dict(parse_qsl(location.query)) == {"state": "bye"}
    assert 'sid=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    assert me.status_code == 404


async def test_logout_without_a_redirect_goes_to_the_sign_in_page(
    admin: httpx.AsyncClient, server: Server
) -> None:
    async with server.client() as browser:
        issued = await sign_in(admin, browser)
        response = await browser.post("/oauth2/default/v1/logout", data={"id_token_hint": issued["id_token"]})
        me = await browser.get("/api/v1/sessions/me")
    assert response.status_code == 302 and response.headers["location"] == "/login"
    assert me.status_code == 404


async def test_an_unregistered_post_logout_uri_is_an_error_page(
    admin: httpx.AsyncClient, server: Server
) -> None:
    async with server.client() as browser:
        issued = await sign_in(admin, browser)
        response = await browser.get(
            "/oauth2/default/v1/logout",
            params={"id_token_hint": issued["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
        )
        me = await browser.get("/api/v1/sessions/me")
    assert response.status_code == 400 and "location" not in response.headers
    assert me.status_code == 200  # nothing happened


async def test_a_bad_or_missing_id_token_hint_is_an_error_page(
    admin: httpx.AsyncClient, server: Server
) -> None:
    async with server.client() as browser:
        issued = await sign_in(admin, browser)
        missing = await browser.get(
            "/oauth2/default/v1/logout", params={"post_logout_redirect_uri": LOGOUT_TO}
        )
        access_token = await browser.get(
            "/oauth2/default/v1/logout",
            params={"id_token_hint": issued["access_token"], "post_logout_redirect_uri": LOGOUT_TO},
        )
        other_server = await browser.get(
            "/oauth2/v1/logout",
            params={"id_token_hint": issued["id_token"], "post_logout_redirect_uri": LOGOUT_TO},
        )
        me = await browser.get("/api/v1/sessions/me")
    for response in (missing, access_token, other_server):
        assert response.status_code == 400 and "location" not in response.headers
    assert me.status_code == 200


async def test_logout_with_another_users_token_keeps_the_session(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, secret = await web_app(admin, post_logout_redirect_uris=[LOGOUT_TO])
    await user(admin, "lois.lane@example.com")
    async with server.client() as other:
        code = await code_for(other, client_id, "lois.lane@example.com")
        lois = (await exchange(other, code, client_id, secret)).json()
    async with server.client() as browser:
        await sign_in(admin, browser)
        response = await browser.get(
            "/oauth2/default/v1/logout",
            params={"id_token_hint": lois["id_token"], "post_logout_redirect_uri": LOGOUT_TO},
        )
        me = await browser.get("/api/v1/sessions/me")
    assert response.status_code == 302 and response.headers["location"] == LOGOUT_TO
    assert me.status_code == 200 and me.json()["login"] == CARL


async def test_logout_without_a_session_just_redirects(admin: httpx.AsyncClient, server: Server) -> None:
    async with server.client() as browser:
        issued = await sign_in(admin, browser)
    async with server.client() as fresh:
        response = await fresh.get(
            "/oauth2/default/v1/logout",
            params={"id_token_hint": issued["id_token"], "post_logout_redirect_uri": LOGOUT_TO},
        )
    assert response.status_code == 302 and response.headers["location"] == LOGOUT_TO
