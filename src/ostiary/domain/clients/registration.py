"""OAuth 2.0 Dynamic Client Registration management (RFC 7591, RFC 7592) as Okta serves it on
``/oauth2/v1/clients``: a registered client IS an app (the same rows, rules and events as
``/api/v1/apps``); only the wire differs.

The RFC 7591 metadata is read into the Okta app body (:func:`app_body`) and checked by
:mod:`.app_spec`; a refusal is an OAuth error (RFC 7591 §3.2.2): ``invalid_redirect_uri`` when
a redirect URI is at fault, ``invalid_client_metadata`` otherwise, with the first cause as the
description. Clients registered here default to ``consent_method: REQUIRED`` (Okta's note: apps
made on ``/api/v1/apps`` default to ``TRUSTED``). The client may not choose its ``client_id``
nor its ``client_secret`` (use the Apps API for that).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ostiary.domain.audit.log import record
from ostiary.domain.clients import apps, client_secrets
from ostiary.domain.clients.client_cache import invalidate_client
from ostiary.domain.clients.records import SECRET_METHODS, app_target, get_app
from ostiary.domain.context import Tx
from ostiary.domain.errors import Invalid
from ostiary.domain.oauth_errors import OAuthError
from ostiary.jose.key_encryption import KeyEncryptor

INVALID_METADATA = "invalid_client_metadata"
INVALID_REDIRECT_URI = "invalid_redirect_uri"
READ_ONLY = ("client_id", "client_secret", "client_id_issued_at", "client_secret_expires_at")
COLUMNS = ("application_type", "redirect_uris", "post_logout_redirect_uris", "response_types", "grant_types")
_CREDENTIALS = ("token_endpoint_auth_method", "pkce_required")
_SETTINGS = (
    "client_uri",
    "logo_uri",
    "policy_uri",
    "tos_uri",
    "initiate_login_uri",
    "frontchannel_logout_uri",
    "frontchannel_logout_session_required",
    "consent_method",
    "wildcard_redirect",
    "issuer_mode",
    "jwks",
    "jwks_uri",
    "request_object_signing_alg",
    "id_token_encrypted_response_alg",
    "dpop_bound_access_tokens",
)


def metadata_error(field: str, description: str) -> OAuthError:
    error = INVALID_REDIRECT_URI if field.startswith("redirect_uris") else INVALID_METADATA
    return OAuthError(error, description, 400)


def app_body(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The ``/api/v1/apps`` body of RFC 7591 client metadata (refused: a client-chosen id or
    secret, a blank ``client_name``, members of the wrong type)."""
    for field in ("client_id", "client_secret"):
        if metadata.get(field) is not None:
            raise metadata_error(field, f"`{field}`: The field can't be set: the server assigns it.")
    label = metadata.get("client_name")
    if not isinstance(label, str) or not label.strip():
        raise metadata_error("client_name", "`client_name`: The field can't be left blank.")
    oauth_settings: dict[str, Any] = {"consent_method": "REQUIRED"}
    for key in (*COLUMNS, *_SETTINGS):
        if metadata.get(key) is not None:
            oauth_settings[key] = metadata[key]
    credentials = {k: metadata[k] for k in _CREDENTIALS if metadata.get(k) is not None}
    return {
        "name": "oidc_client",
        "label": label,
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": credentials},
        "settings": {"oauthClient": oauth_settings},
    }


def _as_metadata_error(exc: Invalid) -> OAuthError:
    field = exc.message.removeprefix("Api validation failed: ")
    cause = exc.causes[0] if exc.causes else exc.message
    name, _, problem = cause.partition(": ")
    return metadata_error(field, f"`{name}`: {problem}" if problem else cause)


async def register_client(
    tx: Tx, metadata: Mapping[str, Any], *, encryptor: KeyEncryptor | None
) -> apps.AppView:
    """``POST /oauth2/v1/clients``: a new, active app; its secret (if its method uses one) is
    shown once."""
    try:
        return await apps.create_app(tx, app_body(metadata), encryptor=encryptor)
    except Invalid as exc:
        raise _as_metadata_error(exc) from None


async def replace_client(
    tx: Tx, client_id: str, metadata: Mapping[str, Any], *, encryptor: KeyEncryptor | None
) -> apps.AppView:
    """``PUT /oauth2/v1/clients/{clientId}``: every setting replaced (Okta: no partial update);
    the read-only members may be echoed back but only with their current values."""
    app = await get_app(tx, client_id)
    if metadata.get("client_id") not in (None, app.id):
        raise metadata_error("client_id", "`client_id`: The field can't be changed.")
    given = {k: v for k, v in metadata.items() if k not in READ_ONLY}
    try:
        return await apps.replace_app(tx, app.id, app_body(given), encryptor=encryptor)
    except Invalid as exc:
        raise _as_metadata_error(exc) from None


async def delete_client(tx: Tx, client_id: str) -> None:
    """``DELETE /oauth2/v1/clients/{clientId}``: deactivated then deleted, in one step."""
    await apps.deactivate_app(tx, client_id)
    await apps.delete_app(tx, client_id)


async def new_client_secret(tx: Tx, client_id: str, *, encryptor: KeyEncryptor | None) -> apps.AppView:
    """``…/lifecycle/newSecret``: a new secret replaces every current one (the old ones stop
    working at once), for clients that authenticate with a secret."""
    view = await apps.get_app_view(tx, client_id)
    app = view.app
    if app.token_endpoint_auth_method not in SECRET_METHODS:
        raise OAuthError(
            INVALID_METADATA,
            "`token_endpoint_auth_method`: The client does not authenticate with a client secret.",
        )
    for row in await client_secrets.secrets_of(tx, app.id):
        await tx.session.delete(row)
    await tx.session.flush()
    _row, secret = await client_secrets.add_secret(tx, app, encryptor=encryptor)
    invalidate_client(app.id, tx.session)
    record(tx, "application.lifecycle.update", "Update application: new client secret", [app_target(app)])
    view.new_secret = secret
    return view
