"""A resource server's public JWT encryption keys on an authorization server
(``…/{authServerId}/resourceservercredentials/keys``): RSA keys (2048 bits or more) with a
unique ``kid``, at most five, added ``INACTIVE``; activating one deactivates the others, and the
``ACTIVE`` key cannot be deleted. Ostiary stores and lists them as Okta's
``OAuth2ResourceServerJsonWebKey``; it does not yet encrypt tokens with them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from ostiary import ids
from ostiary.domain.audit.log import record
from ostiary.domain.authz.server_admin import manageable_server, target
from ostiary.domain.context import Tx
from ostiary.domain.errors import Invalid, NotFound
from ostiary.jose.b64 import b64url_decode
from ostiary.store.models.key_credentials import ResourceServerKey
from ostiary.timeutil import iso, utcnow

ACTIVE, INACTIVE = "ACTIVE", "INACTIVE"
PREFIX = "apk"
MAX_KEYS = 5
MIN_BITS = 2048


def not_found(key_id: str) -> NotFound:
    return NotFound(f"Not found: Resource not found: {key_id} (JsonWebKey)", code="E0000007")


def _invalid(cause: str) -> Invalid:
    return Invalid("Api validation failed: JsonWebKey", code="E0000001", causes=[cause])


async def list_keys(tx: Tx, server_id: str) -> list[ResourceServerKey]:
    server = await manageable_server(tx, server_id)
    stmt = select(ResourceServerKey).where(
        ResourceServerKey.org_id == tx.org_id, ResourceServerKey.server_id == server.id
    )
    return list((await tx.session.scalars(stmt.order_by(ResourceServerKey.id))).all())


async def get_key(tx: Tx, server_id: str, key_id: str) -> ResourceServerKey:
    for key in await list_keys(tx, server_id):
        if key.id == key_id:
            return key
    raise not_found(key_id)


def _text(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _invalid(f"{name}: The field cannot be left blank")
    return value


def _modulus_bits(n: str) -> int:
    try:
        return int.from_bytes(b64url_decode(n), "big").bit_length()
    except ValueError:
        raise _invalid("n: must be an unpadded base64url RSA modulus") from None


async def add_key(tx: Tx, server_id: str, body: Mapping[str, Any]) -> ResourceServerKey:
    existing = await list_keys(tx, server_id)
    server = await manageable_server(tx, server_id)
    if body.get("status", INACTIVE) == ACTIVE:
        raise _invalid(
            "Keys cannot be created with an 'ACTIVE' status. Create an 'INACTIVE' key and then activate it."
        )
    if body.get("status", INACTIVE) != INACTIVE:
        raise _invalid("status: must be ACTIVE or INACTIVE")
    if body.get("kty") != "RSA":
        raise _invalid("kty: only RSA keys are supported")
    kid, e, n = _text(body, "kid"), _text(body, "e"), _text(body, "n")
    use = body.get("use", "enc")
    if use != "enc":
        raise _invalid("use: must be enc")
    if _modulus_bits(n) < MIN_BITS:
        raise _invalid("RSA key length in the 'jwks' is less than '2,048' bits for the given key.")
    if any(key.kid == kid for key in existing):
        raise _invalid("Each key must have a unique 'kid'.")
    if len(existing) >= MAX_KEYS:
        raise _invalid(
            "You can't create a new key. You have reached the maximum number of keys allowed (5). "
            "To add another key, you must first delete an existing one."
        )
    now = utcnow()
    key = ResourceServerKey(
        id=ids.new_id(PREFIX),
        org_id=tx.org_id,
        server_id=server.id,
        kid=kid,
        jwk={"kty": "RSA", "use": use, "e": e, "n": n},
        status=INACTIVE,
        created=now,
        last_updated=now,
    )
    tx.session.add(key)
    await tx.session.flush()
    record(tx, "oauth2.as.resource_key.add", "Add a resource server encryption key", [target(server)])
    return key


async def set_status(tx: Tx, server_id: str, key_id: str, status: str) -> ResourceServerKey:
    """Activate (deactivating every other key of the server) or deactivate one key."""
    keys = await list_keys(tx, server_id)
    chosen = next((key for key in keys if key.id == key_id), None)
    if chosen is None:
        raise not_found(key_id)
    now = utcnow()
    for key in keys:
        wanted = status if key is chosen else (INACTIVE if status == ACTIVE else key.status)
        if key.status != wanted:
            key.status, key.last_updated = wanted, now
    await tx.session.flush()
    return chosen


async def delete_key(tx: Tx, server_id: str, key_id: str) -> None:
    key = await get_key(tx, server_id, key_id)
    if key.status == ACTIVE:
        raise _invalid("''ACTIVE'' keys cannot be deleted. Activate another key before deleting this one.")
    await tx.session.delete(key)
    await tx.session.flush()


def key_json(key: ResourceServerKey, base: str) -> dict[str, Any]:
    href = f"{base}/api/v1/authorizationServers/{key.server_id}/resourceservercredentials/keys/{key.id}"
    links: dict[str, Any] = {}
    if key.status == INACTIVE:
        links["activate"] = {"href": f"{href}/lifecycle/activate", "hints": {"allow": ["POST"]}}
        links["delete"] = {"href": href, "hints": {"allow": ["DELETE"]}}
    else:
        links["deactivate"] = {"href": f"{href}/lifecycle/deactivate", "hints": {"allow": ["POST"]}}
    return {
        "id": key.id,
        "kid": key.kid,
        **{k: v for k, v in key.jwk.items() if k != "kid"},
        "status": key.status,
        "created": iso(key.created),
        "lastUpdated": iso(key.last_updated),
        "_links": links,
    }
