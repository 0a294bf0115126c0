"""Orgs: names, provisioning (the org AS and ``default`` in every org, once), custom domains,
and how the Host header finds them (issue 17, issue 18's "default stays deleted")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from ostiary.app import prepare
from ostiary.domain.directory import orgs as org_domain
from ostiary.domain.errors import Conflict, Invalid, NotFound
from tests.conftest import ORG_URL, Server, _server

AUTHN = "/api/v1/authn"
CREDENTIALS = {"username": "nobody@example.com", "password": "Wr0ng-Password!"}


async def _create(server: Server, name: str, display: str | None = None) -> str:
    async with server.rt.db.session() as session:
        org = await org_domain.create_org(session, name, display)
        await session.commit()
        return org.id


@pytest.mark.parametrize("name", ["Acme", "acme.corp", "-acme", "acme-", "", "a" * 64, "ac me", "acmé"])
async def test_a_name_is_one_lower_case_dns_label(server: Server, name: str) -> None:
    with pytest.raises(Invalid):
        await _create(server, name)


async def test_a_duplicate_name_is_refused(server: Server) -> None:
    await _create(server, "acme")
    with pytest.raises(Conflict):
        await _create(server, "acme")
    with pytest.raises(Conflict):
        await _create(server, "default")  # the default org's own name


async def test_an_unknown_org_is_not_found_never_created(server: Server) -> None:
    async with server.rt.db.session() as session:
        with pytest.raises(NotFound):
            await org_domain.get_org(session, "nope")
        assert [o.org.subdomain for o in await org_domain.list_orgs(session)] == ["default"]


async def test_a_new_org_serves_tokens_from_its_org_and_default_servers(server: Server) -> None:
    await _create(server, "acme")
    async with server.client(Host="acme.localhost:8080") as client:
        org_meta = (await client.get("/.well-known/openid-configuration")).json()
        default_meta = (await client.get("/oauth2/default/.well-known/oauth-authorization-server")).json()
        scopes = (await client.get("/oauth2/default/.well-known/openid-configuration")).json()
    assert org_meta["issuer"] == "http://acme.localhost:8080"
    assert default_meta["issuer"] == "http://acme.localhost:8080/oauth2/default"
    assert {"openid", "profile", "email"} <= set(scopes["scopes_supported"])


async def test_a_deleted_default_server_stays_deleted_after_a_restart(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token) as admin:
        assert (
            await admin.post("/api/v1/authorizationServers/default/lifecycle/deactivate")
        ).status_code == 204
        assert (await admin.delete("/api/v1/authorizationServers/default")).status_code == 204
    await prepare(server.rt)  # what every start does
    async with server.client(token) as admin:
        assert (await admin.get("/api/v1/authorizationServers/default")).status_code == 404
    async with server.client() as client:
        assert (await client.get("/oauth2/v1/keys")).status_code == 200  # the org AS stays


async def test_custom_domains_name_one_org(server: Server) -> None:
    acme = await _create(server, "acme")
    await _create(server, "globex")
    async with server.rt.db.session() as session:
        assert await org_domain.add_domain(session, "acme", "ID.Acme.Example", base_host="localhost") == (
            "id.acme.example"
        )
        await session.commit()
    async with server.rt.db.session() as session:
        with pytest.raises(Conflict):
            await org_domain.add_domain(session, "globex", "id.acme.example", base_host="localhost")
        for bad in ("localhost", "x.localhost", "127.0.0.1", "a..b", "a:80", "http://a.example"):
            with pytest.raises(Invalid):
                await org_domain.add_domain(session, "globex", bad, base_host="localhost")
    org = await server.rt.resolve_org("id.acme.example:443")
    assert org is not None and org.id == acme
    async with server.client(Host="id.acme.example") as client:
        meta = (await client.get("/.well-known/openid-configuration")).json()
    assert meta["issuer"] == "http://acme.localhost:8080"  # issuers derive from the org URL


async def test_an_unknown_host_is_404_in_oktas_shape(server: Server) -> None:
    async with server.client(Host="unknown.example") as client:
        response = await client.get("/api/v1/users")
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E0000007"


async def test_an_org_created_after_its_host_was_refused_is_served_once_announced(server: Server) -> None:
    """A cached "no such org" goes when an ``orgs`` cache event arrives (PostgreSQL) or after
    ``NO_ORG_CACHE_TTL`` (SQLite): here the event's handler is called as the listener would."""
    assert await server.rt.resolve_org("late.localhost") is None
    await _create(server, "late")
    assert await server.rt.resolve_org("late.localhost") is None  # still the cached answer
    server.rt.forget_unknown_hosts()
    org = await server.rt.resolve_org("late.localhost")
    assert org is not None and org.subdomain == "late"


async def test_a_flood_of_unknown_hosts_does_not_push_out_known_orgs(server: Server) -> None:
    from ostiary.http.runtime import NO_ORG_CACHE_SIZE

    acme = await _create(server, "acme")
    assert (await server.rt.resolve_org("acme.localhost")) is not None
    for i in range(NO_ORG_CACHE_SIZE + 50):
        assert await server.rt.resolve_org(f"h{i}.example") is None
    assert len(server.rt._no_org_cache) <= NO_ORG_CACHE_SIZE
    assert any(o.id == acme for _, o in server.rt._org_cache._entries.values())


async def test_rate_limit_buckets_are_per_org(tmp_path: Path, sqlite_database_url: str) -> None:
    """Org A's callers using up their authn bucket leave org B's callers (same address) alone."""
    async for limited in _server(tmp_path, sqlite_database_url, rate_limits="authn=3"):
        await _create(limited, "orga")
        await _create(limited, "orgb")
        transport = httpx.ASGITransport(
            app=limited.app, raise_app_exceptions=False, client=("203.0.113.7", 1)
        )
        async with httpx.AsyncClient(transport=transport, base_url=ORG_URL) as client:
            at_a = [
                (await client.post(AUTHN, json=CREDENTIALS, headers={"Host": "orga.localhost"})).status_code
                for _ in range(4)
            ]
            at_b = await client.post(AUTHN, json=CREDENTIALS, headers={"Host": "orgb.localhost"})
        assert at_a == [401, 401, 401, 429]
        assert at_b.status_code == 401


def _migrate_to(connection: Any, revision: str) -> None:
    from alembic.runtime.environment import EnvironmentContext
    from alembic.script import ScriptDirectory

    from ostiary.store import migrate

    cfg = migrate._config()
    script = ScriptDirectory.from_config(cfg)
    with EnvironmentContext(
        cfg, script, fn=lambda rev, _c: script._upgrade_revs(revision, rev), destination_rev=revision
    ) as env:
        env.configure(connection=connection, render_as_batch=True)
        with env.begin_transaction():
            env.run_migrations()


async def test_upgrading_keeps_every_row_and_provisions_only_orgs_that_never_were(tmp_path: Path) -> None:
    """A 0009 database: the default org without its ``default`` server (deleted), and an org
    that ``token create --org`` made without servers. The upgrade must not copy ``orgs`` (on
    SQLite that cascade-deleted every row referencing an org), and start-up then provisions
    only the second org."""
    from ostiary.settings import sqlite_url
    from ostiary.store import migrate
    from ostiary.store.db import Database

    db = Database(sqlite_url(tmp_path))
    try:
        async with db.engine.connect() as conn:
            await conn.run_sync(_migrate_to, "0009")
            await conn.commit()
        async with db.engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO orgs (id, org_id, name, subdomain, is_default, created) VALUES "
                    "('00oDEF', '00oDEF', 'Ostiary', 'default', 1, '2026-01-01'), "
                    "('00oLEG', '00oLEG', 'legacy', 'legacy', 0, '2026-01-01')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO authorization_servers (org_id, id, kind, name, description, audiences, "
                    "issuer_mode, status, signing_alg, rotation_mode, settings, created, last_updated) "
                    "VALUES ('00oDEF', '$org', 'ORG', 'Org', '', '[]', 'ORG_URL', 'ACTIVE', 'RS256', "
                    "'AUTO', '{}', '2026-01-01', '2026-01-01')"
                )
            )
        await migrate.upgrade(db.engine)
        await db.transaction(org_domain.provision_pending)
        async with db.engine.connect() as conn:
            rows = (
                await conn.execute(
                    text(
                        "SELECT o.subdomain, o.provisioned, s.id FROM orgs o "
                        "LEFT JOIN authorization_servers s ON s.org_id = o.id ORDER BY o.subdomain, s.id"
                    )
                )
            ).all()
    finally:
        await db.dispose()
    assert [tuple(r) for r in rows] == [
        ("default", True, "$org"),
        ("legacy", True, "$org"),
        ("legacy", True, "default"),
    ]
