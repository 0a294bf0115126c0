"""Client authentication at the token, introspect and revoke endpoints (RFC 6749 §2.3,
RFC 7521/7523 client assertions, OpenID Connect Core §9).

One request uses exactly one method, and it must be the client's registered
``token_endpoint_auth_method``:

- ``client_secret_basic``: ``Authorization: Basic`` with the form-urlencoded client id and
  secret (RFC 6749 §2.3.1); a raw, unencoded secret is accepted too;
- ``client_secret_post``: ``client_id`` and ``client_secret`` in the form;
- ``client_secret_jwt``: an HS256/384/512 assertion keyed with the client secret;
- ``private_key_jwt``: an assertion signed with one of the client's registered public keys,
  each pinned to its algorithm (RS256/384/512, ES256); ``none`` and HMAC are refused;
- ``none``: a public client names itself with ``client_id`` only, in the form or as
  ``Authorization: Basic`` of ``client_id`` or ``client_id:`` with no secret (okta-auth-js
  sends that to revoke and introspect; Okta accepts it).

Assertions must have ``iss`` = ``sub`` = client id, an accepted ``aud`` (the endpoint URL),
an ``exp`` at most an hour ahead, and a ``jti`` that has not been used before: used
``jti``\\ s are recorded (``AssertionReplay``, in the caller's transaction) until they expire.
Clients come from a ``ClientDirectory``; both are ports of ``domain.tokens.storage``.

Secret digests are compared in constant time, and an unknown client costs the same
hashing as a known one (:func:`~ostiary.domain.clients.client_secrets.secret_matches`).
The caller merges parameters sent in the query string into ``form`` (wire notes §9: Okta
accepts token parameters there), body values first.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus, urlsplit

from ostiary.domain.clients.client_cache import Client, ClientKey
from ostiary.domain.clients.client_secrets import secret_matches
from ostiary.domain.oauth_errors import OAuthError, invalid_client, invalid_request
from ostiary.jose.jwk import KeySet, VerificationKey
from ostiary.jose.jws import ParsedToken, check_signature, parse_token
from ostiary.jose.key_encryption import KeyDecryptionError, KeyEncryptor, associated_data
from ostiary.jose.token_errors import TokenInvalid, UnsignedToken

if TYPE_CHECKING:
    from ostiary.domain.tokens.storage import AssertionReplay, ClientDirectory

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_SECRET_BASIC = "client_secret_basic"
CLIENT_SECRET_POST = "client_secret_post"
CLIENT_SECRET_JWT = "client_secret_jwt"
PRIVATE_KEY_JWT = "private_key_jwt"
NONE = "none"

MAX_ASSERTION_LIFETIME = 3600
LEEWAY_SECONDS = 60
_HMAC_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}

NO_CREDENTIALS = "No client credentials found."
INVALID_CLIENT_ID = "Invalid value for 'client_id' parameter."
INVALID_SECRET = "The client secret supplied for a confidential client is invalid."
WRONG_METHOD = (
    "Client authentication failed: the request does not use the client's registered "
    "token_endpoint_auth_method."
)
MULTIPLE_METHODS = (
    "Cannot supply multiple client credentials. Use one of the following: credentials in the "
    "Authorization header, credentials in the post body, or a client_assertion in the post body."
)
MALFORMED_BASIC = "The Basic authorization header is not valid base64 of 'client_id:client_secret'."
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
class AuthenticatedClient:
    app: Client
    method: str

    @property
    def client_id(self) -> str:
        return self.app.id


@dataclass(frozen=True)
class _Assertion:
    token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes


def _invalid_client(description: str, basic_realm: str | None = None) -> OAuthError:
    """``invalid_client``; after ``Authorization: Basic``, with that scheme's realm to challenge."""
    return invalid_client(description, basic_realm)


def _value(form: Mapping[str, str], name: str) -> str | None:
    """A parameter, with an empty value taken as absent (clients send ``client_secret=``)."""
    value = form.get(name)
    return value if value else None


async def authenticate_client(
    clients: ClientDirectory,
    assertions: AssertionReplay,
    org_id: str,
    *,
    authorization_header: str | None,
    form: Mapping[str, str],
    endpoint_url: str,
    accepted_audiences: Sequence[str] = (),
    now: float | None = None,
    encryptor: KeyEncryptor | None = None,
) -> AuthenticatedClient:
    """Authenticate the client of a token, introspect or revoke request.

    ``form`` holds the request parameters (body and query string merged by the caller).
    Assertions must name ``endpoint_url`` (RFC 7523 §3; Okta: the endpoint invoked) or one of
    ``accepted_audiences`` as ``aud``; the endpoints pass none.
    ``encryptor`` (the master-key encryptor) is needed for ``client_secret_jwt`` only.
    Raises :class:`~ostiary.domain.oauth_errors.OAuthError`.
    """
    current = time.time() if now is None else now
    realm = _realm(endpoint_url)
    basic = _basic_credentials(authorization_header, realm)
    form_secret = _value(form, "client_secret")
    assertion = _value(form, "client_assertion")
    assertion_type = _value(form, "client_assertion_type")
    presented = [basic is not None, form_secret is not None, bool(assertion or assertion_type)]
    if sum(presented) > 1:
        raise invalid_request(MULTIPLE_METHODS)
    form_client_id = _value(form, "client_id")
    if basic is not None:
        client_id, secrets = basic
        if form_client_id is not None and form_client_id != client_id:
            raise _invalid_client(INVALID_CLIENT_ID, realm)
        if not secrets:
            return AuthenticatedClient(await _public_client(clients, org_id, client_id, realm), NONE)
        client = await _secret_client(clients, org_id, client_id, secrets, CLIENT_SECRET_BASIC, realm)
        return AuthenticatedClient(client, CLIENT_SECRET_BASIC)
    if form_secret is not None:
        if form_client_id is None:
            raise _invalid_client(NO_CREDENTIALS)
        client = await _secret_client(
            clients, org_id, form_client_id, [form_secret], CLIENT_SECRET_POST, None
        )
        return AuthenticatedClient(client, CLIENT_SECRET_POST)
    if assertion or assertion_type:
        token = _assertion_parameters(assertion, assertion_type)
        audiences = [endpoint_url, *accepted_audiences]
        return await _assertion_client(
            clients, assertions, org_id, token, form_client_id, audiences, current, encryptor
        )
    return AuthenticatedClient(await _public_client(clients, org_id, form_client_id), NONE)


async def _public_client(
    clients: ClientDirectory, org_id: str, client_id: str | None, basic_realm: str | None = None
) -> Client:
    if client_id is None:
        raise _invalid_client(NO_CREDENTIALS)
    client = await clients.active_client(org_id, client_id)
    if client is None:
        raise _invalid_client(INVALID_CLIENT_ID, basic_realm)
    if client.token_endpoint_auth_method != NONE:
        raise _invalid_client(WRONG_METHOD, basic_realm)
    return client


def _assertion_parameters(assertion: str | None, assertion_type: str | None) -> str:
    if assertion_type is None:
        raise invalid_request(MISSING_ASSERTION_TYPE)
    if assertion_type != CLIENT_ASSERTION_TYPE:
        raise invalid_request(INVALID_ASSERTION_TYPE)
    if assertion is None:
        raise invalid_request(MISSING_ASSERTION)
    return assertion


def _realm(endpoint_url: str) -> str:
    parts = urlsplit(endpoint_url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else "Ostiary"


# --- client secrets (basic, post) ------------------------------------------------------------


def _basic_credentials(header: str | None, realm: str) -> tuple[str, list[str]] | None:
    """``(client_id, candidate secrets)`` from ``Authorization: Basic``; other schemes are ignored.

    RFC 6749 §2.3.1 form-urlencodes both parts before base64; many clients do not, so the
    secret is tried decoded and as sent. ``client_id`` alone or ``client_id:`` (a public
    client, as okta-auth-js sends it) gives no candidate at all.
    """
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise _invalid_client(MALFORMED_BASIC, realm) from None
    raw_id, _, raw_secret = decoded.partition(":")
    if not raw_id:
        raise _invalid_client(MALFORMED_BASIC, realm)
    if not raw_secret:
        return unquote_plus(raw_id), []
    candidates = list(dict.fromkeys([unquote_plus(raw_secret), raw_secret]))
    return unquote_plus(raw_id), candidates


async def _secret_client(
    clients: ClientDirectory,
    org_id: str,
    client_id: str,
    candidates: Sequence[str],
    method: str,
    basic_realm: str | None,
) -> Client:
    client = await clients.active_client(org_id, client_id)
    if client is None:
        secret_matches(candidates, ())
        raise _invalid_client(INVALID_CLIENT_ID, basic_realm)
    if client.token_endpoint_auth_method != method:
        secret_matches(candidates, ())
        raise _invalid_client(WRONG_METHOD, basic_realm)
    if not secret_matches(candidates, (record.digest for record in client.secrets)):
        raise _invalid_client(INVALID_SECRET, basic_realm)
    return client


# --- client assertions (client_secret_jwt, private_key_jwt) ------------------------------------


async def _assertion_client(
    clients: ClientDirectory,
    assertions: AssertionReplay,
    org_id: str,
    token: str,
    form_client_id: str | None,
    audiences: Sequence[str],
    now: float,
    encryptor: KeyEncryptor | None,
) -> AuthenticatedClient:
    assertion = _parse_assertion(token)
    issuer, subject = assertion.claims.get("iss"), assertion.claims.get("sub")
    if not isinstance(issuer, str) or issuer != subject:
        raise _invalid_client(BAD_ISSUER)
    if form_client_id is not None and form_client_id != issuer:
        raise _invalid_client(INVALID_CLIENT_ID)
    client = await clients.active_client(org_id, issuer)
    if client is None:
        raise _invalid_client(INVALID_CLIENT_ID)
    method = client.token_endpoint_auth_method
    if method == PRIVATE_KEY_JWT:
        _check_key_signature(assertion, client.keys)
    elif method == CLIENT_SECRET_JWT:
        _check_hmac_signature(assertion, client, encryptor)
    else:
        raise _invalid_client(WRONG_METHOD)
    expires = _check_claims(assertion.claims, audiences, now)
    await _use_jti(assertions, client, assertion.claims, expires)
    return AuthenticatedClient(client, method)


def _parse_assertion(token: str) -> _Assertion:
    """The compact JWS parsed by :func:`ostiary.jose.jws.parse_token`, every header rule
    included; ``kid`` is optional here (the okta SDK sends one only when configured)."""
    try:
        parsed = parse_token(token, kid_optional=True)
    except UnsignedToken:
        raise _invalid_client(UNSIGNED_ASSERTION) from None
    except TokenInvalid:
        raise _invalid_client(MALFORMED_ASSERTION) from None
    return _Assertion(token, parsed.header, parsed.claims, parsed.signing_input, parsed.signature)


def _check_key_signature(assertion: _Assertion, keys: Sequence[ClientKey]) -> None:
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
    raise _invalid_client(BAD_SIGNATURE)


def _check_hmac_signature(assertion: _Assertion, client: Client, encryptor: KeyEncryptor | None) -> None:
    hash_factory = _HMAC_HASHES.get(str(assertion.header.get("alg")))
    if hash_factory is None:
        raise _invalid_client(BAD_SIGNATURE)
    if encryptor is None:
        raise _invalid_client(NO_MASTER_KEY)
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
        raise _invalid_client(BAD_SIGNATURE)


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid_client(MALFORMED_ASSERTION)
    return float(value)


def _check_claims(claims: Mapping[str, Any], audiences: Sequence[str], now: float) -> float:
    """RFC 7523 §3 claim checks; returns ``exp``."""
    aud = claims.get("aud")
    token_audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(a, str) and a in audiences for a in token_audiences):
        raise _invalid_client(BAD_AUDIENCE)
    expires = _number(claims, "exp")
    if expires is None:
        raise _invalid_client(NO_EXPIRY)
    if now >= expires:
        raise _invalid_client(EXPIRED)
    if expires - now > MAX_ASSERTION_LIFETIME + LEEWAY_SECONDS:
        raise _invalid_client(TOO_LONG)
    not_before, issued = _number(claims, "nbf"), _number(claims, "iat")
    if not_before is not None and not_before > now + LEEWAY_SECONDS:
        raise _invalid_client(NOT_YET_VALID)
    if issued is not None and issued > now + LEEWAY_SECONDS:
        raise _invalid_client(ISSUED_IN_FUTURE)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise _invalid_client(NO_JTI)
    return expires


async def _use_jti(
    assertions: AssertionReplay, client: Client, claims: Mapping[str, Any], expires: float
) -> None:
    """Record the assertion's ``jti``; a second use is refused (RFC 7523 §3, item 7)."""
    jti_digest = hashlib.sha256(str(claims["jti"]).encode()).hexdigest()
    if not await assertions.first_use(
        client.org_id, client.id, jti_digest, datetime.fromtimestamp(expires, UTC)
    ):
        raise _invalid_client(REPLAYED)
