"""/v1/authorize: errors that must not redirect, errors delivered to the redirect URI, sign-in
(sessionToken, session cookie, prompt, max_age, login_hint), every response type and mode on the
org AS, the default AS and a custom AS with the API Center's silver/gold rules, consent, CORS."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from sqlalchemy import update

from ostiary.domain.authz.policy_engine import POLICY_DENIED
from ostiary.jose.signer import left_hash
from ostiary.store.models.sessions import UserSession
from ostiary.timeutil import utcnow
from tests.conftest import ORG_URL, Server
from tests.support.authorize import (
    REDIRECT,
    SPA_REDIRECT,
    authorize,
    authorize_params,
    claims,
    group,
    path_of,
    pkce_pair,
    redirected,
    session_token,
    spa_app,
    user,
    web_app,
)
from tests.support.authorize_flows import AS, CARL, consent_setup, signed_in
from tests.support.login_page import csrf_token
from tests.support.policies import USER_PASSWORD, create_policy, create_rule, new_server

SILVER, GOLD = "http://myapp.com/scp/silver", "http://myapp.com/scp/gold"
OIDC = ["openid", "profile", "email", "address", "phone", "offline_access"]


def no_redirect(response: httpx.Response, status: int = 400) -> None:
    """An error page: the browser stays here, nothing goes to any redirect URI (400; an
    unknown authorization server is 404)."""
    assert response.status_code == status, response.text
    assert "location" not in response.headers
    assert response.headers["content-type"].startswith("text/html")


# --- errors shown on a page, never redirected ----------------------------------------------------


async def test_an_unregistered_redirect_uri_is_an_error_page(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as browser:
        for uri in ("https://evil.example/callback", REDIRECT + "/more", REDIRECT + "?x=1", REDIRECT.upper()):
            response = await authorize(browser, client_id, redirect_uri=uri)
            no_redirect(response)
            assert "redirect_uri" in response.text and "evil" not in response.text


async def test_unknown_missing_or_inactive_clients_are_error_pages(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    assert (await admin.post(f"/api/v1/apps/{client_id}/lifecycle/deactivate")).status_code == 200
    async with server.client() as browser:
        for cid in ("0oaUnknownClient1234", "", client_id):
            response = await authorize(browser, cid)
            no_redirect(response)
        missing_redirect = await authorize(browser, client_id, redirect_uri=None)
    no_redirect(missing_redirect)


async def test_an_unknown_server_is_an_error_page(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as browser:
        response = await authorize(browser, client_id, "ausNoSuchServer12345")
    no_redirect(response, 404)


async def test_a_subdomain_wildcard_matches_one_label_only_when_enabled(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(
        admin, redirects=["https://*.example.com/callback"], wildcard_redirect="SUBDOMAIN"
    )
    async with server.client() as browser:
        ok = await authorize(
            browser, client_id, redirect_uri="https://tenant1.example.com/callback", prompt="none"
        )
        deeper = await authorize(browser, client_id, redirect_uri="https://a.b.example.com/callback")
        other_path = await authorize(browser, client_id, redirect_uri="https://tenant1.example.com/other")
    assert redirected(ok)["error"] == "login_required"
    assert ok.headers["location"].startswith("https://tenant1.example.com/callback?")
    no_redirect(deeper)
    no_redirect(other_path)


# --- errors delivered to the redirect URI --------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"state": None}, "invalid_request"),
        ({"request": "eyJhbGciOiJub25lIn0.e30."}, "request_not_supported"),
        ({"response_type": None}, "invalid_request"),
        ({"response_type": "none"}, "unsupported_response_type"),
        ({"response_type": "code foo"}, "unsupported_response_type"),
        ({"response_mode": "web_message"}, "unsupported_response_mode"),
        ({"scope": "openid nope:unknown"}, "invalid_scope"),
        ({"scope": None}, "invalid_scope"),
        ({"prompt": "select_account"}, "invalid_request"),
        ({"prompt": "none login"}, "invalid_request"),
        ({"max_age": "-5"}, "invalid_request"),
        ({"code_challenge": "short", "code_challenge_method": "S256"}, "invalid_request"),
    ],
)
async def test_bad_requests_go_back_to_the_client_with_state(
    admin: httpx.AsyncClient, server: Server, overrides: dict[str, Any], error: str
) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as browser:
        response = await authorize(browser, client_id, **overrides)
    values = redirected(response)
    assert values["error"] == error, values
    assert values.get("state") == overrides.get("state", "st4te")
    assert response.headers["location"].startswith(REDIRECT + "?")


async def test_a_response_type_the_app_does_not_allow_is_refused(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    body = (await admin.get(f"/api/v1/apps/{client_id}")).json()
    body["settings"]["oauthClient"]["grant_types"] = ["authorization_code"]
    body["settings"]["oauthClient"]["response_types"] = ["code"]
    assert (await admin.put(f"/api/v1/apps/{client_id}", json=body)).status_code == 200
    async with server.client() as browser:
        response = await authorize(browser, client_id, response_type="token id_token")
    values = redirected(response, part="fragment")
    assert values["error"] == "unsupported_response_type"
    assert "Configured response types: ['code']" in values["error_description"]


async def test_tokens_never_travel_in_the_query(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as browser:
        response = await authorize(browser, client_id, response_type="token", response_mode="query")
    assert urlsplit(response.headers["location"]).query == ""
    assert redirected(response, part="fragment")["error"] == "invalid_request"


async def test_an_id_token_needs_a_nonce_and_the_openid_scope(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as browser:
        no_nonce = await authorize(browser, client_id, response_type="id_token", nonce=None)
        no_openid = await authorize(browser, client_id, response_type="id_token", scope="offline_access")
    assert redirected(no_nonce, part="fragment")["error"] == "invalid_request"
    assert "nonce" in redirected(no_nonce, part="fragment")["error_description"]
    assert redirected(no_openid, part="fragment")["error"] == "access_denied"
    assert "`openid` scope" in redirected(no_openid, part="fragment")["error_description"]


async def test_a_public_client_must_use_pkce_s256(admin: httpx.AsyncClient, server: Server) -> None:
    client_id = await spa_app(admin)
    _, challenge = pkce_pair()
    async with server.client() as browser:
        missing = await authorize(browser, client_id, redirect_uri=SPA_REDIRECT)
        plain = await authorize(
            browser,
            client_id,
            redirect_uri=SPA_REDIRECT,
            code_challenge=challenge,
            code_challenge_method="plain",
        )
        implied_plain = await authorize(
            browser, client_id, redirect_uri=SPA_REDIRECT, code_challenge=challenge
        )
        s256 = await authorize(
            browser,
            client_id,
            redirect_uri=SPA_REDIRECT,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
    for refused in (missing, plain, implied_plain):
        assert redirected(refused)["error"] == "invalid_request"
    assert "PKCE" in redirected(missing)["error_description"]
    assert urlsplit(s256.headers["location"]).path == "/login"  # accepted: on to sign-in


async def test_an_app_with_pkce_required_needs_a_challenge(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin, pkce_required=True)
    async with server.client() as browser:
        response = await authorize(browser, client_id)
    assert redirected(response)["error_description"] == "PKCE code challenge is required by the application."


async def test_prompt_none_without_a_session_is_login_required(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as browser:
        response = await authorize(browser, client_id, prompt="none")
    values = redirected(response)
    assert values == {
        "error": "login_required",
        "error_description": "The client specified not to prompt, but the user is not logged in.",
        "state": "st4te",
    }


async def test_an_unassigned_user_is_denied(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin, assign_everyone=False)
    await user(admin, CARL)
    async with server.client() as browser:
        response = await authorize(browser, client_id, sessionToken=await session_token(browser, CARL))
    assert redirected(response)["error"] == "access_denied"
    assert redirected(response)["error_description"] == "User is not assigned to the client application."
    assert "sid=" in response.headers["set-cookie"]  # signed in to the org all the same


async def test_the_system_log_records_sign_ins_and_refusals(admin: httpx.AsyncClient, server: Server) -> None:
    allowed, _ = await web_app(admin)
    refused, _ = await web_app(admin, assign_everyone=False)
    await user(admin, CARL)
    async with server.client() as browser:
        await authorize(browser, allowed, sessionToken=await session_token(browser, CARL))
        await authorize(browser, refused, prompt="none")
    sso = (
        await admin.get("/api/v1/logs", params={"filter": 'eventType eq "user.authentication.sso"'})
    ).json()
    failed = (
        await admin.get("/api/v1/logs", params={"filter": 'eventType eq "app.oauth2.as.authorize"'})
    ).json()
    assert [e["target"][0]["id"] for e in sso] == [allowed]
    assert sso[0]["actor"]["alternateId"] == CARL
    assert failed[0]["outcome"]["result"] == "FAILURE" and failed[0]["target"][0]["id"] == refused
    assert "not assigned" in failed[0]["outcome"]["reason"]


async def test_a_user_assigned_directly_or_through_a_group_gets_a_code(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin, assign_everyone=False)
    team = await group(admin, "team")
    direct = await user(admin, "ann.direct@example.com")
    await user(admin, "bob.member@example.com", team)
    assert (await admin.post(f"/api/v1/apps/{client_id}/users", json={"id": direct})).status_code == 200
    assert (await admin.put(f"/api/v1/apps/{client_id}/groups/{team}", json={})).status_code == 200
    async with server.client() as browser:
        for login in ("ann.direct@example.com", "bob.member@example.com"):
            response = await authorize(browser, client_id, sessionToken=await session_token(browser, login))
            assert "code" in redirected(response)


# --- signing in ----------------------------------------------------------------------------------


async def test_without_a_session_the_browser_goes_to_the_sign_in_page(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as browser:
        response = await authorize(browser, client_id, login_hint=CARL, prompt="login", max_age="0")
        location = urlsplit(response.headers["location"])
        query = dict(parse_qsl(location.query))
        page = await browser.get(response.headers["location"])
    assert response.status_code == 302 and location.path == "/login"
    back = urlsplit(query["fromURI"])
    assert back.path == "/oauth2/default/v1/authorize/resume"
    back_params = dict(parse_qsl(back.query))
    assert back_params["client_id"] == client_id and back_params["state"] == "st4te"
    assert "prompt" not in back_params and "max_age" not in back_params
    assert query["login_hint"] == CARL
    assert f'value="{CARL}"' in page.text


async def test_the_hosted_sign_in_page_returns_through_the_resume_page(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        to_login = await authorize(browser, client_id)
        page = await browser.get(to_login.headers["location"])
        from_uri = re.search(r'name="fromURI" value="([^"]+)"', page.text)
        assert from_uri
        signed = await browser.post(
            "/login",
            data={
                "csrfToken": csrf_token(page),
                "username": CARL,
                "password": USER_PASSWORD,
                "fromURI": from_uri.group(1).replace("&amp;", "&"),
            },
        )
        resume = await browser.get(signed.headers["location"])
        target = re.search(r'http-equiv="refresh" content="0;url=([^"]+)"', resume.text)
        assert target
        done = await browser.get(target.group(1).replace("&amp;", "&"))
    assert signed.status_code == 303 and urlsplit(signed.headers["location"]).path.endswith(
        "/authorize/resume"
    )
    assert resume.status_code == 200 and "script" not in resume.text
    assert target.group(1).startswith("/oauth2/default/v1/authorize?")
    values = redirected(done)
    assert values["state"] == "st4te" and values["code"]


async def test_a_session_token_skips_the_page_and_sets_the_session_cookie(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        first = await authorize(browser, client_id, sessionToken=token)
        again = await authorize(browser, client_id, prompt="none")  # the cookie is the session now
        me = await browser.get("/api/v1/sessions/me")
    assert "code" in redirected(first) and "code" in redirected(again)
    cookie = first.headers["set-cookie"]
    assert cookie.startswith("sid=") and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert me.status_code == 200 and me.json()["login"] == CARL


async def test_a_session_token_is_single_use(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as first, server.client() as second:
        token = await session_token(first, CARL)
        assert "code" in redirected(await authorize(first, client_id, sessionToken=token))
        reused = await authorize(second, client_id, sessionToken=token, prompt="none")
    assert redirected(reused)["error"] == "login_required"


async def test_prompt_login_asks_again_despite_a_session(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        await signed_in(browser, client_id)
        response = await authorize(browser, client_id, prompt="login")
    assert urlsplit(response.headers["location"]).path == "/login"


async def test_max_age_decides_whether_the_session_is_recent_enough(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        await signed_in(browser, client_id)
        recent = await authorize(browser, client_id, max_age="3600")
        async with server.rt.db.session() as session:
            an_hour_ago = utcnow() - timedelta(hours=1)
            await session.execute(update(UserSession).values(last_password_verification=an_hour_ago))
        stale = await authorize(browser, client_id, max_age="60")
        stale_none = await authorize(browser, client_id, max_age="60", prompt="none")
    assert "code" in redirected(recent)
    assert urlsplit(stale.headers["location"]).path == "/login"
    assert redirected(stale_none)["error"] == "login_required"


async def test_post_authorize_works_like_get(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        params = authorize_params(client_id, sessionToken=await session_token(browser, CARL))
        response = await browser.post("/oauth2/default/v1/authorize", data=params)
    assert "code" in redirected(response)


# --- response types and modes --------------------------------------------------------------------


async def test_code_in_the_query_on_the_org_server(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        response = await authorize(browser, client_id, None, sessionToken=await session_token(browser, CARL))
    assert set(redirected(response)) == {"code", "state"}
    assert response.headers["location"].startswith(REDIRECT + "?code=")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_the_org_server_only_issues_oidc_scopes(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    async with server.client() as browser:
        okta = await authorize(browser, client_id, None, scope="openid okta.users.read")
        custom = await authorize(browser, client_id, None, scope="openid api:read")
    for response in (okta, custom):
        assert redirected(response)["error"] == "invalid_scope"


async def test_token_id_token_on_the_org_server(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        response = await authorize(
            browser, client_id, None, response_type="token id_token", sessionToken=token, scope="openid email"
        )
    values = redirected(response, part="fragment")
    access, id_token = claims(values["access_token"]), claims(values["id_token"])
    assert access["iss"] == ORG_URL and access["aud"] == ORG_URL and access["scp"] == ["openid", "email"]
    assert id_token["iss"] == ORG_URL and id_token["aud"] == client_id and id_token["nonce"] == "n0nce"


async def test_implicit_token_id_token_delivers_both_in_the_fragment(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id, _ = await web_app(admin)
    carl = await user(admin, CARL)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        response = await authorize(browser, client_id, response_type="token id_token", sessionToken=token)
    assert urlsplit(response.headers["location"]).query == ""
    values = redirected(response, part="fragment")
    assert values["token_type"] == "Bearer" and values["expires_in"] == "3600" and values["state"] == "st4te"
    assert values["scope"] == "openid profile email"
    access, id_token = claims(values["access_token"]), claims(values["id_token"])
    assert access["sub"] == CARL and access["uid"] == carl and access["aud"] == "api://default"
    assert id_token["sub"] == carl and id_token["nonce"] == "n0nce"
    assert id_token["at_hash"] == left_hash(values["access_token"], "RS256")
    assert "email" not in id_token  # thin: issued with an access token, as Okta does


async def test_an_id_token_alone_carries_the_profile_claims(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        response = await authorize(browser, client_id, response_type="id_token", sessionToken=token)
    values = redirected(response, part="fragment")
    assert set(values) == {"id_token", "state"}
    id_token = claims(values["id_token"])
    assert id_token["email"] == CARL and id_token["name"] == "Carl Sagan" and "at_hash" not in id_token


@pytest.mark.parametrize("response_type", ["code id_token", "code token", "code id_token token"])
async def test_hybrid_responses_bind_the_id_token_to_the_code(
    admin: httpx.AsyncClient, server: Server, response_type: str
) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        response = await authorize(browser, client_id, response_type=response_type, sessionToken=token)
    values = redirected(response, part="fragment")
    assert "code" in values
    assert ("access_token" in values) == ("token" in response_type.split())
    if "id_token" in values:
        assert claims(values["id_token"])["c_hash"] == left_hash(values["code"], "RS256")


async def test_form_post_answers_an_auto_submitting_form(admin: httpx.AsyncClient, server: Server) -> None:
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        response = await authorize(browser, client_id, response_mode="form_post", sessionToken=token)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert f'<form method="post" action="{REDIRECT}">' in response.text
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', response.text))
    assert set(fields) == {"code", "state"} and fields["state"] == "st4te"
    policy = response.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", policy)
    assert nonce and f'<script nonce="{nonce.group(1)}">' in response.text
    assert "form-action https://app.example.com" in policy


async def test_a_redirect_uri_with_a_query_keeps_it(admin: httpx.AsyncClient, server: Server) -> None:
    uri = "https://app.example.com/cb?tenant=7"
    client_id, _ = await web_app(admin, redirects=[uri])
    async with server.client() as browser:
        response = await authorize(browser, client_id, redirect_uri=uri, prompt="none")
    assert response.headers["location"].startswith(uri + "&error=login_required")


# --- a custom server with the API Center's rules -------------------------------------------------


async def solar_system(admin: httpx.AsyncClient) -> tuple[str, str, str, str]:
    """The seed's setup on a custom server: silver and gold scopes and rules; returns
    (server id, client id, clark's login, lois's login)."""
    server_id = await new_server(admin, SILVER, GOLD)
    silver, gold = await group(admin, "silver subscribers"), await group(admin, "gold subscribers")
    await user(admin, "clark.kent@example.com", silver)
    await user(admin, "lois.lane@example.com", gold)
    policy = await create_policy(admin, server_id, "Solar system API access")
    grants = ["authorization_code", "implicit"]
    await create_rule(
        admin,
        server_id,
        policy["id"],
        "silver access to solar system API",
        grants=grants,
        scopes=[*OIDC, SILVER],
        people={"groups": {"include": [silver]}},
    )
    await create_rule(
        admin,
        server_id,
        policy["id"],
        "gold access to solar system API",
        grants=grants,
        scopes=[*OIDC, SILVER, GOLD],
        people={"groups": {"include": [gold]}},
        actions={"token": {"accessTokenLifetimeMinutes": 15}},
    )
    client_id, _ = await web_app(admin)
    return server_id, client_id, "clark.kent@example.com", "lois.lane@example.com"


async def test_silver_users_get_silver_and_gold_users_get_gold(
    admin: httpx.AsyncClient, server: Server
) -> None:
    server_id, client_id, clark, lois = await solar_system(admin)
    async with server.client() as browser:
        silver = await authorize(
            browser,
            client_id,
            server_id,
            response_type="token id_token",
            scope=f"openid {SILVER}",
            sessionToken=await session_token(browser, clark),
        )
        gold = await authorize(
            browser,
            client_id,
            server_id,
            response_type="token id_token",
            scope=f"openid {SILVER} {GOLD}",
            sessionToken=await session_token(browser, lois),
        )
    assert claims(redirected(silver, part="fragment")["access_token"])["scp"] == ["openid", SILVER]
    gold_values = redirected(gold, part="fragment")
    assert claims(gold_values["access_token"])["scp"] == ["openid", SILVER, GOLD]
    assert gold_values["expires_in"] == "900"


async def test_a_silver_user_asking_for_gold_is_denied(admin: httpx.AsyncClient, server: Server) -> None:
    server_id, client_id, clark, _ = await solar_system(admin)
    async with server.client() as browser:
        response = await authorize(
            browser,
            client_id,
            server_id,
            scope=f"openid {SILVER} {GOLD}",
            sessionToken=await session_token(browser, clark),
        )
    assert redirected(response) == {
        "error": "access_denied",
        "error_description": POLICY_DENIED,
        "state": "st4te",
    }


async def test_a_rule_without_the_implicit_grant_denies_tokens_from_authorize(
    admin: httpx.AsyncClient, server: Server
) -> None:
    server_id = await new_server(admin, SILVER)
    policy = await create_policy(admin, server_id)
    await create_rule(admin, server_id, policy["id"], grants=["authorization_code"], scopes=["*"])
    client_id, _ = await web_app(admin)
    await user(admin, CARL)
    async with server.client() as browser:
        code = await authorize(browser, client_id, server_id, sessionToken=await session_token(browser, CARL))
        token = await authorize(browser, client_id, server_id, response_type="token", prompt="none")
    assert "code" in redirected(code)
    assert redirected(token, part="fragment")["error"] == "access_denied"


# --- consent -------------------------------------------------------------------------------------


async def test_consent_is_asked_once_and_remembered(admin: httpx.AsyncClient, server: Server) -> None:
    client_id = await consent_setup(admin)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        to_consent = await authorize(browser, client_id, scope="openid photos:read", sessionToken=token)
        assert urlsplit(to_consent.headers["location"]).path == "/oauth2/default/v1/authorize/consent"
        page = await browser.get(to_consent.headers["location"])
        assert page.status_code == 200 and "See your photos" in page.text and "My App" in page.text
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        allowed = await browser.post(
            to_consent.headers["location"].split("?")[0], data={**fields, "decision": "allow"}
        )
        assert allowed.status_code == 303
        done = await browser.get(allowed.headers["location"])
        again = await authorize(browser, client_id, scope="openid photos:read", prompt="none")
        forced = await authorize(browser, client_id, scope="openid photos:read", prompt="consent")
    assert "sessionToken" not in to_consent.headers["location"]
    assert "code" in redirected(done) and "code" in redirected(again)
    assert urlsplit(forced.headers["location"]).path.endswith("/authorize/consent")


async def test_denying_consent_is_access_denied(admin: httpx.AsyncClient, server: Server) -> None:
    client_id = await consent_setup(admin)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        to_consent = await authorize(browser, client_id, scope="openid photos:read", sessionToken=token)
        page = await browser.get(to_consent.headers["location"])
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        denied = await browser.post(
            to_consent.headers["location"].split("?")[0], data={**fields, "decision": "deny"}
        )
        forged = await browser.post(
            to_consent.headers["location"].split("?")[0],
            data={**fields, "csrfToken": "x" * 43, "decision": "allow"},
        )
    assert redirected(denied)["error"] == "access_denied"
    assert forged.status_code == 403 and "location" not in forged.headers


async def test_prompt_none_with_pending_consent_is_consent_required(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id = await consent_setup(admin)
    async with server.client() as browser:
        await signed_in(browser, client_id)
        response = await authorize(browser, client_id, scope="openid photos:read", prompt="none")
    assert redirected(response)["error"] == "consent_required"


async def test_trusted_apps_are_never_asked_for_consent(admin: httpx.AsyncClient, server: Server) -> None:
    scope = {"name": "photos:read", "consent": "REQUIRED"}
    assert (await admin.post(f"{AS}/default/scopes", json=scope)).status_code == 201
    client_id, _ = await web_app(admin)  # consent_method TRUSTED by default
    await user(admin, CARL)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        response = await authorize(browser, client_id, scope="openid photos:read", sessionToken=token)
    assert "code" in redirected(response)


# --- discovery and CORS --------------------------------------------------------------------------


async def test_discovery_lists_the_user_flow_endpoints(server: Server) -> None:
    async with server.client() as anon:
        default = (await anon.get("/oauth2/default/.well-known/openid-configuration")).json()
        org = (await anon.get("/.well-known/openid-configuration")).json()
    assert default["authorization_endpoint"] == f"{ORG_URL}/oauth2/default/v1/authorize"
    assert default["userinfo_endpoint"] == f"{ORG_URL}/oauth2/default/v1/userinfo"
    assert default["end_session_endpoint"] == f"{ORG_URL}/oauth2/default/v1/logout"
    assert org["authorization_endpoint"] == f"{ORG_URL}/oauth2/v1/authorize"
    assert {"code", "id_token token", "code id_token"} <= set(default["response_types_supported"])
    assert default["response_modes_supported"] == ["query", "fragment", "form_post", "okta_post_message"]
    assert {"authorization_code", "implicit"} <= set(default["grant_types_supported"])
    assert default["code_challenge_methods_supported"] == ["S256"]


async def trust(admin: httpx.AsyncClient, origin: str) -> None:
    body = {"name": "spa", "origin": origin, "scopes": [{"type": "CORS"}]}
    assert (await admin.post("/api/v1/trustedOrigins", json=body)).status_code == 200


async def test_a_preflight_from_an_untrusted_origin_gets_no_cors_headers(
    admin: httpx.AsyncClient, server: Server
) -> None:
    await trust(admin, "https://spa.example.com")
    async with server.client() as anon:
        for path in ("/oauth2/default/v1/token", "/oauth2/v1/token", "/oauth2/default/v1/userinfo"):
            preflight = await anon.options(
                path,
                headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
            )
            assert preflight.status_code == 204
            assert not any(h.lower().startswith("access-control-") for h in preflight.headers)
        actual = await anon.post(
            "/oauth2/default/v1/token",
            data={"grant_type": "nope"},
            headers={"Origin": "https://evil.example"},
        )
    assert actual.status_code == 401  # the client is authenticated before the grant type is read
    assert actual.json()["error"] == "invalid_client"
    assert not any(h.lower().startswith("access-control-") for h in actual.headers)


async def test_a_trusted_origin_gets_cors_headers_on_the_oauth_endpoints(
    admin: httpx.AsyncClient, server: Server
) -> None:
    origin = "https://spa.example.com"
    await trust(admin, origin)
    async with server.client() as anon:
        preflight = await anon.options(
            "/oauth2/default/v1/token", headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        error = await anon.post("/oauth2/default/v1/token", data={}, headers={"Origin": origin})
        keys = await anon.get("/oauth2/default/v1/keys", headers={"Origin": origin})
        userinfo = await anon.get("/oauth2/default/v1/userinfo", headers={"Origin": origin})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == origin
    assert "POST" in preflight.headers["access-control-allow-methods"]
    for response in (error, keys, userinfo):
        assert response.headers["access-control-allow-origin"] == origin
        assert "access-control-allow-credentials" not in response.headers
    assert error.status_code == 400 and userinfo.status_code == 401


async def test_the_authorize_endpoint_has_no_cors(admin: httpx.AsyncClient, server: Server) -> None:
    origin = "https://spa.example.com"
    await trust(admin, origin)
    client_id, _ = await web_app(admin)
    async with server.client() as anon:
        response = await authorize(anon, client_id, prompt="none")
        preflight = await anon.options(
            f"{path_of('default')}/authorize",
            headers={"Origin": origin, "Access-Control-Request-Method": "GET"},
        )
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight.headers
