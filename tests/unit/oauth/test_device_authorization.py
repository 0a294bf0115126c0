"""The device authorization grant (RFC 8628): codes from ``/v1/device/authorize``, a person's
decision on the hosted ``/activate`` page, polling ``/v1/token`` (pending, slow_down, denied,
expired, single use), end to end through the page with httpx."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import func, select, update

from ostiary.store.models.device_codes import DeviceCode
from ostiary.timeutil import utcnow
from tests.conftest import ORG_URL, Server
from tests.support.apps import create_app, oidc_app
from tests.support.authorize import everyone_id, user, verified
from tests.support.login_page import csrf_token, submit
from tests.support.policies import USER_PASSWORD, create_policy, create_rule, new_server

CARL = "carl.sagan@example.com"
DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
USER_CODE = re.compile(r"[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}")


async def device_app(admin: httpx.AsyncClient, grants: list[str] | None = None) -> str:
    body = oidc_app("native", method="none", grants=grants or ["authorization_code", "refresh_token", DEVICE])
    client_id = str((await create_app(admin, body))["credentials"]["oauthClient"]["client_id"])
    assigned = await admin.put(f"/api/v1/apps/{client_id}/groups/{await everyone_id(admin)}", json={})
    assert assigned.status_code == 200, assigned.text
    return client_id


async def start(
    client: httpx.AsyncClient,
    client_id: str,
    scope: str | None = "openid profile offline_access",
    server: str = "default",
) -> httpx.Response:
    data = {"client_id": client_id} | ({"scope": scope} if scope is not None else {})
    return await client.post(f"/oauth2/{server}/v1/device/authorize", data=data)


async def poll(
    client: httpx.AsyncClient, client_id: str, device_code: str, server: str = "default"
) -> httpx.Response:
    data = {"grant_type": DEVICE, "device_code": device_code, "client_id": client_id}
    return await client.post(f"/oauth2/{server}/v1/token", data=data)


async def forget_last_poll(server: Server) -> None:
    """As if the device had waited its interval (no sleeping in tests)."""
    async with server.rt.db.session() as session:
        await session.execute(update(DeviceCode).values(last_polled_at=utcnow() - timedelta(minutes=5)))


async def rows(server: Server) -> int:
    async with server.rt.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(DeviceCode)) or 0)


@asynccontextmanager
async def signed_in_browser(server: Server, login: str = CARL) -> AsyncIterator[httpx.AsyncClient]:
    async with server.client() as browser:
        signed = await submit(browser, login, USER_PASSWORD)
        assert signed.status_code in (302, 303), signed.text
        yield browser


async def decide(browser: httpx.AsyncClient, user_code: str, decision: str) -> httpx.Response:
    page = await browser.get("/activate", params={"user_code": user_code})
    assert page.status_code == 200, page.text
    fields = {"csrfToken": csrf_token(page), "user_code": user_code, "shown": user_code, "decision": decision}
    return await browser.post("/activate", data=fields)


async def test_device_flow_through_the_hosted_page(any_admin: httpx.AsyncClient, any_server: Server) -> None:
    client_id = await device_app(any_admin)
    carl = await user(any_admin, CARL)
    async with any_server.client() as device:
        started = await start(device, client_id)
        assert started.status_code == 200, started.text
        body = started.json()
        assert USER_CODE.fullmatch(body["user_code"]), body
        assert body["verification_uri"] == f"{ORG_URL}/activate"
        assert body["verification_uri_complete"] == f"{ORG_URL}/activate?user_code={body['user_code']}"
        assert (body["expires_in"], body["interval"]) == (600, 5) and body["device_code"]
        pending = await poll(device, client_id, body["device_code"])
        assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
        async with any_server.rt.db.session() as session:  # as if it polled again at once
            await session.execute(update(DeviceCode).values(last_polled_at=utcnow() + timedelta(minutes=1)))
        too_fast = await poll(device, client_id, body["device_code"])
        assert too_fast.status_code == 400 and too_fast.json()["error"] == "slow_down"
        async with any_server.rt.db.session() as session:
            assert await session.scalar(select(DeviceCode.interval)) == 10  # RFC 8628 §3.5: +5 s

    async with any_server.client() as browser:
        complete = urlsplit(body["verification_uri_complete"])
        to_login = await browser.get(f"{complete.path}?{complete.query}")
        assert to_login.status_code == 302 and to_login.headers["location"].startswith("/login?fromURI=")
        assert (await submit(browser, CARL, USER_PASSWORD)).status_code in (302, 303)
        page = await browser.get(f"{complete.path}?{complete.query}")
        assert page.status_code == 200 and "My App" in page.text and "offline_access" in page.text
        fields = {"csrfToken": csrf_token(page), "user_code": body["user_code"], "shown": body["user_code"]}
        done = await browser.post("/activate", data={**fields, "decision": "allow"})
        assert done.status_code == 200 and 'id="done"' in done.text, done.text

    async with any_server.client() as device:
        await forget_last_poll(any_server)
        tokens = await poll(device, client_id, body["device_code"])
        assert tokens.status_code == 200, tokens.text
        issued = tokens.json()
        assert issued["scope"] == "openid profile offline_access" and issued["refresh_token"]
        access = await verified(any_server, issued["access_token"], "default", "api://default")
        assert access["uid"] == carl and access["cid"] == client_id
        id_token = await verified(any_server, issued["id_token"], "default", client_id)
        assert id_token["sub"] == carl
        await forget_last_poll(any_server)
        again = await poll(device, client_id, body["device_code"])
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
        bearer = {"Authorization": f"Bearer {issued['access_token']}"}
        assert (await device.get("/oauth2/default/v1/userinfo", headers=bearer)).status_code == 200
        form = {"token": issued["refresh_token"], "token_type_hint": "refresh_token", "client_id": client_id}
        revoked = await device.post("/oauth2/default/v1/revoke", data=form)
        assert revoked.status_code == 200, revoked.text
        # The access token minted with the refresh token goes with its family.
        assert (await device.get("/oauth2/default/v1/userinfo", headers=bearer)).status_code == 401


async def test_denied_expired_and_other_clients_codes(admin: httpx.AsyncClient, server: Server) -> None:
    client_id = await device_app(admin)
    other_id = await device_app(admin)
    await user(admin, CARL)
    async with server.client() as device:
        denied = (await start(device, client_id)).json()
        expiring = (await start(device, client_id)).json()
    async with signed_in_browser(server) as browser:
        refused = await decide(browser, denied["user_code"], "deny")
    assert refused.status_code == 200 and "denied" in refused.text
    async with server.rt.db.session() as session:
        await session.execute(
            update(DeviceCode)
            .where(DeviceCode.user_code == expiring["user_code"].replace("-", ""))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    async with server.client() as device:
        await forget_last_poll(server)
        assert (await poll(device, client_id, denied["device_code"])).json()["error"] == "access_denied"
        assert (await poll(device, client_id, expiring["device_code"])).json()["error"] == "expired_token"
        assert (await poll(device, other_id, denied["device_code"])).json()["error"] == "invalid_grant"
        unknown = await poll(device, client_id, "nope")
        missing = await device.post(
            "/oauth2/default/v1/token", data={"grant_type": DEVICE, "client_id": client_id}
        )
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_request"
    async with signed_in_browser(server) as browser:
        stale = await browser.get("/activate", params={"user_code": expiring["user_code"]})
        wrong = await browser.get("/activate", params={"user_code": "AAAA-AAAA"})
    assert stale.status_code == 400 and wrong.status_code == 400 and 'id="error"' in wrong.text


async def test_device_authorize_refusals_store_nothing(admin: httpx.AsyncClient, server: Server) -> None:
    no_grant = await device_app(admin, grants=["authorization_code"])
    client_id = await device_app(admin)
    cases: list[tuple[str, str | None, int, str]] = [
        (no_grant, "openid", 400, "unauthorized_client"),
        (client_id, None, 400, "invalid_scope"),
        (client_id, "openid no.such.scope", 400, "invalid_scope"),
        ("0oanosuchclient", "openid", 401, "invalid_client"),
    ]
    async with server.client() as device:
        for app_id, scope, status, error in cases:
            response = await start(device, app_id, scope)
            assert response.status_code == status, (app_id, scope, response.text)
            assert response.json()["error"] == error, response.text
    assert await rows(server) == 0


async def test_approval_needs_a_policy_rule_for_the_device_grant(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id = await device_app(admin)
    await user(admin, CARL)
    server_id = await new_server(admin)
    policy = await create_policy(admin, server_id)
    await create_rule(admin, server_id, policy["id"], grants=["authorization_code"])
    async with server.client() as device:
        body = (await start(device, client_id, "openid", server=server_id)).json()
    async with signed_in_browser(server) as browser:
        refused = await decide(browser, body["user_code"], "allow")
    assert refused.status_code == 403 and 'id="error"' in refused.text
    async with server.client() as device:
        await forget_last_poll(server)
        answer = await poll(device, client_id, body["device_code"], server=server_id)
    assert answer.json()["error"] == "access_denied"


async def test_activate_form_needs_its_csrf_token_and_shows_before_approving(
    admin: httpx.AsyncClient, server: Server
) -> None:
    client_id = await device_app(admin)
    await user(admin, CARL)
    async with server.client() as device:
        body = (await start(device, client_id)).json()
    async with signed_in_browser(server) as browser:
        forged = await browser.post(
            "/activate",
            data={"user_code": body["user_code"], "shown": body["user_code"], "decision": "allow"},
        )
        entry = await browser.get("/activate")
        typed = await browser.post(
            "/activate",
            data={
                "csrfToken": csrf_token(entry),
                "user_code": body["user_code"].lower(),
                "decision": "allow",
            },
        )
    assert forged.status_code == 403
    assert typed.status_code == 200 and "My App" in typed.text and 'id="done"' not in typed.text
    async with server.rt.db.session() as session:
        statuses = list(await session.scalars(select(DeviceCode.status)))
    assert statuses == ["PENDING"]


async def test_discovery_advertises_the_device_endpoint(server: Server) -> None:
    async with server.client() as anon:
        doc: dict[str, Any] = (await anon.get("/oauth2/default/.well-known/openid-configuration")).json()
        org: dict[str, Any] = (await anon.get("/.well-known/openid-configuration")).json()
    assert doc["device_authorization_endpoint"] == f"{ORG_URL}/oauth2/default/v1/device/authorize"
    assert org["device_authorization_endpoint"] == f"{ORG_URL}/oauth2/v1/device/authorize"
    assert DEVICE in doc["grant_types_supported"]
