"""The Okta JSON of an OIDC app, read into an :class:`AppSpec` and checked as Okta checks it.

Wire parsing (the request body, with every problem collected as an ``errorCauses`` entry)
and the rules between fields (application type, grant types, response types, auth method,
redirect URIs). The operations on stored apps are in :mod:`ostiary.domain.clients.apps`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ostiary.domain.clients import client_jwks, client_secrets
from ostiary.domain.clients.client_jwks import JwkInput
from ostiary.domain.clients.records import ACTIVE, Causes, validation_error
from ostiary.domain.clients.redirect_uris import MAX_URI_LENGTH, redirect_uri_problem
from ostiary.store.models import AppJwk

OIDC_NAME = "oidc_client"
OPENID_CONNECT = "OPENID_CONNECT"
MAX_LABEL = 255
MAX_URIS = 100

WEB, NATIVE, BROWSER, SERVICE = "web", "native", "browser", "service"
APPLICATION_TYPES = (WEB, NATIVE, BROWSER, SERVICE)
PKCE_BY_DEFAULT = (NATIVE, BROWSER)
NONE = "none"
PRIVATE_KEY_JWT = "private_key_jwt"
AUTH_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt", PRIVATE_KEY_JWT, NONE)

AUTHORIZATION_CODE = "authorization_code"
IMPLICIT = "implicit"
REFRESH_TOKEN = "refresh_token"
CLIENT_CREDENTIALS = "client_credentials"
PASSWORD = "password"
INTERACTION_CODE = "interaction_code"
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SAML2_BEARER = "urn:ietf:params:oauth:grant-type:saml2-bearer"
OKTA_OTP = "urn:okta:params:oauth:grant-type:otp"
OKTA_OOB = "urn:okta:params:oauth:grant-type:oob"

ALLOWED_GRANTS: Mapping[str, frozenset[str]] = {
    WEB: frozenset(
        {AUTHORIZATION_CODE, IMPLICIT, REFRESH_TOKEN, CLIENT_CREDENTIALS, PASSWORD, INTERACTION_CODE}
        | {TOKEN_EXCHANGE, JWT_BEARER, SAML2_BEARER}
    ),
    NATIVE: frozenset(
        {AUTHORIZATION_CODE, IMPLICIT, REFRESH_TOKEN, PASSWORD, INTERACTION_CODE, DEVICE_CODE}
        | {TOKEN_EXCHANGE, JWT_BEARER, SAML2_BEARER, OKTA_OTP, OKTA_OOB}
    ),
    BROWSER: frozenset({AUTHORIZATION_CODE, IMPLICIT, REFRESH_TOKEN, INTERACTION_CODE}),
    SERVICE: frozenset({CLIENT_CREDENTIALS}),
}
KNOWN_GRANTS = frozenset().union(*ALLOWED_GRANTS.values())
REFRESHABLE_GRANTS = frozenset(
    {AUTHORIZATION_CODE, PASSWORD, INTERACTION_CODE, DEVICE_CODE, TOKEN_EXCHANGE, JWT_BEARER, SAML2_BEARER}
)
REDIRECT_GRANTS = frozenset({AUTHORIZATION_CODE, IMPLICIT, INTERACTION_CODE})
RESPONSE_TYPES = ("code", "token", "id_token")

_ENUMS: Mapping[str, tuple[tuple[str, ...], str]] = {
    "consent_method": (("REQUIRED", "TRUSTED"), "TRUSTED"),
    "issuer_mode": (("CUSTOM_URL", "DYNAMIC", "ORG_URL"), "DYNAMIC"),
    "wildcard_redirect": (("DISABLED", "SUBDOMAIN"), "DISABLED"),
}
_URI_FIELDS = (
    "client_uri",
    "logo_uri",
    "policy_uri",
    "tos_uri",
    "initiate_login_uri",
    "frontchannel_logout_uri",
    "sector_identifier_uri",
)
_BOOL_FIELDS = ("participate_slo", "frontchannel_logout_session_required", "dpop_bound_access_tokens")
_UNSUPPORTED = (
    "jwks_uri",
    "backchannel_authentication_request_signing_alg",
    "backchannel_custom_authenticator_id",
    "backchannel_token_delivery_mode",
    "id_token_encrypted_response_alg",
    "request_object_signing_alg",
    "network",
)
_COLUMN_FIELDS = (
    "application_type",
    "redirect_uris",
    "post_logout_redirect_uris",
    "response_types",
    "grant_types",
    "jwks",
)
_SETTINGS_STRINGS = ("identityStoreId", "inlineHookId")
_SETTINGS_BOOLS = ("implicitAssignment", "manualProvisioning")
_EM_OPT_IN = ("DISABLED", "DISABLING", "ENABLED", "ENABLING", "NONE")


@dataclass
class AppSpec:
    label: str
    application_type: str
    token_endpoint_auth_method: str
    pkce_required: bool
    auto_key_rotation: bool
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    response_types: list[str]
    grant_types: list[str]
    settings: dict[str, Any]
    profile: dict[str, Any] | None
    keys: list[JwkInput] | None
    client_secret: str | None


# --- reading the request body ----------------------------------------------------------------


def _object(value: object, name: str, causes: Causes, *, required: bool = False) -> Mapping[str, Any]:
    if value is None:
        if required:
            causes.add(name, "The field cannot be left blank")
        return {}
    if not isinstance(value, Mapping):
        causes.add(name, "must be an object")
        return {}
    return value


def check_sign_on(body: Mapping[str, Any]) -> None:
    mode = body.get("signOnMode")
    if mode is None:
        raise validation_error("signOnMode", "signOnMode: The field cannot be left blank")
    if mode != OPENID_CONNECT:
        raise validation_error(
            "signOnMode",
            f"signOnMode: Ostiary supports only OPENID_CONNECT apps (OAuth 2.0 / OIDC clients), not {mode!r}",
        )
    name = body.get("name", OIDC_NAME)
    if name != OIDC_NAME:
        raise validation_error("name", f"name: an OPENID_CONNECT app must be named '{OIDC_NAME}'")


def _string_list(value: object, name: str, causes: Causes) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        causes.add(name, "must be an array of strings")
        return []
    return list(dict.fromkeys(value))


def _bool(value: object, name: str, default: bool, causes: Causes) -> bool:
    if value is None:
        return default
    if not isinstance(value, bool):
        causes.add(name, "must be true or false")
        return default
    return value


@dataclass(frozen=True)
class _Credentials:
    method: str
    pkce_required: bool
    auto_key_rotation: bool
    client_secret: str | None


def parse_app_spec(body: Mapping[str, Any], *, app_id: str | None) -> AppSpec:
    """Read and check a whole app body; every problem found is reported at once."""
    causes = Causes()
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        causes.add("label", "The field cannot be left blank")
    elif len(label) > MAX_LABEL:
        causes.add("label", f"must be at most {MAX_LABEL} characters")
    profile = body.get("profile")
    if profile is not None and not isinstance(profile, Mapping):
        causes.add("profile", "must be an object")
    credentials = _object(body.get("credentials"), "credentials", causes)
    settings = _object(body.get("settings"), "settings", causes, required=True)
    oauth = _object(settings.get("oauthClient"), "oauthClient", causes, required=bool(settings))
    app_type = oauth.get("application_type", WEB)
    if app_type not in APPLICATION_TYPES:
        causes.add("application_type", f"must be one of {', '.join(APPLICATION_TYPES)}")
        app_type = WEB
    creds = _credentials(
        _object(credentials.get("oauthClient"), "oauthClient", causes), app_type, app_id, causes
    )
    grants = _string_list(oauth.get("grant_types"), "grant_types", causes)
    if not grants:
        grants = [CLIENT_CREDENTIALS] if app_type == SERVICE else [AUTHORIZATION_CODE]
    responses = _string_list(oauth.get("response_types"), "response_types", causes)
    if oauth.get("response_types") is None:
        responses = _default_responses(grants)
    app_input = AppSpec(
        label=label.strip() if isinstance(label, str) else "",
        application_type=app_type,
        token_endpoint_auth_method=creds.method,
        pkce_required=creds.pkce_required,
        auto_key_rotation=creds.auto_key_rotation,
        redirect_uris=_string_list(oauth.get("redirect_uris"), "redirect_uris", causes),
        post_logout_redirect_uris=_string_list(
            oauth.get("post_logout_redirect_uris"), "post_logout_redirect_uris", causes
        ),
        response_types=responses,
        grant_types=grants,
        settings=_settings(settings, oauth, causes),
        profile=dict(profile) if isinstance(profile, Mapping) else None,
        keys=None if oauth.get("jwks") is None else client_jwks.parse_jwks(oauth["jwks"], causes),
        client_secret=creds.client_secret,
    )
    if not causes:
        _check_flows(app_input, causes)
    causes.raise_if_any()
    return app_input


def _credentials(oauth: Mapping[str, Any], app_type: str, app_id: str | None, causes: Causes) -> _Credentials:
    """``credentials.oauthClient``; a browser app defaults to ``none``, others to Basic.
    ``pkce_required`` defaults as Okta's: true for browser and native apps, false for web and
    service apps (``@okta/oidc-middleware`` never sends PKCE). The default applies when an app
    is created; a replaced app keeps its stored value."""
    method = oauth.get("token_endpoint_auth_method") or (
        NONE if app_type == BROWSER else "client_secret_basic"
    )
    if method not in AUTH_METHODS:
        causes.add("token_endpoint_auth_method", f"must be one of {', '.join(AUTH_METHODS)}")
        method = "client_secret_basic"
    client_id = oauth.get("client_id")
    if client_id is not None and client_id != app_id:
        causes.add("client_id", "custom client ids are not supported: the client_id is the app id")
    secret = oauth.get("client_secret")
    if secret is not None:
        problem = client_secrets.custom_secret_problem(secret, method)
        if problem:
            causes.add("client_secret", problem)
    return _Credentials(
        method=method,
        pkce_required=_bool(oauth.get("pkce_required"), "pkce_required", app_type in PKCE_BY_DEFAULT, causes),
        auto_key_rotation=_bool(oauth.get("autoKeyRotation"), "autoKeyRotation", True, causes),
        client_secret=secret if isinstance(secret, str) else None,
    )


def _default_responses(grants: Sequence[str]) -> list[str]:
    responses = []
    if AUTHORIZATION_CODE in grants or INTERACTION_CODE in grants:
        responses.append("code")
    if IMPLICIT in grants:
        responses += ["token", "id_token"]
    if CLIENT_CREDENTIALS in grants and not responses:
        responses.append("token")
    return responses


def _settings(settings: Mapping[str, Any], oauth: Mapping[str, Any], causes: Causes) -> dict[str, Any]:
    """The ``settings`` object to keep: known members checked, unknown ones kept as given."""
    kept: dict[str, Any] = {k: v for k, v in settings.items() if k not in ("oauthClient", "notifications")}
    if "app" in kept and not isinstance(kept["app"], Mapping):
        causes.add("app", "must be an object")
    kept.setdefault("app", {})
    notes = kept.get("notes")
    if notes is not None and (
        not isinstance(notes, Mapping)
        or any(not isinstance(notes.get(k), str | None) for k in ("admin", "enduser"))
    ):
        causes.add("notes", "must be an object with string 'admin' and 'enduser'")
    for name in _SETTINGS_STRINGS:
        if not isinstance(kept.get(name), str | None):
            causes.add(name, "must be a string")
    for name in _SETTINGS_BOOLS:
        if not isinstance(kept.get(name), bool | None):
            causes.add(name, "must be true or false")
    if kept.get("emOptInStatus") not in (None, *_EM_OPT_IN):
        causes.add("emOptInStatus", f"must be one of {', '.join(_EM_OPT_IN)}")
    kept["oauthClient"] = _oauth_settings(oauth, causes)
    return kept


def _oauth_settings(oauth: Mapping[str, Any], causes: Causes) -> dict[str, Any]:
    kept = {k: v for k, v in oauth.items() if k not in _COLUMN_FIELDS and v is not None}
    for name in _UNSUPPORTED:
        if name in kept:
            causes.add(
                name,
                "is not supported by Ostiary" + ("; register keys in 'jwks'" if name == "jwks_uri" else ""),
            )
    for name, (allowed, default) in _ENUMS.items():
        value = kept.setdefault(name, default)
        if value not in allowed:
            causes.add(name, f"must be one of {', '.join(allowed)}")
    for name in _URI_FIELDS:
        value = kept.get(name)
        if value is not None and (not isinstance(value, str) or len(value) > MAX_URI_LENGTH):
            causes.add(name, f"must be a URI of at most {MAX_URI_LENGTH} characters")
        elif value is not None and not _is_web_uri(value):
            causes.add(name, "must be an absolute http or https URI")
    for name in _BOOL_FIELDS:
        if not isinstance(kept.get(name), bool | None):
            causes.add(name, "must be true or false")
    kept.setdefault("dpop_bound_access_tokens", False)
    if kept.get("subject_type") not in (None, "public", "pairwise"):
        causes.add("subject_type", "must be public or pairwise")
    _check_idp_initiated_login(kept, causes)
    _check_refresh_token(kept.get("refresh_token"), causes)
    return kept


def _is_web_uri(value: str) -> bool:
    """An absolute http(s) URI with a host: informational URIs end up as links in consoles and
    portals, so ``javascript:``, ``data:`` and the like are refused (redirect URIs have their own rules)."""
    if any(c.isspace() or ord(c) < 0x20 for c in value):
        return False
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(host)


def _check_idp_initiated_login(kept: dict[str, Any], causes: Causes) -> None:
    login = kept.setdefault("idp_initiated_login", {"mode": "DISABLED", "default_scope": []})
    if (
        not isinstance(login, Mapping)
        or login.get("mode") not in ("DISABLED", "SPEC", "OKTA")
        or not isinstance(login.get("default_scope", []), list)
        or not all(isinstance(s, str) for s in login.get("default_scope", []))
    ):
        causes.add("idp_initiated_login", "must be {mode: DISABLED|SPEC|OKTA, default_scope: [strings]}")


def _check_refresh_token(value: object, causes: Causes) -> None:
    if value is None:
        return
    leeway = value.get("leeway", 0) if isinstance(value, Mapping) else None
    if (
        not isinstance(value, Mapping)
        or value.get("rotation_type") not in ("STATIC", "ROTATE")
        or isinstance(leeway, bool)
        or not isinstance(leeway, int)
        or not 0 <= leeway <= 60
    ):
        causes.add("refresh_token", "must be {rotation_type: STATIC|ROTATE, leeway: 0..60}")


# --- the rules ------------------------------------------------------------------------------


def _check_flows(app: AppSpec, causes: Causes) -> None:
    _check_grants(app, causes)
    _check_response_types(app, causes)
    _check_auth_method(app, causes)
    wildcard = app.settings["oauthClient"].get("wildcard_redirect") == "SUBDOMAIN"
    for name, uris in (
        ("redirect_uris", app.redirect_uris),
        ("post_logout_redirect_uris", app.post_logout_redirect_uris),
    ):
        if len(uris) > MAX_URIS:
            causes.add(name, f"at most {MAX_URIS} URIs are allowed")
        for uri in uris:
            problem = redirect_uri_problem(
                uri, custom_schemes=app.application_type == NATIVE, allow_wildcard=wildcard
            )
            if problem:
                causes.add(name, f"'{uri}' {problem}")
    if app.application_type == SERVICE and app.redirect_uris:
        causes.add("redirect_uris", "service applications can't have redirect URIs")
    elif REDIRECT_GRANTS & set(app.grant_types) and not app.redirect_uris:
        causes.add(
            "redirect_uris",
            "at least one redirect URI is required for the authorization_code and implicit grant types",
        )


def _check_grants(app: AppSpec, causes: Causes) -> None:
    allowed = ALLOWED_GRANTS[app.application_type]
    for grant in app.grant_types:
        if grant not in KNOWN_GRANTS:
            causes.add("grant_types", f"'{grant}' is not a supported grant type")
        elif grant not in allowed:
            causes.add("grant_types", f"'{grant}' is not allowed for {app.application_type} applications")
    if REFRESH_TOKEN in app.grant_types and not REFRESHABLE_GRANTS & set(app.grant_types):
        causes.add(
            "grant_types",
            "'refresh_token' needs a grant type that issues refresh tokens, such as authorization_code",
        )
    if app.settings["oauthClient"].get("dpop_bound_access_tokens") and {CLIENT_CREDENTIALS, IMPLICIT} & set(
        app.grant_types
    ):
        causes.add(
            "dpop_bound_access_tokens", "client_credentials and implicit can't be used with DPoP-bound tokens"
        )


def _check_response_types(app: AppSpec, causes: Causes) -> None:
    grants, responses = set(app.grant_types), set(app.response_types)
    for response in app.response_types:
        if response not in RESPONSE_TYPES:
            causes.add("response_types", f"'{response}' is not a valid response type")
    code_grants = {AUTHORIZATION_CODE, INTERACTION_CODE} & grants
    if code_grants and "code" not in responses:
        causes.add("response_types", "'code' is required for the authorization_code grant type")
    if "code" in responses and not code_grants:
        causes.add("response_types", "'code' requires the authorization_code grant type")
    if IMPLICIT in grants and not {"token", "id_token"} & responses:
        causes.add("response_types", "'token' or 'id_token' is required for the implicit grant type")
    if "id_token" in responses and not {IMPLICIT, AUTHORIZATION_CODE} & grants:
        causes.add("response_types", "'id_token' requires the implicit or authorization_code grant type")
    if "token" in responses and not {IMPLICIT, AUTHORIZATION_CODE, CLIENT_CREDENTIALS} & grants:
        causes.add("response_types", "'token' requires the implicit grant type")


def _check_auth_method(app: AppSpec, causes: Causes) -> None:
    method, app_type = app.token_endpoint_auth_method, app.application_type
    if app_type == BROWSER and method != NONE:
        causes.add("token_endpoint_auth_method", "browser applications must use 'none' (public clients)")
    if app_type in (WEB, SERVICE) and method == NONE:
        causes.add(
            "token_endpoint_auth_method",
            f"{app_type} applications can't use 'none': they are confidential clients",
        )
    if method == NONE and app_type in (NATIVE, BROWSER) and not app.pkce_required:
        causes.add("pkce_required", "must be true when token_endpoint_auth_method is 'none'")


def check_keys(method: str, keys: Sequence[JwkInput] | Sequence[AppJwk]) -> None:
    if method == PRIVATE_KEY_JWT and not any(key.status == ACTIVE for key in keys):
        raise validation_error(
            "jwks",
            "jwks: 'private_key_jwt' needs at least one active public key in settings.oauthClient.jwks",
        )
