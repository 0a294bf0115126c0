"""Requests to the app of ``serve --memory`` (built as the command builds it), whose transactions
take turns on one connection: every write answered 200 is there afterwards, whatever failed
beside it (a duplicate login is refused after its insert reached the database) and whatever read
it at the same time; and no request waits for a second transaction inside its own."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

import httpx

from ostiary import memory_server
from tests.conftest import make_settings

CONCURRENT = 25


async def _memory_app(tmp_path: Path, **settings: Any) -> tuple[Any, httpx.AsyncClient]:
    memory = memory_server.memory_settings(make_settings(tmp_path, "unused", **settings), 8080)
    app, _org_id, token = await memory_server.build(memory)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"SSWS {token}", "Accept": "application/json"}
    return app, httpx.AsyncClient(transport=transport, base_url=memory.base_url, headers=headers)


def _user(login: str) -> dict[str, Any]:
    return {"profile": {"login": login, "email": login, "firstName": "Con", "lastName": "Current"}}


async def test_every_write_answered_200_is_kept_beside_failures_and_reads(tmp_path: Path) -> None:
    app, client = await _memory_app(tmp_path)
    async with client:
        first = await client.post("/api/v1/users?activate=false", json=_user("taken@example.com"))
        assert first.status_code == 200, first.text

        def create_user(i: int) -> Any:
            return client.post("/api/v1/users?activate=false", json=_user(f"user{i}@example.com"))

        def duplicate(_i: int) -> Any:
            return client.post("/api/v1/users?activate=false", json=_user("taken@example.com"))

        def create_group(i: int) -> Any:
            return client.post("/api/v1/groups", json={"profile": {"name": f"group {i}"}})

        def read(_i: int) -> Any:
            return client.get("/api/v1/users?limit=5")

        kinds = {"user": create_user, "duplicate": duplicate, "group": create_group, "read": read}
        calls = [(kind, make) for _ in range(CONCURRENT) for kind, make in kinds.items()]
        responses = await asyncio.gather(*(make(i) for i, (_kind, make) in enumerate(calls)))
        answered = list(zip((kind for kind, _make in calls), responses, strict=True))

        for kind, response in answered:
            expected = 400 if kind == "duplicate" else 200
            assert response.status_code == expected, (kind, response.text)
            if kind == "duplicate":
                assert response.json()["errorCode"] == "E0000001"
        created = [(kind, r.json()["id"]) for kind, r in answered if kind in ("user", "group")]
        assert len(created) == 2 * CONCURRENT
        for kind, id_ in created:
            path = f"/api/v1/users/{id_}" if kind == "user" else f"/api/v1/groups/{id_}"
            found = await client.get(path)
            assert found.status_code == 200, (kind, found.text)
        taken = await client.get("/api/v1/users/taken@example.com")
        assert taken.status_code == 200 and taken.json()["id"] == first.json()["id"]
    await app.state.runtime.db.dispose()


async def test_signing_key_endpoints_make_and_rotate_keys_without_a_second_connection(
    tmp_path: Path,
) -> None:
    """Listing a server's keys makes them on first use, and a rotation is audited: each used to
    open a transaction of its own inside the request's, which would wait for the one connection
    until the pool timeout (a 503)."""
    app, client = await _memory_app(tmp_path, db_pool_timeout=5.0)
    keys_path = "/api/v1/authorizationServers/default/credentials/keys"
    async with client:
        created = await client.post(
            "/api/v1/authorizationServers",
            json={"name": "keys", "description": "made on first use", "audiences": ["api://keys"]},
        )
        assert created.status_code == 201, created.text
        fresh = f"/api/v1/authorizationServers/{created.json()['id']}/credentials/keys"
        for path in (keys_path, fresh):
            listed = await client.get(path)
            assert listed.status_code == 200, listed.text
            active = next(key for key in listed.json() if key["status"] == "ACTIVE")
            one = await client.get(f"{path}/{active['kid']}")
            assert one.status_code == 200, one.text

        before = await client.get("/oauth2/default/v1/keys")  # the ring is cached now
        assert before.status_code == 200, before.text
        rotated = await client.post(
            "/api/v1/authorizationServers/default/credentials/lifecycle/keyRotate", json={"use": "sig"}
        )
        assert rotated.status_code == 200, rotated.text
        upcoming = next(key["kid"] for key in rotated.json() if key["status"] == "NEXT")
        assert upcoming not in [key["kid"] for key in before.json()["keys"]]
        after = await client.get("/oauth2/default/v1/keys")  # the rotation dropped the cached ring
        assert upcoming in [key["kid"] for key in after.json()["keys"]]
    await app.state.runtime.db.dispose()


async def test_introspection_reads_the_public_keys_in_its_own_transaction(tmp_path: Path) -> None:
    """Verifying a token on a cache miss (after a reset dropped the caches, or for an unknown
    ``kid``) reads the keys with the request's session, not a second one."""
    app, client = await _memory_app(tmp_path, db_pool_timeout=5.0)
    async with client:
        created = await client.post(
            "/api/v1/apps",
            json={
                "name": "oidc_client",
                "label": "introspecting service",
                "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                "settings": {
                    "oauthClient": {"grant_types": ["client_credentials"], "application_type": "service"}
                },
            },
        )
        assert created.status_code == 200, created.text
        oauth = created.json()["credentials"]["oauthClient"]
        auth = (oauth["client_id"], oauth["client_secret"])
        grant = await client.post(
            f"/api/v1/apps/{created.json()['id']}/grants",
            json={"scopeId": "okta.users.read", "issuer": "http://localhost:8080"},
        )
        assert grant.status_code == 201, grant.text
        form = {"grant_type": "client_credentials", "scope": "okta.users.read"}
        issued = await client.post("/oauth2/v1/token", data=form, auth=auth)
        assert issued.status_code == 200, issued.text
        token = issued.json()["access_token"]
        _header, payload, signature = token.split(".")
        forged_header = base64.urlsafe_b64encode(b'{"alg":"RS256","kid":"unknown"}').rstrip(b"=").decode()

        app.state.runtime.forget_all()  # what the testing reset does
        answers = [
            await client.post("/oauth2/v1/introspect", data={"token": candidate}, auth=auth)
            for candidate in (token, f"{forged_header}.{payload}.{signature}")
        ]
        assert [answer.status_code for answer in answers] == [200, 200], [a.text for a in answers]
        assert [answer.json()["active"] for answer in answers] == [True, False]
    await app.state.runtime.db.dispose()
