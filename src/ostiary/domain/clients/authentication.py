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

Assertions are checked by :mod:`.client_assertions` (RFC 7523). Clients come from a
``ClientDirectory``, used assertions are recorded in an ``AssertionReplay``: both are ports
of ``domain.tokens.storage``.

Secret digests are compared in constant time, and an unknown client costs the same
hashing as a known one (:func:`~ostiary.domain.clients.client_secrets.secret_matches`).
The caller merges parameters sent in the query string into ``form`` (wire notes §9: Okta
accepts token parameters there), body values first.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote_plus, urlsplit

from ostiary.domain.clients.client_assertions import (
    CLIENT_SECRET_JWT,
    PRIVATE_KEY_JWT,
    assertion_issuer,
    assertion_token,
    parse_assertion,
    verify_assertion,
)
from ostiary.domain.clients.client_cache import Client
from ostiary.domain.clients.client_secrets import secret_matches
from ostiary.domain.oauth_errors import OAuthError, invalid_client, invalid_request
from ostiary.jose.key_encryption import KeyEncryptor

if TYPE_CHECKING:
    from ostiary.domain.tokens.storage import AssertionReplay, ClientDirectory

CLIENT_SECRET_BASIC = "client_secret_basic"
CLIENT_SECRET_POST = "client_secret_post"
NONE = "none"

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


@dataclass(frozen=True)
class AuthenticatedClient:
    app: Client
    method: str

    @property
    def client_id(self) -> str:
        return self.app.id


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
        token = assertion_token(assertion, assertion_type)
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


# --- client assertions (RFC 7523: client_secret_jwt, private_key_jwt) -----------------------


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
    """``client_secret_jwt`` and ``private_key_jwt``: the client the assertion names, which must
    have registered the method; the assertion's checks are :mod:`.client_assertions`'."""
    assertion = parse_assertion(token)
    issuer = assertion_issuer(assertion)
    if form_client_id is not None and form_client_id != issuer:
        raise _invalid_client(INVALID_CLIENT_ID)
    client = await clients.active_client(org_id, issuer)
    if client is None:
        raise _invalid_client(INVALID_CLIENT_ID)
    method = client.token_endpoint_auth_method
    if method not in (PRIVATE_KEY_JWT, CLIENT_SECRET_JWT):
        raise _invalid_client(WRONG_METHOD)
    await verify_assertion(assertion, client, audiences, now, encryptor, assertions)
    return AuthenticatedClient(client, method)
