"""RFC 7523 client assertions (``client_secret_jwt``, ``private_key_jwt``): a JWT the client
signs to authenticate at the token, introspect and revoke endpoints (RFC 7521 §4.2).

The assertion must be signed with one of the client's registered public keys, each pinned
to its algorithm (RS256/384/512, ES256), or, for ``client_secret_jwt``, with HS256/384/512
keyed with the client secret; ``none`` is refused. It must have ``iss`` = ``sub`` = client id,
an accepted ``aud`` (the endpoint URL), an ``exp`` at most an hour ahead, and a ``jti`` that
has not been used before: used ``jti``\\ s are recorded (``AssertionReplay``, in the caller's
transaction) until they expire. Choosing the method and finding the client is
:mod:`.authentication`'s.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ostiary.domain.clients.client_cache import Client, ClientKey
from ostiary.domain.oauth_errors import invalid_client, invalid_request
from ostiary.jose.jwk import KeySet, VerificationKey
from ostiary.jose.jws import ParsedToken, check_signature, parse_token
from ostiary.jose.key_encryption import KeyDecryptionError, KeyEncryptor, associated_data
from ostiary.jose.token_errors import TokenInvalid, UnsignedToken

if TYPE_CHECKING:
    from ostiary.domain.tokens.storage import AssertionReplay

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_SECRET_JWT = "client_secret_jwt"
PRIVATE_KEY_JWT = "private_key_jwt"

MAX_ASSERTION_LIFETIME = 3600
LEEWAY_SECONDS = 60
_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}

INVALID_ASSERTION_TYPE = "The `client_assertion_type` is invalid."
MISSING_ASSERTION = "The `client_assertion` parameter is required with `client_assertion_type`."
MISSING_ASSERTION_TYPE = "The `client_assertion_type` parameter is required with `client_assertion`."
MALFORMED_ASSERTION = "The client_assertion token is malformed."
UNSIGNED_ASSERTION = "The client_assertion token must be signed."
BAD_SIGNATURE = "The client_assertion signature is invalid."
BAD_ISSUER = "The client_assertion token must have the client_id as both its 'iss' and 'sub' claims."
BAD_AUDIENCE = "The audience claim for client_assertion must be the endpoint invoked for the request."
NO_EXPIRY = "The client_assertion token must have an 'exp' claim."
EXPIRED = "The client_assertion token is expired."
TOO_LONG = "The client_assertion token has an expiration too far into the future."
NOT_YET_VALID = "The client_assertion token is not valid yet."
ISSUED_IN_FUTURE = "The client_assertion token was issued in the future."
NO_JTI = "The client_assertion token must have a 'jti' claim."
REPLAYED = "The client_assertion token has already been used."
NO_MASTER_KEY = "client_secret_jwt is not available: the server has no master key."


@dataclass(frozen=True)
class Assertion:
    """A parsed client assertion (compact JWS)."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def assertion_token(assertion: str | None, assertion_type: str | None) -> str:
    """The ``client_assertion``, once its type is the JWT bearer type (RFC 7523 §2.2)."""
    if assertion_type is None:
        raise invalid_request(MISSING_ASSERTION_TYPE)
    if assertion_type != CLIENT_ASSERTION_TYPE:
        raise invalid_request(INVALID_ASSERTION_TYPE)
    if assertion is None:
        raise invalid_request(MISSING_ASSERTION)
    return assertion


def assertion_issuer(assertion: Assertion) -> str:
    """The client the assertion names: ``iss`` and ``sub`` must both be its id (RFC 7523 §3)."""
    issuer, subject = assertion.claims.get("iss"), assertion.claims.get("sub")
    if not isinstance(issuer, str) or issuer != subject:
        raise invalid_client(BAD_ISSUER)
    return issuer


async def verify_assertion(
    assertion: Assertion,
    client: Client,
    audiences: Sequence[str],
    now: float,
    encryptor: KeyEncryptor | None,
    replay: AssertionReplay,
) -> None:
    """The signature by the client's method (its keys, or its secret for HMAC), the claims,
    and the ``jti``'s first use. Raises ``invalid_client``."""
    if client.token_endpoint_auth_method == PRIVATE_KEY_JWT:
        _check_key_signature(assertion, client.keys)
    else:
        _check_hmac_signature(assertion, client, encryptor)
    expires = _check_claims(assertion.claims, audiences, now)
    await _use_jti(replay, client, assertion.claims, expires)


def parse_assertion(token: str) -> Assertion:
    """The compact JWS parsed by :func:`ostiary.jose.jws.parse_token`, every header rule
    included; ``kid`` is optional here (the okta SDK sends one only when configured)."""
    try:
        parsed = parse_token(token, kid_optional=True)
    except UnsignedToken:
        raise invalid_client(UNSIGNED_ASSERTION) from None
    except TokenInvalid:
        raise invalid_client(MALFORMED_ASSERTION) from None
    return Assertion(token, parsed.header, parsed.claims, parsed.signing_input, parsed.signature)


def _check_key_signature(assertion: Assertion, keys: Sequence[ClientKey]) -> None:
    """Only the client's registered keys, each with its pinned alg: the header's ``kid``
    picks the key (or, when no key has that kid, the keys registered without one); without
    a ``kid`` every key is tried, and only one pinned to the header's ``alg`` can match."""
    kid = assertion.header.get("kid")
    candidates = list(keys) if kid is None else [k for k in keys if k.kid == kid]
    if kid is not None and not candidates:
        candidates = [k for k in keys if k.kid is None]
    for key in candidates:
        slot = key.kid or key.id
        parsed = ParsedToken(
            header={**assertion.header, "kid": slot},
            claims=assertion.claims,
            signing_input=assertion.signing_input,
            signature=assertion.signature,
        )
        keyset = KeySet(keys={slot: VerificationKey(kid=slot, alg=key.alg, public_key=key.key)})
        try:
            check_signature(parsed, keyset)
        except TokenInvalid:
            continue
        return
    raise invalid_client(BAD_SIGNATURE)


def _check_hmac_signature(assertion: Assertion, client: Client, encryptor: KeyEncryptor | None) -> None:
    hash_factory = _HMAC_HASHES.get(str(assertion.header.get("alg")))
    if hash_factory is None:
        raise invalid_client(BAD_SIGNATURE)
    if encryptor is None:
        raise invalid_client(NO_MASTER_KEY)
    valid = False
    for record in client.secrets:
        if record.encrypted is None:
            continue
        try:
            secret = encryptor.decrypt(
                record.encrypted, associated_data=associated_data(client.org_id, client.id, record.id)
            )
        except KeyDecryptionError:
            continue
        expected = hmac.new(secret, assertion.signing_input, hash_factory).digest()
        valid |= hmac.compare_digest(expected, assertion.signature)
    if not valid:
        raise invalid_client(BAD_SIGNATURE)


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise invalid_client(MALFORMED_ASSERTION)
    return float(value)


def _check_claims(claims: Mapping[str, Any], audiences: Sequence[str], now: float) -> float:
    """RFC 7523 §3 claim checks; returns ``exp``."""
    aud = claims.get("aud")
    token_audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(a, str) and a in audiences for a in token_audiences):
        raise invalid_client(BAD_AUDIENCE)
    expires = _number(claims, "exp")
    if expires is None:
        raise invalid_client(NO_EXPIRY)
    if now >= expires:
        raise invalid_client(EXPIRED)
    if expires - now > MAX_ASSERTION_LIFETIME + LEEWAY_SECONDS:
        raise invalid_client(TOO_LONG)
    not_before, issued = _number(claims, "nbf"), _number(claims, "iat")
    if not_before is not None and not_before > now + LEEWAY_SECONDS:
        raise invalid_client(NOT_YET_VALID)
    if issued is not None and issued > now + LEEWAY_SECONDS:
        raise invalid_client(ISSUED_IN_FUTURE)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise invalid_client(NO_JTI)
    return expires


async def _use_jti(
    assertions: AssertionReplay, client: Client, claims: Mapping[str, Any], expires: float
) -> None:
    """Record the assertion's ``jti``; a second use is refused (RFC 7523 §3, item 7)."""
    jti_digest = hashlib.sha256(str(claims["jti"]).encode()).hexdigest()
    if not await assertions.first_use(
        client.org_id, client.id, jti_digest, datetime.fromtimestamp(expires, UTC)
    ):
        raise invalid_client(REPLAYED)
