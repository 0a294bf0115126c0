"""Concurrent uses of one refresh token (two tabs, a client retrying while its first request is
still running): exactly one use wins, the others get ``invalid_grant`` and never a 500, on every
backend. On PostgreSQL these races used to end in a duplicate key on ``revoked_tokens`` (two
requests revoking one family's access tokens) or a deadlock (a rotation against a revocation)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from ostiary.store.models import RevokedToken
from tests.conftest import Server, _server
from tests.support.refresh_tokens import ROTATE_NO_GRACE, Scenario, scenario

pytestmark = pytest.mark.faults

CONCURRENT = 50
RACE_ROUNDS = 5


@pytest.fixture
async def racing_server(tmp_path: Path, database_url: str) -> AsyncIterator[Server]:
    """The server on every backend, with time enough to queue 50 requests for one family's
    row locks on a loaded machine (the pool timeout bounds capacity, not what is tested here)."""
    async for s in _server(tmp_path, database_url, db_pool_timeout=60.0):
        yield s


@pytest.fixture
async def racing_admin(racing_server: Server) -> AsyncIterator[httpx.AsyncClient]:
    async with racing_server.client(await racing_server.create_token()) as client:
        yield client


async def _all_at_once(s: Scenario, token: str) -> list[httpx.Response]:
    return list(await asyncio.gather(*(s.refresh(token) for _ in range(CONCURRENT))))


def _outcomes(responses: list[httpx.Response]) -> Counter[str]:
    def outcome(r: httpx.Response) -> str:
        if r.status_code == 200:
            return "ok"
        body = r.json()
        return f"{r.status_code} {body.get('error') or body.get('errorCode')}"

    return Counter(outcome(r) for r in responses)


async def _revoked_jtis(server: Server) -> int:
    async with server.rt.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(RevokedToken)) or 0)


async def test_concurrent_uses_of_a_current_token_rotate_it_once_and_the_others_get_invalid_grant(
    racing_admin: httpx.AsyncClient, racing_server: Server
) -> None:
    s = await scenario(racing_admin, racing_server, rotation=ROTATE_NO_GRACE)
    first = await s.refresh(await s.issue())  # the family has a noted access token to revoke
    assert first.status_code == 200, first.text

    outcomes = _outcomes(await _all_at_once(s, first.json()["refresh_token"]))

    assert outcomes == Counter({"ok": 1, "400 invalid_grant": CONCURRENT - 1})
    assert all(row.revoked_at is not None for row in await s.family(first.json()["refresh_token"]))


async def test_concurrent_reuse_of_a_rotated_token_revokes_the_family_once_and_answers_invalid_grant(
    racing_admin: httpx.AsyncClient, racing_server: Server
) -> None:
    s = await scenario(racing_admin, racing_server, rotation=ROTATE_NO_GRACE)
    rotated = await s.issue()
    current = await s.refresh(rotated)
    assert current.status_code == 200, current.text

    outcomes = _outcomes(await _all_at_once(s, rotated))

    assert outcomes == Counter({"400 invalid_grant": CONCURRENT})
    assert all(row.revoked_at is not None for row in await s.family(rotated))
    assert await _revoked_jtis(racing_server) == 1  # the family's one access token, recorded once
    assert (await s.refresh(current.json()["refresh_token"])).status_code == 400


async def test_static_refreshes_racing_a_revocation_leave_no_access_token_alive(
    racing_admin: httpx.AsyncClient, racing_server: Server
) -> None:
    """A static token is kept without its family's lock (``SqlRefreshTokens.keep``): each
    refresh that runs while the token is revoked either fails or mints an access token that
    the revocation revokes with the family; none is left working. Rounds repeat (a new token
    each) until the revocation has landed among the refreshes: some won, some refused."""
    s = await scenario(racing_admin, racing_server)  # a web app's tokens are static
    half = CONCURRENT // 2
    seen: Counter[str] = Counter()
    for _ in range(RACE_ROUNDS):
        token = await s.issue()
        answers = await asyncio.gather(
            *(s.refresh(token) for _ in range(half)),
            s.post("revoke", token),
            *(s.refresh(token) for _ in range(half)),
        )
        revoked, refreshed = answers[half], answers[:half] + answers[half + 1 :]
        assert revoked.status_code == 200, revoked.text
        outcomes = _outcomes(refreshed)
        assert set(outcomes) <= {"ok", "400 invalid_grant"}, outcomes
        for answer in refreshed:
            if answer.status_code == 200:
                checked = await s.post("introspect", answer.json()["access_token"])
                assert checked.status_code == 200 and checked.json() == {"active": False}, checked.text
        assert (await s.refresh(token)).status_code == 400
        seen.update(outcomes)
        if seen["ok"] and seen["400 invalid_grant"]:
            break
    assert seen["ok"] and seen["400 invalid_grant"], seen  # the revocation landed among them
