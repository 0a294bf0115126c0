"""An app's X.509 key credentials (``/api/v1/apps/{appId}/credentials/keys``): self-signed
certificates generated for ``validityYears`` (2 to 10) and cloned to other apps, shown as
JWKs with ``x5c``. Only the certificate is kept (Ostiary signs nothing with it)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ostiary.domain.audit.log import record
from ostiary.domain.clients.records import app_target, get_app
from ostiary.domain.context import Tx
from ostiary.domain.errors import Invalid, NotFound
from ostiary.jose.self_signed import certificate_jwk
from ostiary.store.models import App
from ostiary.store.models.key_credentials import AppKeyCredential
from ostiary.timeutil import iso, utcnow

MIN_YEARS, MAX_YEARS = 2, 10


def not_found(kid: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {kid} (AppKeyCredential)", code="E0000007")


def _invalid(field: str, cause: str) -> Invalid:
    return Invalid(f"Api validation failed: {field}", code="E0000001", causes=[cause])


def parse_years(raw: str | None) -> int:
    if raw is None or not raw.isascii() or not raw.isdigit() or not MIN_YEARS <= int(raw) <= MAX_YEARS:
        raise _invalid("generateKey", "Validity years out of range. It should be 2 - 10 years.")
    return int(raw)


async def list_keys(tx: Tx, app_id: str) -> list[AppKeyCredential]:
    app = await get_app(tx, app_id)
    stmt = select(AppKeyCredential).where(
        AppKeyCredential.org_id == tx.org_id, AppKeyCredential.app_id == app.id
    )
    return list((await tx.session.scalars(stmt.order_by(AppKeyCredential.created))).all())


async def _find(tx: Tx, app: App, kid: str) -> AppKeyCredential | None:
    return await tx.session.get(AppKeyCredential, (app.id, kid))


async def get_key(tx: Tx, app_id: str, kid: str) -> AppKeyCredential:
    key = await _find(tx, await get_app(tx, app_id), kid)
    if key is None or key.org_id != tx.org_id:
        raise not_found(kid)
    return key


async def generate_key(tx: Tx, app_id: str, years: int) -> AppKeyCredential:
    app = await get_app(tx, app_id)
    now = utcnow()
    jwk, expires_at = certificate_jwk(app.label[:64] or app.id, now, years)
    key = AppKeyCredential(
        org_id=tx.org_id,
        app_id=app.id,
        kid=jwk["kid"],
        jwk=jwk,
        created=now,
        last_updated=now,
        expires_at=expires_at,
    )
    tx.session.add(key)
    await tx.session.flush()
    record(tx, "app.keys.generate", "Generate app key credential", [app_target(app)])
    return key


async def clone_key(tx: Tx, app_id: str, kid: str, target_app_id: str | None) -> AppKeyCredential:
    source = await get_key(tx, app_id, kid)
    if not target_app_id:
        raise _invalid("cloneKey", "targetAid: The field cannot be left blank")
    target = await get_app(tx, target_app_id)
    if await _find(tx, target, kid) is not None:
        raise _invalid("cloneKey", "Key already exists in the list of key credentials for the target app.")
    now = utcnow()
    clone = AppKeyCredential(
        org_id=tx.org_id,
        app_id=target.id,
        kid=source.kid,
        jwk=dict(source.jwk),
        created=now,
        last_updated=now,
        expires_at=source.expires_at,
    )
    tx.session.add(clone)
    await tx.session.flush()
    record(tx, "app.keys.clone", "Clone app key credential", [app_target(target)])
    return clone


def key_json(key: AppKeyCredential) -> dict[str, Any]:
    return {
        "created": iso(key.created),
        "lastUpdated": iso(key.last_updated),
        "expiresAt": iso(key.expires_at),
        **key.jwk,
    }
