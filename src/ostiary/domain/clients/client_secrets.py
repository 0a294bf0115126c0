"""Client secrets (``/api/v1/apps/{appId}/credentials/secrets``).

Secrets are high-entropy (64 base64url characters, 384 bits) unless the admin brings one,
stored as SHA-256 digests and shown in full only in the response that creates them. An
app has at most two (Okta's limit), so a secret can be rotated without downtime.

``client_secret_jwt`` needs the secret itself to check an assertion's HMAC, so for apps
with that method (and only those) an AES-256-GCM copy under the master key is kept,
bound to its row (org, app, secret id) by associated data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from ostiary import ids
from ostiary.domain.audit.log import Target, record
from ostiary.domain.clients.client_cache import invalidate_client
from ostiary.domain.clients.credential_changes import delete_credential, set_credential_status
from ostiary.domain.clients.records import (
    ACTIVE,
    INACTIVE,
    SECRET_METHODS,
    app_target,
    get_app,
    validation_error,
)
from ostiary.domain.context import Tx
from ostiary.domain.errors import Invalid, NotFound
from ostiary.jose.key_encryption import KeyEncryptor, associated_data
from ostiary.store.models import App, ClientSecret
from ostiary.timeutil import utcnow

MAX_SECRETS = 2
MIN_LENGTH = 14
MIN_JWT_LENGTH = 32
MAX_LENGTH = 100
CLIENT_SECRET_JWT = "client_secret_jwt"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
_MEDIATED = "OAuth2ClientSecretMediated"


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


MAX_PRESENTED_LENGTH = 1024
"""A presented secret longer than this is not hashed (no stored secret is that long)."""
_DUMMY_DIGEST = digest("an unknown client has no secret; hash anyway so timing does not tell")


def secret_matches(presented: Iterable[str], registered: Iterable[str]) -> bool:
    """Whether one of the ``presented`` secrets has one of the ``registered`` SHA-256 digests.

    Every candidate is compared with every digest in constant time, without an early exit;
    with no candidate or no registered secret (an unknown client, the wrong method), a dummy
    comparison keeps the work the same, so timing does not tell which case it was.
    """
    wanted = [digest(secret) for secret in presented if len(secret) <= MAX_PRESENTED_LENGTH]
    stored = list(registered)
    found = False
    for candidate in wanted or [_DUMMY_DIGEST]:
        for known in stored or [_DUMMY_DIGEST]:
            found |= hmac.compare_digest(candidate, known)
    return found and bool(wanted) and bool(stored)


def generate_secret() -> str:
    return secrets.token_urlsafe(48)


def secret_associated_data(row: ClientSecret) -> bytes:
    return associated_data(row.org_id, row.app_id, row.id)


def not_found(secret_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {secret_id} (OAuth2ClientSecret)", code="E0000007")


def _target(row: ClientSecret) -> Target:
    return Target(row.id, "OAuth2ClientSecret", row.id, f"***{row.secret_hint}")


def custom_secret_problem(secret: object, method: str) -> str | None:
    """Why an admin-chosen ``client_secret`` is refused (Okta's wording), or ``None``."""
    if method not in SECRET_METHODS:
        return f"'client_secret' can't be used when 'token_endpoint_auth_method' is '{method}'."
    if not isinstance(secret, str):
        return "'client_secret' must be a string."
    if not _PRINTABLE_ASCII.fullmatch(secret):
        return "'client_secret' must only contain printable ASCII: [x20-x7E]+"
    if len(secret) > MAX_LENGTH:
        return f"'client_secret' can't be more than '{MAX_LENGTH}' characters long."
    if method == CLIENT_SECRET_JWT and len(secret) < MIN_JWT_LENGTH:
        return (
            f"'client_secret' must be at least '{MIN_JWT_LENGTH}' characters long when "
            "'token_endpoint_auth_method' is 'client_secret_jwt'."
        )
    if len(secret) < MIN_LENGTH:
        return f"'client_secret' must be at least '{MIN_LENGTH}' characters long."
    return None


async def secrets_of(tx: Tx, app_id: str) -> list[ClientSecret]:
    stmt = select(ClientSecret).where(ClientSecret.org_id == tx.org_id, ClientSecret.app_id == app_id)
    return list((await tx.session.scalars(stmt.order_by(ClientSecret.id))).all())


async def add_secret(
    tx: Tx,
    app: App,
    *,
    plaintext: str | None = None,
    status: str = ACTIVE,
    encryptor: KeyEncryptor | None = None,
) -> tuple[ClientSecret, str]:
    """Create a secret for ``app`` (generated unless ``plaintext``); returns it with its value."""
    method = app.token_endpoint_auth_method
    if plaintext is not None:
        problem = custom_secret_problem(plaintext, method)
        if problem:
            raise validation_error("client_secret", f"client_secret: {problem}")
    elif method not in SECRET_METHODS:
        raise validation_error(
            "client_secret",
            f"'client_secret' can't be used when 'token_endpoint_auth_method' is '{method}'.",
        )
    if len(await secrets_of(tx, app.id)) >= MAX_SECRETS:
        raise validation_error(_MEDIATED, "You've reached the maximum number of client secrets per client.")
    value = plaintext if plaintext is not None else generate_secret()
    now = utcnow()
    row = ClientSecret(
        id=ids.new_id(ids.CLIENT_SECRET),
        org_id=tx.org_id,
        app_id=app.id,
        secret_hash=digest(value),
        secret_hint=value[-4:],
        secret_encrypted=None,
        status=status,
        created=now,
        last_updated=now,
    )
    if method == CLIENT_SECRET_JWT:
        row.secret_encrypted = _seal(row, value, encryptor)
    tx.session.add(row)
    await tx.session.flush()
    invalidate_client(app.id, tx.session)
    record(
        tx,
        "app.oauth2.credentials.secret.create",
        "Create OAuth client secret",
        [app_target(app), _target(row)],
    )
    return row, value


def _seal(row: ClientSecret, value: str, encryptor: KeyEncryptor | None) -> str:
    if encryptor is None:
        raise Invalid(
            "Api validation failed: token_endpoint_auth_method",
            code="E0000001",
            causes=[
                "token_endpoint_auth_method: client_secret_jwt is not available: "
                "this server has no master key to keep the secret encrypted"
            ],
        )
    return encryptor.encrypt(value.encode(), associated_data=secret_associated_data(row))


async def fit_secrets_to_method(
    tx: Tx, app: App, *, requested: str | None, encryptor: KeyEncryptor | None
) -> str | None:
    """Make ``app``'s secrets fit its (new) ``token_endpoint_auth_method``.

    Methods without a secret drop every secret. ``client_secret_jwt`` keeps only secrets it
    holds encrypted (others cannot check an HMAC); the other secret methods drop the
    encrypted copies. A secret method with no active secret left gets a new one, and
    ``requested`` (an admin-chosen secret not yet registered) is added. Returns the value
    of a secret added here, to show once, or ``None``.
    """
    method = app.token_endpoint_auth_method
    rows = await secrets_of(tx, app.id)
    kept: list[ClientSecret] = []
    for row in rows:
        usable = method in SECRET_METHODS and (method != CLIENT_SECRET_JWT or row.secret_encrypted)
        if usable:
            if method != CLIENT_SECRET_JWT:
                row.secret_encrypted = None
            kept.append(row)
        else:
            await tx.session.delete(row)
    if len(kept) != len(rows):
        await tx.session.flush()
        invalidate_client(app.id, tx.session)
    if method not in SECRET_METHODS:
        return None
    if requested is not None:
        wanted = digest(requested)
        if any(hmac.compare_digest(row.secret_hash, wanted) for row in kept):
            return None
        return (await add_secret(tx, app, plaintext=requested, encryptor=encryptor))[1]
    if not any(row.status == ACTIVE for row in kept):
        return (await add_secret(tx, app, encryptor=encryptor))[1]
    return None


async def list_secrets(tx: Tx, app_id: str) -> list[ClientSecret]:
    app = await get_app(tx, app_id)
    return await secrets_of(tx, app.id)


async def get_secret(tx: Tx, app_id: str, secret_id: str) -> ClientSecret:
    app = await get_app(tx, app_id)
    stmt = select(ClientSecret).where(
        ClientSecret.org_id == tx.org_id, ClientSecret.app_id == app.id, ClientSecret.id == secret_id
    )
    row = (await tx.session.scalars(stmt)).first()
    if row is None:
        raise not_found(secret_id)
    return row


async def create_secret(
    tx: Tx, app_id: str, body: Mapping[str, Any], *, encryptor: KeyEncryptor | None
) -> tuple[ClientSecret, str]:
    """POST /credentials/secrets: ``{}`` for a generated secret, or ``{"client_secret", "status"}``."""
    app = await get_app(tx, app_id)
    plaintext = body.get("client_secret")
    if plaintext is not None and not isinstance(plaintext, str):
        raise validation_error("client_secret", "client_secret: 'client_secret' must be a string.")
    status = body.get("status", ACTIVE)
    if status not in (ACTIVE, INACTIVE):
        raise validation_error("status", "status: must be ACTIVE or INACTIVE")
    return await add_secret(tx, app, plaintext=plaintext, status=status, encryptor=encryptor)


async def activate_secret(tx: Tx, app_id: str, secret_id: str) -> ClientSecret:
    row = await get_secret(tx, app_id, secret_id)
    if row.status != ACTIVE:
        await _set_status(tx, row, ACTIVE, "app.oauth2.credentials.secret.activate", "Activate client secret")
    return row


async def deactivate_secret(tx: Tx, app_id: str, secret_id: str) -> ClientSecret:
    row = await get_secret(tx, app_id, secret_id)
    if row.status == ACTIVE:
        others = [s for s in await secrets_of(tx, app_id) if s.id != row.id and s.status == ACTIVE]
        if not others:
            raise validation_error(_MEDIATED, "You can't deactivate the only active client secret.")
        await _set_status(
            tx, row, INACTIVE, "app.oauth2.credentials.secret.deactivate", "Deactivate client secret"
        )
    return row


async def delete_secret(tx: Tx, app_id: str, secret_id: str) -> None:
    row = await get_secret(tx, app_id, secret_id)
    if row.status == ACTIVE:
        raise validation_error(
            _MEDIATED, "You can't delete an active client secret. Deactivate the secret before deleting it."
        )
    await delete_credential(
        tx, row, _target(row), "app.oauth2.credentials.secret.delete", "Delete client secret"
    )


async def _set_status(tx: Tx, row: ClientSecret, status: str, event: str, message: str) -> None:
    await set_credential_status(tx, row, _target(row), status, event, message)
