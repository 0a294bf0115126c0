"""The Sessions API: a session from a session token, the browser's own session by cookie with
CORS for trusted origins only, administration of sessions, and clearing a user's sessions."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from okta.models import Session as SdkSession

from tests.conftest import Server
from tests.support.authn import LOGIN, authn
from tests.support.sessions import ME, TRUSTED, browser, scoped_bearer, sign_in, trust
from tests.support.users import PASSWORD, create

UNTRUSTED = "http://evil.example"


def access_control_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("access-control-")}


# --- creating a session ------------------------------------------------------------------------


async def test_a_session_token_becomes_an_okta_session_and_a_cookie(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    user = (await create(any_admin)).json()
    token = (await authn(any_server)).json()["sessionToken"]
    async with any_server.client() as anonymous:
        response = await anonymous.post("/api/v1/sessions", json={"sessionToken": token})
    assert response.status_code == 200
    body = response.json()
    assert re.fullmatch(r"102[0-9A-Za-z]{17}", body["id"])
    assert (body["userId"], body["login"], body["status"], body["amr"]) == (
        user["id"],
        LOGIN,
        "ACTIVE",
        ["pwd"],
    )
    assert body["idp"]["type"] == "OKTA"
    assert body["lastFactorVerification"] is None
    assert body["_links"]["self"]["href"] == f"http://localhost:8080/api/v1/sessions/{body['id']}"
    expires = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert timedelta(hours=1, minutes=59) < expires - datetime.now(UTC) <= timedelta(hours=2)
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("sid=")
    assert "HttpOnly" in cookie and "Path=/" in cookie and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()
    assert response.cookies["sid"] != body["id"]
    parsed = SdkSession.from_dict(body)
    assert parsed is not None and parsed.id == body["id"] and parsed.user_id == user["id"]


async def test_an_unknown_session_token_is_401_e0000004(server: Server) -> None:
    async with server.client() as anonymous:
        response = await anonymous.post("/api/v1/sessions", json={"sessionToken": "nope"})
    assert response.status_code == 401
    assert response.json()["errorCode"] == "E0000004"
    assert "set-cookie" not in response.headers


async def test_a_missing_session_token_is_400(server: Server) -> None:
    async with server.client() as anonymous:
        response = await anonymous.post("/api/v1/sessions", json={})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000001"


async def test_a_user_suspended_after_authn_cannot_redeem_the_token(
    server: Server, admin: httpx.AsyncClient
) -> None:
    user = (await create(admin)).json()
    token = (await authn(server)).json()["sessionToken"]
    await admin.post(f"/api/v1/users/{user['id']}/lifecycle/suspend")
    async with server.client() as anonymous:
        response = await anonymous.post("/api/v1/sessions", json={"sessionToken": token})
    assert response.status_code == 401


# --- /sessions/me --------------------------------------------------------------------------------


async def test_sessions_me_answers_the_cookies_session(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    await create(any_admin)
    created, sid = await sign_in(any_server)
    async with browser(any_server, sid) as client:
        response = await client.get(ME)
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == created["id"]
    assert body["_links"]["self"]["href"] == "http://localhost:8080/api/v1/sessions/me"
    assert response.headers["cache-control"] == "no-store"


async def test_sessions_me_without_a_valid_cookie_is_404(server: Server) -> None:
    for sid in (None, "not-a-session"):
        async with browser(server, sid) as client:
            response = await client.get(ME)
        assert response.status_code == 404
        assert response.json()["errorCode"] == "E0000007"


async def test_the_session_id_is_not_a_cookie(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    created, _sid = await sign_in(server)
    async with browser(server, created["id"]) as client:
        assert (await client.get(ME)).status_code == 404


async def test_an_expired_session_is_gone(server: Server, admin: httpx.AsyncClient) -> None:
    from sqlalchemy import update

    from ostiary.store.models.sessions import UserSession

    await create(admin)
    created, sid = await sign_in(server)
    async with server.rt.db.session() as session:
        await session.execute(update(UserSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    async with browser(server, sid) as client:
        assert (await client.get(ME)).status_code == 404
    assert (await admin.get(f"/api/v1/sessions/{created['id']}")).status_code == 404


async def test_a_suspended_users_session_stops_working(server: Server, admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    _created, sid = await sign_in(server)
    await admin.post(f"/api/v1/users/{user['id']}/lifecycle/suspend")
    async with browser(server, sid) as client:
        assert (await client.get(ME)).status_code == 404


async def test_delete_me_ends_the_session_and_clears_the_cookie(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    await create(any_admin)
    created, sid = await sign_in(any_server)
    async with browser(any_server, sid) as client:
        response = await client.delete(ME)
        assert response.status_code == 204
        assert response.content == b""
        cookie = response.headers["set-cookie"]
        assert cookie.startswith('sid="";') or cookie.startswith("sid=;")
        assert "Max-Age=0" in cookie
        assert (await client.get(ME)).status_code == 404
        assert (await client.delete(ME)).status_code == 404
    assert (await any_admin.get(f"/api/v1/sessions/{created['id']}")).status_code == 404


async def test_refresh_me_extends_the_session(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    created, sid = await sign_in(server)
    async with browser(server, sid) as client:
        response = await client.post(f"{ME}/lifecycle/refresh")
    assert response.status_code == 200
    assert response.json()["expiresAt"] >= created["expiresAt"]


# --- CORS -----------------------------------------------------------------------------------------


async def test_a_trusted_origin_gets_cors_with_credentials(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    await trust(admin)
    _created, sid = await sign_in(server)
    async with browser(server, sid, TRUSTED) as client:
        response = await client.get(ME)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == TRUSTED
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "Origin" in response.headers["vary"]


async def test_an_untrusted_origin_gets_no_cors_headers(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    await trust(admin)
    _created, sid = await sign_in(server)
    async with browser(server, sid, UNTRUSTED) as client:
        response = await client.get(ME)
    assert access_control_headers(response) == {}


async def test_errors_to_a_trusted_origin_carry_cors_so_the_page_can_read_them(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await trust(admin)
    async with browser(server, None, TRUSTED) as client:
        missing = await client.get(ME)
        refused = await client.post("/api/v1/authn", json={"username": "x@example.com", "password": "y"})
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == TRUSTED
    assert refused.status_code == 401
    assert refused.headers["access-control-allow-origin"] == TRUSTED


async def test_preflight_from_a_trusted_origin_allows_the_method(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await trust(admin)
    headers = {
        "Origin": TRUSTED,
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "content-type",
    }
    async with server.client() as client:
        response = await client.options(ME, headers=headers)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == TRUSTED
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "DELETE" in response.headers["access-control-allow-methods"]
    assert "Content-Type" in response.headers["access-control-allow-headers"]


async def test_preflight_from_an_untrusted_origin_gets_no_cors_headers(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await trust(admin)
    headers = {"Origin": UNTRUSTED, "Access-Control-Request-Method": "DELETE"}
    async with server.client() as client:
        for path in (ME, "/api/v1/authn"):
            response = await client.options(path, headers=headers)
            assert response.status_code == 204
            assert access_control_headers(response) == {}


async def test_preflight_for_a_method_the_path_does_not_serve_allows_nothing(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await trust(admin)
    headers = {"Origin": TRUSTED, "Access-Control-Request-Method": "PUT"}
    async with server.client() as client:
        response = await client.options(ME, headers=headers)
    assert access_control_headers(response) == {}


async def test_an_origin_trusted_only_for_redirects_gets_no_cors(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await trust(admin, TRUSTED, "REDIRECT")
    async with browser(server, None, TRUSTED) as client:
        assert access_control_headers(await client.get(ME)) == {}


async def test_deactivating_an_origin_stops_cors_at_once(server: Server, admin: httpx.AsyncClient) -> None:
    origin = await trust(admin)
    async with browser(server, None, TRUSTED) as client:
        assert "access-control-allow-origin" in (await client.get(ME)).headers
        await admin.post(f"/api/v1/trustedOrigins/{origin['id']}/lifecycle/deactivate")
        assert access_control_headers(await client.get(ME)) == {}
        await admin.post(f"/api/v1/trustedOrigins/{origin['id']}/lifecycle/activate")
        assert "access-control-allow-origin" in (await client.get(ME)).headers
        await admin.delete(f"/api/v1/trustedOrigins/{origin['id']}")
        assert access_control_headers(await client.get(ME)) == {}


async def test_authn_answers_cors_to_a_trusted_origin(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    await trust(admin)
    async with browser(server, None, TRUSTED) as client:
        response = await client.post("/api/v1/authn", json={"username": LOGIN, "password": PASSWORD})
    assert response.json()["status"] == "SUCCESS"
    assert response.headers["access-control-allow-origin"] == TRUSTED


async def test_an_untrusted_origin_cannot_end_the_session(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    _created, sid = await sign_in(server)
    async with browser(server, sid, UNTRUSTED) as client:
        refused = await client.delete(ME)
    assert refused.status_code == 404
    assert access_control_headers(refused) == {}
    async with browser(server, sid) as client:
        assert (await client.get(ME)).status_code == 200


async def test_a_trusted_origin_can_end_the_session(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    await trust(admin)
    _created, sid = await sign_in(server)
    async with browser(server, sid, TRUSTED) as client:
        response = await client.delete(ME)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == TRUSTED


# --- administration ------------------------------------------------------------------------------


async def test_an_admin_reads_refreshes_and_revokes_a_session(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    await create(any_admin)
    created, sid = await sign_in(any_server)
    url = f"/api/v1/sessions/{created['id']}"
    got = await any_admin.get(url)
    assert got.status_code == 200
    assert got.json()["id"] == created["id"]
    assert SdkSession.from_dict(got.json()) is not None
    refreshed = await any_admin.post(f"{url}/lifecycle/refresh")
    assert refreshed.status_code == 200
    assert refreshed.json()["expiresAt"] >= created["expiresAt"]
    deleted = await any_admin.delete(url)
    assert (deleted.status_code, deleted.content) == (204, b"")
    assert (await any_admin.get(url)).status_code == 404
    async with browser(any_server, sid) as client:
        assert (await client.get(ME)).status_code == 404
    events = (
        await any_admin.get("/api/v1/logs", params={"filter": 'eventType eq "user.session.end"'})
    ).json()
    assert [e["target"][0]["id"] for e in events] == [created["id"]]


async def test_unknown_sessions_are_okta_404(admin: httpx.AsyncClient) -> None:
    for method, path in (
        ("GET", "/api/v1/sessions/102000000000000000000"),
        ("DELETE", "/api/v1/sessions/102000000000000000000"),
        ("POST", "/api/v1/sessions/102000000000000000000/lifecycle/refresh"),
    ):
        response = await admin.request(method, path)
        assert response.status_code == 404, path
        assert response.json()["errorCode"] == "E0000007"


async def test_session_administration_needs_an_api_token(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    created, sid = await sign_in(server)
    async with browser(server, sid) as client:
        response = await client.get(f"/api/v1/sessions/{created['id']}")
        assert response.status_code == 403
        assert response.json()["errorCode"] == "E0000005"
        assert (await client.delete(f"/api/v1/sessions/{created['id']}")).status_code == 403
    assert (await admin.get(f"/api/v1/sessions/{created['id']}")).status_code == 200


async def test_session_scopes_are_enforced(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    created, _sid = await sign_in(server)
    server.rt.bearer = scoped_bearer("okta.sessions.read")
    async with server.client(Authorization="Bearer scoped-token") as reader:
        assert (await reader.get(f"/api/v1/sessions/{created['id']}")).status_code == 200
        refused = await reader.delete(f"/api/v1/sessions/{created['id']}")
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == "E0000006"
    assert (await admin.get(f"/api/v1/sessions/{created['id']}")).status_code == 200


async def test_clearing_a_users_sessions_ends_all_of_them(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    user = (await create(any_admin)).json()
    other = (await create(any_admin, "bob.jones@example.com")).json()
    _first, first_sid = await sign_in(any_server)
    _second, second_sid = await sign_in(any_server)
    _others, other_sid = await sign_in(any_server, other["profile"]["login"])
    response = await any_admin.delete(f"/api/v1/users/{user['id']}/sessions", params={"oauthTokens": "true"})
    assert (response.status_code, response.content) == (204, b"")
    for sid, expected in ((first_sid, 404), (second_sid, 404), (other_sid, 200)):
        async with browser(any_server, sid) as client:
            assert (await client.get(ME)).status_code == expected


async def test_clearing_sessions_of_an_unknown_user_is_404(admin: httpx.AsyncClient) -> None:
    response = await admin.delete("/api/v1/users/00u00000000000000000/sessions")
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E0000007"


async def test_clearing_sessions_needs_users_manage(server: Server, admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    server.rt.bearer = scoped_bearer("okta.users.read", "okta.sessions.manage")
    async with server.client(Authorization="Bearer scoped-token") as caller:
        response = await caller.delete(f"/api/v1/users/{user['id']}/sessions")
    assert response.status_code == 403


async def test_clearing_sessions_with_a_bad_flag_is_400(admin: httpx.AsyncClient) -> None:
    user = (await create(admin)).json()
    response = await admin.delete(f"/api/v1/users/{user['id']}/sessions", params={"oauthTokens": "maybe"})
    assert response.status_code == 400
