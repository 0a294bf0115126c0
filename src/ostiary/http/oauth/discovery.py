"""RFC 8414 / OpenID discovery documents, listing only what Ostiary implements.

Endpoints that arrive with later features register themselves in ``CAPABILITIES``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ostiary.domain.authz import server_lookup as servers_domain
from ostiary.http.oauth.server_context import ServerContext, resolve_server
from ostiary.http.responses import json_response

AUTH_METHODS = ["client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none"]

# name → (metadata key, path under {issuer}/v1/); extended by the sign-in feature.
CAPABILITIES: dict[str, Any] = {
    "endpoints": {
        "authorization_endpoint": "authorize",
        "token_endpoint": "token",
        "userinfo_endpoint": "userinfo",
        "jwks_uri": "keys",
        "introspection_endpoint": "introspect",
        "revocation_endpoint": "revoke",
        "end_session_endpoint": "logout",
        "pushed_authorization_request_endpoint": "par",
        "device_authorization_endpoint": "device/authorize",
    },
    "grant_types": [
        "authorization_code",
        "implicit",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    ],
    "response_types": [
        "code",
        "id_token",
        "code id_token",
        "code token",
        "code id_token token",
        "id_token token",
        "token",
    ],
    "response_modes": ["query", "fragment", "form_post", "okta_post_message"],
    "scopes": ["openid", "profile", "email", "address", "phone", "offline_access", "groups"],
    "claims": [
        "ver",
        "jti",
        "iss",
        "aud",
        "iat",
        "exp",
        "cid",
        "uid",
        "scp",
        "sub",
        "auth_time",
        "amr",
        "idp",
        "nonce",
        "at_hash",
        "c_hash",
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "preferred_username",
        "profile",
        "zoneinfo",
        "locale",
        "updated_at",
        "email",
        "email_verified",
        "address",
        "phone_number",
    ],
}


async def scopes_supported(ctx: ServerContext) -> list[str]:
    if ctx.server.kind == servers_domain.ORG:
        return list(CAPABILITIES["scopes"])
    hook = CAPABILITIES.get("scopes_for_server")
    return list(await hook(ctx)) if hook else list(CAPABILITIES["scopes"])


async def metadata(ctx: ServerContext, *, openid: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {"issuer": ctx.issuer}
    for key, path in CAPABILITIES["endpoints"].items():
        if key == "userinfo_endpoint" and not openid:
            continue
        doc[key] = ctx.endpoint(path)
    if CAPABILITIES["response_types"]:
        doc["response_types_supported"] = list(CAPABILITIES["response_types"])
        doc["response_modes_supported"] = list(CAPABILITIES["response_modes"])
    doc["grant_types_supported"] = list(CAPABILITIES["grant_types"])
    doc["subject_types_supported"] = ["public"]
    if openid:
        doc["id_token_signing_alg_values_supported"] = [ctx.server.signing_alg]
    doc["scopes_supported"] = await scopes_supported(ctx)
    doc["token_endpoint_auth_methods_supported"] = AUTH_METHODS
    doc["token_endpoint_auth_signing_alg_values_supported"] = ["HS256", "RS256", "ES256"]
    doc["claims_supported"] = list(CAPABILITIES["claims"])
    doc["code_challenge_methods_supported"] = ["S256"]
    doc["introspection_endpoint_auth_methods_supported"] = AUTH_METHODS
    doc["revocation_endpoint_auth_methods_supported"] = AUTH_METHODS
    doc["request_parameter_supported"] = False
    doc["registration_endpoint"] = f"{ctx.org_url}/oauth2/v1/clients"
    return doc


async def openid_configuration(request: Request) -> Response:
    ctx = await resolve_server(request)
    return json_response(await metadata(ctx, openid=True), headers={"Cache-Control": "max-age=300"})


async def oauth_authorization_server(request: Request) -> Response:
    ctx = await resolve_server(request)
    return json_response(await metadata(ctx, openid=False), headers={"Cache-Control": "max-age=300"})
