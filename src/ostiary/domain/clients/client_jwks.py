"""Client JSON Web Keys (``/api/v1/apps/{appId}/credentials/jwks``): the public keys that
``private_key_jwt`` assertions (RFC 7523) are checked with.

The same rows are ``settings.oauthClient.jwks`` of the app: creating or replacing the app
with ``jwks`` replaces the set; this API adds, activates, deactivates and deletes one key.
Each key is pinned to one algorithm when registered (``ostiary.jose.signing_keys.public_jwk_from_dict``):
RSA (RS256/384/512, 2048 to 8192 bits) or EC P-256 (ES256). Only signing keys (``use: sig``)
are accepted; encryption keys are not supported.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.clients.client_cache import invalidate_client
from ostiary.domain.clients.credential_changes import delete_credential, set_credential_status
from ostiary.domain.clients.records import ACTIVE, INACTIVE, Causes, app_target, get_app, validation_error
from ostiary.domain.context import Tx
from ostiary.domain.errors import NotFound
from ostiary.jose.signing_keys import InvalidJwk, jwk_thumbprint, public_jwk_from_dict
from ostiary.store.models import App, AppJwk
from ostiary.timeutil import utcnow

MAX_KEYS = 50
MAX_KID_LENGTH = 255
PRIVATE_KEY_JWT = "private_key_jwt"
_PUBLIC_MEMBERS = ("kty", "kid", "alg", "use", "e", "n", "crv", "x", "y")
_FIELD = "JsonWebKey"


@dataclass(frozen=True)
class JwkInput:
    """A validated client key from a request: public members only, algorithm pinned."""

    kid: str | None
    alg: str
    status: str
    jwk: dict[str, Any]
    id: str | None = None

    @property
    def thumbprint(self) -> str:
        return jwk_thumbprint(self.jwk)


def not_found(key_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {key_id} (JsonWebKey)", code="E0000007")


def _target(row: AppJwk) -> Target:
    return Target(row.id, "JsonWebKey", row.kid or row.id, row.kid or row.id)


def parse_jwk(raw: object, causes: Causes, field: str = "jwks") -> JwkInput | None:
    """Validate one client JWK; problems go to ``causes``."""
    if not isinstance(raw, Mapping):
        causes.add(field, "each key must be a JSON object")
        return None
    if raw.get("use") == "enc":
        causes.add(field, "only signing keys (use 'sig') are supported")
        return None
    kid = raw.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid or len(kid) > MAX_KID_LENGTH):
        causes.add(field, f"kid must be a non-empty string of at most {MAX_KID_LENGTH} characters")
        return None
    status = raw.get("status", ACTIVE)
    if status not in (ACTIVE, INACTIVE):
        causes.add(field, "status must be ACTIVE or INACTIVE")
        return None
    try:
        pinned = public_jwk_from_dict(raw)
    except InvalidJwk as exc:
        causes.add(field, str(exc))
        return None
    jwk = {name: raw[name] for name in _PUBLIC_MEMBERS if name in raw}
    jwk.update(alg=pinned.alg, use="sig")
    key_id = raw.get("id")
    return JwkInput(
        kid=kid, alg=pinned.alg, status=status, jwk=jwk, id=key_id if isinstance(key_id, str) else None
    )


def parse_jwks(raw: object, causes: Causes) -> list[JwkInput] | None:
    """``settings.oauthClient.jwks``: ``{"keys": [...]}``, kids unique, at most ``MAX_KEYS``."""
    keys = raw.get("keys") if isinstance(raw, Mapping) else None
    if not isinstance(keys, list):
        causes.add("jwks", "must be an object with a 'keys' array")
        return None
    if len(keys) > MAX_KEYS:
        causes.add("jwks", f"at most {MAX_KEYS} keys are allowed")
        return None
    parsed = [parse_jwk(key, causes) for key in keys]
    if any(key is None for key in parsed):
        return None
    result = [key for key in parsed if key is not None]
    kids = [key.kid for key in result]
    if len(result) > 1 and (None in kids or len(set(kids)) != len(kids)):
        causes.add("jwks", "All keys in the 'jwks' must have a unique `kid`.")
        return None
    return result


async def keys_of(tx: Tx, app_ids: Sequence[str]) -> dict[str, list[AppJwk]]:
    """The keys of several apps at once (rendering a page of apps)."""
    result: dict[str, list[AppJwk]] = {app_id: [] for app_id in app_ids}
    if not app_ids:
        return result
    stmt = select(AppJwk).where(AppJwk.org_id == tx.org_id, AppJwk.app_id.in_(list(app_ids)))
    for row in (await tx.session.scalars(stmt.order_by(AppJwk.id))).all():
        result[row.app_id].append(row)
    return result


async def replace_keys(tx: Tx, app: App, keys: Sequence[JwkInput]) -> list[AppJwk]:
    """Make ``keys`` the app's key set; a key given back with its ``id`` (or the same key
    material) keeps its row and id."""
    current = (await keys_of(tx, [app.id]))[app.id]
    by_id = {row.id: row for row in current}
    by_thumbprint = {jwk_thumbprint(row.jwk): row for row in current}
    now = utcnow()
    new_ids = iter(sorted(ids.new_id(ids.JWK) for _ in keys))
    result: list[AppJwk] = []
    for key in keys:
        row = by_id.get(key.id or "") or by_thumbprint.get(key.thumbprint)
        if row is not None and row not in result:
            if (row.kid, row.alg, row.status, row.jwk) != (key.kid, key.alg, key.status, key.jwk):
                row.kid, row.alg, row.status, row.jwk, row.last_updated = (
                    key.kid,
                    key.alg,
                    key.status,
                    key.jwk,
                    now,
                )
        else:
            row = _new_row(tx, app, key, next(new_ids))
            tx.session.add(row)
        result.append(row)
    for row in current:
        if row not in result:
            await tx.session.delete(row)
    await tx.session.flush()
    invalidate_client(app.id, tx.session)
    return result


def _new_row(tx: Tx, app: App, key: JwkInput, key_id: str | None = None) -> AppJwk:
    """A new key row; ids sort in creation order, so a batch gets its ids sorted."""
    now = utcnow()
    return AppJwk(
        id=key_id or ids.new_id(ids.JWK),
        org_id=tx.org_id,
        app_id=app.id,
        kid=key.kid,
        alg=key.alg,
        status=key.status,
        jwk=key.jwk,
        created=now,
        last_updated=now,
    )


async def list_keys(tx: Tx, app_id: str) -> list[AppJwk]:
    app = await get_app(tx, app_id)
    return (await keys_of(tx, [app.id]))[app.id]


async def get_key(tx: Tx, app_id: str, key_id: str) -> AppJwk:
    app = await get_app(tx, app_id)
    stmt = select(AppJwk).where(AppJwk.org_id == tx.org_id, AppJwk.app_id == app.id, AppJwk.id == key_id)
    row = (await tx.session.scalars(stmt)).first()
    if row is None:
        raise not_found(key_id)
    return row


async def add_key(tx: Tx, app_id: str, body: Mapping[str, Any]) -> AppJwk:
    app = await get_app(tx, app_id)
    causes = Causes()
    key = parse_jwk(body, causes, field=_FIELD)
    causes.raise_if_any()
    assert key is not None
    current = (await keys_of(tx, [app.id]))[app.id]
    if len(current) >= MAX_KEYS:
        raise validation_error(
            _FIELD,
            "You can't create a new key. You have reached the maximum number of keys allowed "
            f"({MAX_KEYS}). To add another key, you must first delete an existing one.",
        )
    if current and (key.kid is None or any(row.kid is None for row in current)):
        raise validation_error(
            _FIELD,
            "Each key should have a unique kid when adding multiple keys. Use the Apps API to update the "
            "JWKS to add a kid for the existing key, or delete the existing key and re-add the key with a "
            "kid using the JWKS APIs.",
        )
    if any(row.kid == key.kid for row in current):
        raise validation_error(_FIELD, "All keys in the 'jwks' must have a unique `kid`.")
    row = _new_row(tx, app, key)
    tx.session.add(row)
    await tx.session.flush()
    invalidate_client(app.id, tx.session)
    record(
        tx, "app.oauth2.credentials.jwk.create", "Add client JSON Web Key", [app_target(app), _target(row)]
    )
    return row


async def activate_key(tx: Tx, app_id: str, key_id: str) -> AppJwk:
    row = await get_key(tx, app_id, key_id)
    if row.status != ACTIVE:
        await _set_status(
            tx, row, ACTIVE, "app.oauth2.credentials.jwk.activate", "Activate client JSON Web Key"
        )
    return row


async def deactivate_key(tx: Tx, app_id: str, key_id: str) -> AppJwk:
    row = await get_key(tx, app_id, key_id)
    if row.status == ACTIVE:
        app = await get_app(tx, app_id)
        others = [k for k in (await keys_of(tx, [app.id]))[app.id] if k.id != row.id and k.status == ACTIVE]
        if app.token_endpoint_auth_method == PRIVATE_KEY_JWT and not others:
            raise validation_error(
                _FIELD,
                "Can't deactivate the only active JSON Web Key when the value for "
                "`token_endpoint_auth_method` is `private_key_jwt`.",
            )
        await _set_status(
            tx, row, INACTIVE, "app.oauth2.credentials.jwk.deactivate", "Deactivate client JSON Web Key"
        )
    return row


async def delete_key(tx: Tx, app_id: str, key_id: str) -> None:
    row = await get_key(tx, app_id, key_id)
    if row.status == ACTIVE:
        raise validation_error(
            _FIELD, "You can't delete an active JSON Web Key. Deactivate the key before deleting it."
        )
    await delete_credential(
        tx, row, _target(row), "app.oauth2.credentials.jwk.delete", "Delete client JSON Web Key"
    )


async def _set_status(tx: Tx, row: AppJwk, status: str, event: str, message: str) -> None:
    await set_credential_status(tx, row, _target(row), status, event, message)
