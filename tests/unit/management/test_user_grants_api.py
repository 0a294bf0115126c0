"""/api/v1/users/{userId}/grants: the consent a user gave at /authorize, listed, read and
revoked as Okta's OAuth2ScopeConsentGrant; revoking a grant revokes the refresh tokens issued
under it and brings the consent dialog back."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx
import pytest
from okta.models import OAuth2ScopeConsentGrant

from ostiary.domain.authz.consents import grant_consent
from ostiary.store.repositories import orgs
from tests.conftest import Server
from tests.support.authorize import authorize, session_token
from tests.support.authorize_flows import AS, CARL, consent_setup
from tests.support.oauth import ORG
from tests.support.refresh_tokens import Scenario, assert_invalid_grant, scenario
from tests.support.users import create as create_user
from tests.unit.management.test_admin_roles_api import admin_with


def grants_url(user_id: str) -> str:
    return f"/api/v1/users/{user_id}/grants"


async def consent(s: Scenario, scopes: Sequence[str], server_id: str = "default") -> None:
    async with s.server.rt.db.session() as session:
        org = await orgs.ensure_default(session)
        await grant_consent(
            session, org.id, user_id=s.user_id, client_id=s.client_id, server_id=server_id, scopes=scopes
        )
        await session.commit()


async def test_consent_given_at_authorize_is_a_grant_in_okta_shape(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id = await consent_setup(admin)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        to_consent = await authorize(browser, client_id, scope="openid photos:read", sessionToken=token)
        page = await browser.get(to_consent.headers["location"])
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        allowed = await browser.post(
            to_consent.headers["location"].split("?")[0], data={**fields, "decision": "allow"}
        )
        assert allowed.status_code == 303
    user_id = (await admin.get(f"/api/v1/users/{CARL}")).json()["id"]
    response = await admin.get(grants_url(user_id))
    assert response.status_code == 200, response.text
    (grant,) = response.json()
    scope = (await admin.get(f"{AS}/default/scopes", params={"q": "photos"})).json()[0]
    assert grant["id"].startswith("oag")
    assert (grant["status"], grant["source"], grant["userId"], grant["clientId"]) == (
        "ACTIVE",
        "END_USER",
        user_id,
        client_id,
    )
    assert grant["scopeId"] == scope["id"] and grant["_embedded"] == {"scope": {"id": scope["id"]}}
    assert grant["issuer"] == f"{ORG}/oauth2/default"
    assert grant["createdBy"] == {"id": user_id, "type": "User"}
    href = f"{ORG}{grants_url(user_id)}/{grant['id']}"
    assert grant["_links"]["self"] == {"href": href, "hints": {"allow": ["GET", "DELETE"]}}
    assert grant["_links"]["scope"]["href"] == f"{ORG}{AS}/default/scopes/{scope['id']}"
    assert grant["_links"]["user"] == {"href": f"{ORG}/api/v1/users/{user_id}"}
    assert grant["_links"]["app"]["href"] == f"{ORG}/api/v1/apps/{client_id}"
    assert grant["_links"]["authorizationServer"]["href"] == f"{ORG}{AS}/default"
    parsed = OAuth2ScopeConsentGrant.from_dict(grant)
    assert parsed is not None and parsed.user_id == user_id
    one = await admin.get(href.removeprefix(ORG), params={"expand": "scope"})
    assert one.status_code == 200, one.text
    assert one.json()["_embedded"]["scope"] == {
        "id": scope["id"],
        "name": "photos:read",
        "displayName": "See your photos",
        "description": scope["description"],
    }
    for link in ("self", "scope", "user", "app", "authorizationServer"):
        assert (await admin.get(grant["_links"][link]["href"].removeprefix(ORG))).status_code == 200, link


async def test_revoking_a_grant_asks_for_consent_again(admin: httpx.AsyncClient, server: Server) -> None:
    client_id = await consent_setup(admin)
    async with server.client() as browser:
        token = await session_token(browser, CARL)
        to_consent = await authorize(browser, client_id, scope="openid photos:read", sessionToken=token)
        page = await browser.get(to_consent.headers["location"])
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        await browser.post(to_consent.headers["location"].split("?")[0], data={**fields, "decision": "allow"})
        user_id = (await admin.get(f"/api/v1/users/{CARL}")).json()["id"]
        (grant,) = (await admin.get(grants_url(user_id))).json()
        response = await admin.delete(f"{grants_url(user_id)}/{grant['id']}")
        assert (response.status_code, response.content) == (204, b"")
        again = await authorize(browser, client_id, scope="openid photos:read")
    assert urlsplit(again.headers["location"]).path.endswith("/authorize/consent")
    assert (await admin.get(grants_url(user_id))).json() == []


async def test_revoking_a_grant_revokes_the_refresh_tokens_issued_under_it(
    any_admin: httpx.AsyncClient, any_server: Server
) -> None:
    s = await scenario(any_admin, any_server)
    await consent(s, ["profile", "email"])
    with_profile = await s.issue(scopes=("openid", "profile", "offline_access"))
    without = await s.issue(scopes=("openid", "email", "offline_access"))
    grants = {g["_embedded"]["scope"]["id"]: g for g in (await any_admin.get(grants_url(s.user_id))).json()}
    scopes = {sc["name"]: sc["id"] for sc in (await any_admin.get(f"{AS}/default/scopes")).json()}
    profile_grant = grants[scopes["profile"]]
    response = await any_admin.delete(f"{grants_url(s.user_id)}/{profile_grant['id']}")
    assert response.status_code == 204
    assert_invalid_grant(await s.refresh(with_profile))
    assert (await s.refresh(without)).status_code == 200
    gone = await any_admin.get(f"{grants_url(s.user_id)}/{profile_grant['id']}")
    assert (gone.status_code, gone.json()["errorCode"]) == (404, "E0000007")
    assert [g["scopeId"] for g in (await any_admin.get(grants_url(s.user_id))).json()] == [scopes["email"]]


async def test_revoking_all_grants_revokes_every_token_under_them(
    admin: httpx.AsyncClient, server: Server
) -> None:
    s = await scenario(admin, server)
    await consent(s, ["profile"])
    token = await s.issue()
    response = await admin.delete(grants_url(s.user_id))
    assert (response.status_code, response.content) == (204, b"")
    assert (await admin.get(grants_url(s.user_id))).json() == []
    assert_invalid_grant(await s.refresh(token))
    events = (
        await admin.get("/api/v1/logs", params={"filter": 'eventType eq "app.oauth2.as.consent.revoke"'})
    ).json()
    assert [e["target"][0]["id"] for e in events] == [s.user_id]


async def test_grants_are_filtered_by_scope_and_paged(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    await consent(s, ["profile", "email", "phone"])
    scopes = {sc["name"]: sc["id"] for sc in (await admin.get(f"{AS}/default/scopes")).json()}
    by_id = await admin.get(grants_url(s.user_id), params={"scopeId": scopes["email"]})
    by_name = await admin.get(grants_url(s.user_id), params={"scopeId": "email"})
    assert [g["scopeId"] for g in by_id.json()] == [scopes["email"]] == [g["scopeId"] for g in by_name.json()]
    first = await admin.get(grants_url(s.user_id), params={"limit": "2"})
    assert len(first.json()) == 2 and 'rel="next"' in first.headers["link"]
    second = await admin.get(first.links["next"]["url"])
    assert len(second.json()) == 1
    assert {g["id"] for g in first.json() + second.json()} == {
        g["id"] for g in (await admin.get(grants_url(s.user_id))).json()
    }


@pytest.mark.parametrize(
    ("path", "summary"),
    [
        (
            "/api/v1/users/00u00000000000000000/grants",
            "Not found: Resource not found: 00u00000000000000000 (User)",
        ),
        (
            "{grants}/oag00000000000000000",
            "Not found: Resource not found: oag00000000000000000 (OAuth2ScopeConsentGrant)",
        ),
    ],
)
async def test_unknown_users_and_grants_are_okta_404s(
    admin: httpx.AsyncClient, server: Server, path: str, summary: str
) -> None:
    s = await scenario(admin, server)
    for method in ("GET", "DELETE"):
        response = await admin.request(method, path.format(grants=grants_url(s.user_id)))
        assert response.status_code == 404, (method, response.text)
        assert (response.json()["errorCode"], response.json()["errorSummary"]) == ("E0000007", summary)


async def test_another_users_grant_is_not_found(admin: httpx.AsyncClient, server: Server) -> None:
    s = await scenario(admin, server)
    await consent(s, ["profile"])
    (grant,) = (await admin.get(grants_url(s.user_id))).json()
    other = await create_user(admin, "other.user@example.com")
    response = await admin.get(f"{grants_url(other.json()['id'])}/{grant['id']}")
    assert response.status_code == 404


async def test_me_is_the_admin_the_token_acts_for(admin: httpx.AsyncClient, server: Server) -> None:
    user_id, token = await admin_with(server, admin, "me.admin@example.com", "SUPER_ADMIN")
    async with server.client(token) as me:
        assert (await me.get(grants_url("me"))).json() == []
    response = await admin.get(grants_url("me"))
    assert (response.status_code, response.json()["errorCode"]) == (404, "E0000007")
    assert user_id


@pytest.mark.parametrize(
    ("role", "read", "revoke"),
    [
        ("USER_ADMIN", 200, 204),
        ("ORG_ADMIN", 200, 204),
        ("HELP_DESK_ADMIN", 200, 403),
        ("READ_ONLY_ADMIN", 200, 403),
        ("APP_ADMIN", 200, 403),
        ("REPORT_ADMIN", 403, 403),
    ],
)
async def test_reading_needs_users_read_and_revoking_users_manage(
    admin: httpx.AsyncClient, server: Server, role: str, read: int, revoke: int
) -> None:
    s = await scenario(admin, server)
    await consent(s, ["profile"])
    _holder, token = await admin_with(server, admin, f"{role.lower()}@example.com", role)
    async with server.client(token) as caller:
        assert (await caller.get(grants_url(s.user_id))).status_code == read
        refused_or_done = await caller.delete(grants_url(s.user_id))
    assert refused_or_done.status_code == revoke
    if revoke == 403:
        assert refused_or_done.json()["errorCode"] == "E0000006"
        assert len((await admin.get(grants_url(s.user_id))).json()) == 1
