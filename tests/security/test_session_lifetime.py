"""F19 (info) — sessions have an absolute lifetime: refreshing keeps a session alive for at most
``OSTIARY_SESSION_MAX_LIFETIME_MINUTES`` (default 12 h; 0: no cap) after it started."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import update

from ostiary.settings import SettingsError, load_settings
from ostiary.store.models.sessions import UserSession
from tests.conftest import Server
from tests.support.sessions import ME, browser, sign_in
from tests.support.users import create

REFRESH = f"{ME}/lifecycle/refresh"


def expires_in(body: dict[str, str]) -> timedelta:
    return datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00")) - datetime.now(UTC)


def cap_sessions(server: Server, minutes: int) -> None:
    server.rt.settings = dataclasses.replace(server.rt.settings, session_max_lifetime_minutes=minutes)


async def started_ago(server: Server, age: timedelta) -> None:
    """Pretend every session started ``age`` ago."""
    async with server.rt.db.session() as session:
        await session.execute(update(UserSession).values(created=datetime.now(UTC) - age))


async def test_refreshing_cannot_extend_a_session_past_its_absolute_lifetime(
    any_server: Server, any_admin: httpx.AsyncClient
) -> None:
    await create(any_admin)
    _session, sid = await sign_in(any_server)
    await started_ago(any_server, timedelta(hours=11))
    async with browser(any_server, sid) as client:
        body = (await client.post(REFRESH)).json()
    assert timedelta(minutes=58) < expires_in(body) <= timedelta(hours=1)


async def test_a_session_past_its_absolute_lifetime_ends_on_refresh(
    server: Server, admin: httpx.AsyncClient
) -> None:
    await create(admin)
    _session, sid = await sign_in(server)
    await started_ago(server, timedelta(hours=13))
    async with browser(server, sid) as client:
        await client.post(REFRESH)
        assert (await client.get(ME)).status_code == 404


async def test_the_admin_refresh_is_capped_too(server: Server, admin: httpx.AsyncClient) -> None:
    await create(admin)
    created, _sid = await sign_in(server)
    await started_ago(server, timedelta(hours=11, minutes=30))
    body = (await admin.post(f"/api/v1/sessions/{created['id']}/lifecycle/refresh")).json()
    assert timedelta(minutes=28) < expires_in(body) <= timedelta(minutes=30)


async def test_a_cap_shorter_than_the_idle_lifetime_applies_from_the_start(
    server: Server, admin: httpx.AsyncClient
) -> None:
    cap_sessions(server, 30)
    await create(admin)
    created, _sid = await sign_in(server)
    assert timedelta(minutes=28) < expires_in(created) <= timedelta(minutes=30)


async def test_zero_means_no_cap(server: Server, admin: httpx.AsyncClient) -> None:
    cap_sessions(server, 0)
    await create(admin)
    _session, sid = await sign_in(server)
    await started_ago(server, timedelta(days=30))
    async with browser(server, sid) as client:
        body = (await client.post(REFRESH)).json()
    assert timedelta(hours=1, minutes=58) < expires_in(body) <= timedelta(hours=2)


def test_the_setting_defaults_to_twelve_hours_and_is_read_in_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OSTIARY_SESSION_MAX_LIFETIME_MINUTES", raising=False)
    assert load_settings().session_max_lifetime_minutes == 720
    monkeypatch.setenv("OSTIARY_SESSION_MAX_LIFETIME_MINUTES", "90")
    assert load_settings().session_max_lifetime_minutes == 90
    monkeypatch.setenv("OSTIARY_SESSION_MAX_LIFETIME_MINUTES", "12h")
    with pytest.raises(SettingsError, match="OSTIARY_SESSION_MAX_LIFETIME_MINUTES"):
        load_settings()
