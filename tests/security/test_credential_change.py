"""F14 — a password change or an admin reset ends the user's sessions and revokes their refresh
tokens (and the access tokens issued with them); the session the change was made from, when it
is the user's own, survives (Okta: "if the request is made in the context of a session owned by
the specified user, that session isn't cleared")."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
import pytest

from tests.conftest import Server
from tests.support.authorize import code_for, exchange, user, web_app
from tests.support.oauth import basic
from tests.support.policies import USER_PASSWORD

CARL = "carl.sagan@example.com"
NEW_PASSWORD = "Winter2025y!Fresh"


@dataclass
class SignedIn:
    """A user signed in twice (two browsers) with a refresh token from the code flow."""

    server: Server
    user_id: str
    client_id: str
    secret: str
    sids: tuple[str, str]
    refresh_token: str
    access_token: str

    async def session_alive(self, sid: str) -> bool:
        async with self.server.client(Cookie=f"sid={sid}") as browser:
            response = await browser.get("/api/v1/sessions/me")
        if response.status_code == 200:
            return True
        assert response.status_code == 404, response.text
        assert response.json()["errorCode"] == "E0000007"
        return False

    async def refresh_works(self) -> bool:
        data = {"grant_type": "refresh_token", "refresh_token": self.refresh_token}
        async with self.server.client() as app:
            response = await app.post(
                "/oauth2/default/v1/token", data=data, headers=basic(self.client_id, self.secret)
            )
        if response.status_code == 200:
            return True
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid_grant"
        return False

    async def access_token_active(self) -> bool:
        data = {"token": self.access_token, "token_type_hint": "access_token"}
        async with self.server.client() as app:
            response = await app.post(
                "/oauth2/default/v1/introspect", data=data, headers=basic(self.client_id, self.secret)
            )
        assert response.status_code == 200, response.text
        return bool(response.json()["active"])

    async def signed_in_anywhere(self) -> tuple[bool, bool, bool, bool]:
        return (
            await self.session_alive(self.sids[0]),
            await self.session_alive(self.sids[1]),
            await self.refresh_works(),
            await self.access_token_active(),
        )


async def browser_sign_in(server: Server, client_id: str, scope: str) -> tuple[str, str]:
    """(sid cookie, code) of a fresh browser signing in to the app."""
    async with server.client() as browser:
        code = await code_for(browser, client_id, CARL, scope=scope)
        return browser.cookies["sid"], code


async def signed_in(server: Server, admin: httpx.AsyncClient) -> SignedIn:
    user_id = await user(admin, CARL)
    client_id, secret = await web_app(admin)
    assert secret is not None
    first_sid, code = await browser_sign_in(server, client_id, "openid offline_access")
    second_sid, _ = await browser_sign_in(server, client_id, "openid")
    async with server.client() as app:
        tokens = (await exchange(app, code, client_id, secret)).json()
    s = SignedIn(
        server,
        user_id,
        client_id,
        secret,
        (first_sid, second_sid),
        tokens["refresh_token"],
        tokens["access_token"],
    )
    assert await s.signed_in_anywhere() == (True, True, True, True)
    return s


def change_password_body(**extra: object) -> dict[str, object]:
    return {"oldPassword": {"value": USER_PASSWORD}, "newPassword": {"value": NEW_PASSWORD}, **extra}


async def test_change_password_ends_sessions_and_revokes_refresh_tokens(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    s = await signed_in(any_server, any_admin)
    response = await any_admin.post(
        f"/api/v1/users/{s.user_id}/credentials/change_password", json=change_password_body()
    )
    assert response.status_code == 200, response.text
    assert await s.signed_in_anywhere() == (False, False, False, False)


async def test_change_password_keeps_the_callers_own_session(
    server: Server, admin: httpx.AsyncClient
) -> None:
    s = await signed_in(server, admin)
    response = await admin.post(
        f"/api/v1/users/{s.user_id}/credentials/change_password",
        json=change_password_body(),
        headers={"Cookie": f"sid={s.sids[0]}"},
    )
    assert response.status_code == 200, response.text
    assert await s.signed_in_anywhere() == (True, False, False, False)


async def test_change_password_with_revoke_sessions_false_keeps_everything(
    server: Server, admin: httpx.AsyncClient
) -> None:
    s = await signed_in(server, admin)
    response = await admin.post(
        f"/api/v1/users/{s.user_id}/credentials/change_password",
        json=change_password_body(revokeSessions=False),
    )
    assert response.status_code == 200, response.text
    assert await s.signed_in_anywhere() == (True, True, True, True)


async def test_a_non_boolean_revoke_sessions_is_400_and_changes_nothing(
    server: Server, admin: httpx.AsyncClient
) -> None:
    s = await signed_in(server, admin)
    response = await admin.post(
        f"/api/v1/users/{s.user_id}/credentials/change_password",
        json=change_password_body(revokeSessions="yes"),
    )
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000001"
    assert await s.signed_in_anywhere() == (True, True, True, True)
    async with server.client() as anon:
        old = await anon.post("/api/v1/authn", json={"username": CARL, "password": USER_PASSWORD})
    assert old.status_code == 200


async def test_a_wrong_old_password_changes_nothing(server: Server, admin: httpx.AsyncClient) -> None:
    s = await signed_in(server, admin)
    body = {"oldPassword": {"value": "not-it"}, "newPassword": {"value": NEW_PASSWORD}}
    response = await admin.post(f"/api/v1/users/{s.user_id}/credentials/change_password", json=body)
    assert response.status_code == 403
    assert await s.signed_in_anywhere() == (True, True, True, True)


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_an_admin_setting_the_password_ends_sessions_and_revokes_refresh_tokens(
    server: Server, admin: httpx.AsyncClient, method: str
) -> None:
    s = await signed_in(server, admin)
    current = (await admin.get(f"/api/v1/users/{s.user_id}")).json()
    body = {"profile": current["profile"], "credentials": {"password": {"value": NEW_PASSWORD}}}
    response = await admin.request(method, f"/api/v1/users/{s.user_id}", json=body)
    assert response.status_code == 200, response.text
    assert await s.signed_in_anywhere() == (False, False, False, False)


async def test_a_profile_update_without_a_password_keeps_sessions(
    server: Server, admin: httpx.AsyncClient
) -> None:
    s = await signed_in(server, admin)
    response = await admin.post(f"/api/v1/users/{s.user_id}", json={"profile": {"nickName": "Carl"}})
    assert response.status_code == 200, response.text
    assert await s.signed_in_anywhere() == (True, True, True, True)


async def test_reset_password_ends_sessions_and_revokes_refresh_tokens(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    s = await signed_in(any_server, any_admin)
    response = await any_admin.post(
        f"/api/v1/users/{s.user_id}/lifecycle/reset_password", params={"sendEmail": "false"}
    )
    assert response.status_code == 200, response.text
    assert await s.signed_in_anywhere() == (False, False, False, False)


async def test_reset_password_with_revoke_sessions_false_keeps_them(
    server: Server, admin: httpx.AsyncClient
) -> None:
    s = await signed_in(server, admin)
    response = await admin.post(
        f"/api/v1/users/{s.user_id}/lifecycle/reset_password",
        params={"sendEmail": "false", "revokeSessions": "false"},
    )
    assert response.status_code == 200, response.text
    # Tokens stop anyway: a user in RECOVERY may not refresh, and introspection calls the access
    # token inactive while its user is not ACTIVE (status checks at use time); sessions stay.
    assert await s.signed_in_anywhere() == (True, True, False, False)


async def test_the_other_users_sessions_are_untouched(server: Server, admin: httpx.AsyncClient) -> None:
    s = await signed_in(server, admin)
    await user(admin, "ann.druyan@example.com")
    async with server.client() as browser:
        await code_for(browser, s.client_id, "ann.druyan@example.com")
        ann_sid = browser.cookies["sid"]
    await admin.post(f"/api/v1/users/{s.user_id}/credentials/change_password", json=change_password_body())
    assert await s.session_alive(ann_sid)
