"""F2: a token with an unknown ``kid`` must not force a key-ring reload per request.

Before the fix every unknown kid (from /userinfo, management Bearer auth, /introspect, no
credentials needed) dropped the ring and reloaded it: a DB read, an AES-GCM decrypt and an RSA
private-key validation (~120 ms), serialised behind the ring lock. Now the verification path
reloads only the *public* keys, at most once per interval per server, and never touches a
private key.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from ostiary.domain.authz import key_rotation as keys_module
from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.key_rotation import KeyRings
from ostiary.jose.verify import TokenInvalid
from tests.conftest import Server
from tests.support.signing_keys import ISSUER, org_id, sign, verify


def _forged(token: str, kid: str) -> str:
    header = {"kid": kid, "alg": "RS256", "typ": "JWT"}
    encoded = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
    return ".".join([encoded, *token.split(".")[1:]])


class Counter:
    """Counts calls of a module function while still running it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
        self.calls = 0
        original = getattr(keys_module, name)

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(keys_module, name, counting)


@pytest.fixture
def key_loads(monkeypatch: pytest.MonkeyPatch) -> tuple[Counter, Counter]:
    """(published-key queries, private-key loads) made through the key-ring module."""
    return Counter(monkeypatch, "published_rows"), Counter(monkeypatch, "load_signing_key")


async def test_many_unknown_kids_reload_public_keys_at_most_once(
    server: Server, key_loads: tuple[Counter, Counter]
) -> None:
    oid = await org_id(server)
    token = await sign(server, oid, server.rt.rings)
    queries, private_loads = key_loads
    queries.calls = private_loads.calls = 0
    for i in range(40):
        with pytest.raises(TokenInvalid):
            await verify(server, oid, _forged(token, f"k{i}"))
    assert queries.calls <= 1
    assert private_loads.calls == 0
    assert (await verify(server, oid, token))["iss"] == ISSUER


async def test_unknown_kids_at_userinfo_do_not_reload_the_ring(
    server: Server, key_loads: tuple[Counter, Counter]
) -> None:
    oid = await org_id(server)
    token = await sign(server, oid, server.rt.rings)
    queries, private_loads = key_loads
    queries.calls = private_loads.calls = 0
    async with server.client() as client:
        for i in range(20):
            response = await client.get(
                "/oauth2/default/v1/userinfo", headers={"Authorization": f"Bearer {_forged(token, f'k{i}')}"}
            )
            assert response.status_code == 401
    assert queries.calls <= 1
    assert private_loads.calls == 0


async def test_unknown_kids_on_the_management_api_do_not_reload_the_ring(
    server: Server, key_loads: tuple[Counter, Counter]
) -> None:
    oid = await org_id(server)
    org_ring = await server.rt.rings.ring(oid, server_lookup.ORG_SERVER_ID)
    queries, private_loads = key_loads
    queries.calls = private_loads.calls = 0
    token = await server.rt.signer.sign({"iss": "x", "sub": "y"}, org_ring.active)
    async with server.client() as client:
        for i in range(20):
            response = await client.get(
                "/api/v1/users", headers={"Authorization": f"Bearer {_forged(token, f'k{i}')}"}
            )
            assert response.status_code == 401
    assert queries.calls <= 1
    assert private_loads.calls == 0


async def test_a_rotation_by_another_process_is_still_picked_up(
    server: Server, key_loads: tuple[Counter, Counter]
) -> None:
    oid = await org_id(server)
    mine = server.rt.rings
    await sign(server, oid, mine)
    other = KeyRings(server.rt.db, mine.encryptor)
    await other.rotate(oid, server_lookup.DEFAULT_SERVER_ID)
    await other.rotate(oid, server_lookup.DEFAULT_SERVER_ID)
    queries, private_loads = key_loads
    queries.calls = private_loads.calls = 0
    rotated = await sign(server, oid, other)
    private_loads.calls = 0  # the other process signing loads its own key
    assert (await verify(server, oid, rotated))["iss"] == ISSUER
    assert private_loads.calls == 0


async def test_unknown_kids_after_a_reload_wait_for_the_next_interval(
    server: Server, key_loads: tuple[Counter, Counter], monkeypatch: pytest.MonkeyPatch
) -> None:
    oid = await org_id(server)
    rings = server.rt.rings
    token = await sign(server, oid, rings)
    clock = [rings.clock()]
    monkeypatch.setattr(rings, "clock", lambda: clock[0])
    queries, _ = key_loads
    queries.calls = 0
    for i in range(5):
        with pytest.raises(TokenInvalid):
            await verify(server, oid, _forged(token, f"a{i}"))
    assert queries.calls == 1
    clock[0] += rings.refresh_interval + 1
    for i in range(5):
        with pytest.raises(TokenInvalid):
            await verify(server, oid, _forged(token, f"b{i}"))
    assert queries.calls == 2


async def test_unknown_kid_at_userinfo_answers_401_invalid_token(server: Server) -> None:
    oid = await org_id(server)
    token = await sign(server, oid, server.rt.rings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=server.app), base_url="http://localhost:8080"
    ) as client:
        response = await client.get(
            "/oauth2/default/v1/userinfo", headers={"Authorization": f"Bearer {_forged(token, 'nope')}"}
        )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


async def test_a_process_without_a_cached_ring_verifies_with_public_keys_only(
    server: Server, key_loads: tuple[Counter, Counter]
) -> None:
    oid = await org_id(server)
    token = await sign(server, oid, server.rt.rings)
    server.rt.rings.clear()  # as a freshly started process that has signed nothing
    queries, private_loads = key_loads
    queries.calls = private_loads.calls = 0
    assert (await verify(server, oid, token))["iss"] == ISSUER
    for i in range(20):
        with pytest.raises(TokenInvalid):
            await verify(server, oid, _forged(token, f"k{i}"))
    assert queries.calls <= 2  # the first public read, then at most one unknown-kid reload
    assert private_loads.calls == 0
