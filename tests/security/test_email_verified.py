"""F19 (info) — ``email_verified`` is truthful. Ostiary sends no verification mail, so an address
counts as verified when the administrator vouched for it by activating the user with it (as
Okta shows an admin-activated user's primary email as VERIFIED); an address set or changed
afterwards through the API is not verified, so an ``okta.users.manage`` client cannot make
relying parties that link accounts by verified email trust an arbitrary address."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from alembic.runtime.environment import EnvironmentContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine

from ostiary.store import migrate
from tests.conftest import Server
from tests.support.authorize import claims
from tests.support.userinfo import CARL, bearer, tokens
from tests.support.users import create

OTHER = "ceo@bigcorp.example"


async def userinfo(server: Server, access_token: str) -> dict[str, Any]:
    async with server.client() as anon:
        response = await anon.get("/oauth2/default/v1/userinfo", headers=bearer(access_token))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def primary_email(user: dict[str, Any]) -> tuple[str, str]:
    (email,) = user["credentials"]["emails"]
    assert email["type"] == "PRIMARY"
    return email["value"], email["status"]


async def carl(admin: httpx.AsyncClient) -> dict[str, Any]:
    found: dict[str, Any] = (await admin.get(f"/api/v1/users/{CARL}")).json()
    return found


async def test_an_email_the_admin_activated_the_user_with_is_verified(
    server: Server, admin: httpx.AsyncClient
) -> None:
    issued = await tokens(admin, server, "openid email")
    assert claims(issued["id_token"])["email_verified"] is True
    assert (await userinfo(server, issued["access_token"]))["email_verified"] is True
    assert primary_email(await carl(admin)) == (CARL, "VERIFIED")


async def test_an_email_changed_through_the_api_is_not_verified(
    server: Server, admin: httpx.AsyncClient
) -> None:
    issued = await tokens(admin, server, "openid email")
    user_id = (await carl(admin))["id"]
    changed = await admin.post(f"/api/v1/users/{user_id}", json={"profile": {"email": OTHER}})
    assert changed.status_code == 200, changed.text
    assert primary_email(changed.json()) == (OTHER, "UNVERIFIED")
    info = await userinfo(server, issued["access_token"])
    assert (info["email"], info["email_verified"]) == (OTHER, False)


async def test_changing_back_to_the_verified_address_is_verified_again(
    server: Server, admin: httpx.AsyncClient
) -> None:
    issued = await tokens(admin, server, "openid email")
    user_id = (await carl(admin))["id"]
    await admin.post(f"/api/v1/users/{user_id}", json={"profile": {"email": OTHER}})
    await admin.post(f"/api/v1/users/{user_id}", json={"profile": {"email": CARL.upper()}})
    assert (await userinfo(server, issued["access_token"]))["email_verified"] is True


async def test_a_user_not_yet_activated_has_an_unverified_email_until_activation(
    admin: httpx.AsyncClient,
) -> None:
    created = (await create(admin, "ann.lee@example.com", activate="false")).json()
    assert primary_email(created) == ("ann.lee@example.com", "UNVERIFIED")
    activated = await admin.post(
        f"/api/v1/users/{created['id']}/lifecycle/activate", params={"sendEmail": "false"}
    )
    assert activated.status_code == 200, activated.text
    found = (await admin.get(f"/api/v1/users/{created['id']}")).json()
    assert primary_email(found) == ("ann.lee@example.com", "VERIFIED")


async def test_a_provisioned_user_without_a_password_is_unverified(admin: httpx.AsyncClient) -> None:
    created = (await create(admin, "bo.provisioned@example.com", password=False)).json()
    assert created["status"] == "PROVISIONED"
    assert primary_email(created) == ("bo.provisioned@example.com", "UNVERIFIED")


async def test_the_migration_keeps_existing_activated_users_verified(tmp_path: Path) -> None:
    """Before 0009 every email was reported verified; activated users keep that, users who were
    never activated do not."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_upgrade_to, "0008")
            await conn.execute(text(OLD_ORG))
            for user_id, status, email in (
                ("00u1", "ACTIVE", "a@x.example"),
                ("00u2", "STAGED", "b@x.example"),
            ):
                await conn.execute(text(OLD_USER), {"id": user_id, "status": status, "email": email})
            await conn.commit()
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            rows = await conn.execute(text("SELECT id, verified_email_lower FROM users ORDER BY id"))
            assert rows.all() == [("00u1", "a@x.example"), ("00u2", None)]
    finally:
        await engine.dispose()


OLD_ORG = (
    "INSERT INTO orgs (id, org_id, name, subdomain, is_default, created) "
    "VALUES ('00o1', '00o1', 'o', 'o', 1, '2026-01-01 00:00:00')"
)
OLD_USER = (
    "INSERT INTO users (id, org_id, status, login, login_lower, email_lower, profile, type_id, "
    "failed_logins, created, last_updated) VALUES (:id, '00o1', :status, :email, :email, :email, "
    "'{}', 'oty1', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
)


def _upgrade_to(connection: Connection, revision: str) -> None:
    cfg = migrate._config()
    script = ScriptDirectory.from_config(cfg)

    def steps(rev: Any, _context: Any) -> Any:
        return script._upgrade_revs(revision, rev)

    with EnvironmentContext(cfg, script, fn=steps, destination_rev=revision) as env:
        env.configure(connection=connection, render_as_batch=True)
        with env.begin_transaction():
            env.run_migrations()
