"""The device authorization grant (RFC 8628): codes for a device, the person's decision, polling.

``/v1/device/authorize`` starts a request (:func:`start`): a ``device_code`` (32 random bytes,
stored as its SHA-256 digest) for the device, and a ``user_code`` of 8 letters from a
consonant-only alphabet (no vowels: no words; §6.1) shown as ``XXXX-XXXX`` for the person, who
types it at the hosted ``/activate`` page, signed in, and approves or denies (:func:`decide`).
The access policies decide for the ``device_code`` grant type at approval; a denial is
``access_denied`` for the device. The device polls ``/v1/token`` (:func:`poll`, run by
:mod:`ostiary.domain.tokens.grants.device_code`): ``authorization_pending`` until the person
decides, ``slow_down`` (and 5 more seconds of interval, §3.5) when it polls faster than the
interval, ``access_denied``, ``expired_token`` once :data:`LIFETIME` has passed; an approved
request gives tokens once (a conditional update picks the one poll that wins).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from ostiary.domain.oauth_errors import OAuthError
from ostiary.store.models.device_codes import DeviceCode
from ostiary.timeutil import utcnow

if TYPE_CHECKING:  # user_scopes imports the grants package, which imports this module
    from ostiary.domain.tokens.user_scopes import UserScopeDecision

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
LIFETIME = 600
INTERVAL = 5
SLOW_DOWN_STEP = 5
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
PENDING, APPROVED, DENIED, USED = "PENDING", "APPROVED", "DENIED", "USED"
INVALID_DEVICE_CODE = "The device code is invalid or has expired."


def digest(device_code: str) -> str:
    return hashlib.sha256(device_code.encode()).hexdigest()


def new_user_code() -> str:
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def display(user_code: str) -> str:
    """``XXXX-XXXX``."""
    half = USER_CODE_LENGTH // 2
    return f"{user_code[:half]}-{user_code[half:]}"


def normalize(typed: str) -> str | None:
    """What a person typed, as stored: case, spaces and dashes do not matter (§6.1)."""
    code = "".join(c for c in typed.upper() if c not in " -")
    if len(code) != USER_CODE_LENGTH or any(c not in USER_CODE_ALPHABET for c in code):
        return None
    return code


async def start(
    session: AsyncSession, *, org_id: str, server_id: str, client_id: str, scopes: list[str]
) -> tuple[str, DeviceCode]:
    """A new request: the ``device_code`` (shown once) and its row (``user_code`` in it)."""
    now = utcnow()
    await session.execute(delete(DeviceCode).where(DeviceCode.expires_at < now - timedelta(days=1)))
    device_code = secrets.token_urlsafe(32)
    taken = set(
        await session.scalars(
            select(DeviceCode.user_code).where(DeviceCode.org_id == org_id, DeviceCode.expires_at >= now)
        )
    )
    user_code = new_user_code()
    while user_code in taken:  # 20^8 codes: practically never
        user_code = new_user_code()
    await session.execute(
        delete(DeviceCode).where(DeviceCode.org_id == org_id, DeviceCode.user_code == user_code)
    )
    row = DeviceCode(
        device_code_hash=digest(device_code),
        org_id=org_id,
        server_id=server_id,
        client_id=client_id,
        user_code=user_code,
        scopes=list(scopes),
        status=PENDING,
        interval=INTERVAL,
        expires_at=now + timedelta(seconds=LIFETIME),
    )
    session.add(row)
    await session.flush()
    return device_code, row


async def pending_by_user_code(session: AsyncSession, org_id: str, typed: str) -> DeviceCode | None:
    """The unexpired request awaiting a decision for this user code, or None."""
    code = normalize(typed)
    if code is None:
        return None
    row = (
        await session.scalars(
            select(DeviceCode).where(DeviceCode.org_id == org_id, DeviceCode.user_code == code)
        )
    ).first()
    if row is None or row.status != PENDING or row.expires_at <= utcnow():
        return None
    return row


def approve(
    row: DeviceCode, *, user_id: str, auth_time: int, amr: list[str], decision: UserScopeDecision
) -> None:
    row.status = APPROVED
    row.user_id, row.auth_time, row.amr = user_id, auth_time, list(amr)
    row.granted_scopes = list(decision.scopes)
    row.access_token_lifetime = decision.access_token_lifetime
    row.refresh_token_lifetime_minutes = decision.refresh_token_lifetime_minutes
    row.refresh_token_window_minutes = decision.refresh_token_window_minutes


def deny(row: DeviceCode) -> None:
    row.status = DENIED


def check_poll(row: DeviceCode, client_id: str, server_id: str) -> None:
    """Raise the RFC 8628 §3.5 answer for a poll of ``row`` that gets no token; return when the
    request is approved (the caller then redeems it once). Records the poll's time."""
    if row.client_id != client_id or row.server_id != server_id or row.status == USED:
        raise OAuthError("invalid_grant", INVALID_DEVICE_CODE)
    now = utcnow()
    if row.expires_at <= now:
        raise OAuthError("expired_token", "The device code has expired.")
    if row.status == DENIED:
        raise OAuthError("access_denied", "The resource owner denied the request.")
    if row.status == APPROVED:
        return
    too_soon = row.last_polled_at is not None and now - row.last_polled_at < timedelta(seconds=row.interval)
    row.last_polled_at = now
    if too_soon:
        row.interval += SLOW_DOWN_STEP
        raise OAuthError("slow_down", "The client is polling too frequently.")
    raise OAuthError("authorization_pending", "The device authorization is pending. Please try again later.")
