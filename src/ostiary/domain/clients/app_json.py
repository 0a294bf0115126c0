"""Okta-shaped JSON for apps (``OpenIdConnectApplication``), client secrets, client JWKs,
app users, group assignments and scope consent grants.

Every shape parses with the okta 3.4.6 SDK's own (strict) models. The wire shape is part of the
apps' contract, so it is written here, next to the rows, and http hands it out as it is.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ostiary.domain.clients.apps import ACTIVE, AppView
from ostiary.domain.clients.assignments import AppUser
from ostiary.domain.clients.records import public_app_id
from ostiary.jose.b64 import b64url_encode
from ostiary.store.models import AppGrant, AppGroupAssignment, AppJwk, ClientSecret
from ostiary.timeutil import iso


def _link(href: str, *allow: str) -> dict[str, Any]:
    return {"href": href, "hints": {"allow": list(allow)}} if allow else {"href": href}


def credential_links(href: str, status: str) -> dict[str, Any]:
    """A client secret's or key's ``_links`` (Okta's): deactivate while ACTIVE, else activate
    and delete."""
    if status == ACTIVE:
        return {"deactivate": _link(f"{href}/lifecycle/deactivate", "POST")}
    return {"activate": _link(f"{href}/lifecycle/activate", "POST"), "delete": _link(href, "DELETE")}


def app_href(base: str, app_id: str) -> str:
    return f"{base}/api/v1/apps/{app_id}"


def app_json(view: AppView, base: str) -> dict[str, Any]:
    app = view.app
    app_id = public_app_id(app)
    href = app_href(base, app_id)
    links: dict[str, Any] = {
        "self": _link(href),
        "appLinks": [
            {
                "name": "oidc_client_link",
                "href": f"{base}/home/oidc_client/{app_id}/aln{app_id[3:]}",
                "type": "text/html",
            }
        ],
        "groups": _link(f"{href}/groups"),
        "users": _link(f"{href}/users"),
        "logo": [{"name": "medium", "href": f"{base}/img/logos/default.png", "type": "image/png"}],
    }
    if app.status == ACTIVE:
        links["deactivate"] = _link(f"{href}/lifecycle/deactivate")
    else:
        links["activate"] = _link(f"{href}/lifecycle/activate")
    oauth_credentials: dict[str, Any] = {
        "autoKeyRotation": app.auto_key_rotation,
        "client_id": app.id,
        "token_endpoint_auth_method": app.token_endpoint_auth_method,
        "pkce_required": app.pkce_required,
    }
    if view.new_secret is not None:
        oauth_credentials["client_secret"] = view.new_secret
    body: dict[str, Any] = {
        "id": app_id,
        "name": app.name,
        "label": app.label,
        "status": app.status,
        "lastUpdated": iso(app.last_updated),
        "created": iso(app.created),
        "accessibility": {"selfService": False},  # no redirect URLs: the spec has no null for them
        "visibility": {
            "autoLaunch": False,
            "autoSubmitToolbar": False,
            "hide": {"iOS": True, "web": True},
            "appLinks": {"oidc_client_link": True},
        },
        "features": [],
        "signOnMode": app.sign_on_mode,
        "credentials": {
            "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
            "oauthClient": oauth_credentials,
        },
        "settings": _settings_json(view, base),
        "_links": links,
    }
    if app.profile is not None:
        body["profile"] = app.profile
    return body


def _settings_json(view: AppView, base: str) -> dict[str, Any]:
    app = view.app
    stored = dict(app.settings)
    oauth = dict(stored.pop("oauthClient", {}))
    oauth.update(
        redirect_uris=list(app.redirect_uris),
        post_logout_redirect_uris=list(app.post_logout_redirect_uris),
        response_types=list(app.response_types),
        grant_types=list(app.grant_types),
        application_type=app.application_type,
    )
    if view.keys:
        oauth["jwks"] = {"keys": [jwk_json(key, base) for key in view.keys]}
    return {
        "app": {},
        "notifications": {"vpn": {"network": {"connection": "DISABLED"}, "message": None, "helpUrl": None}},
        "manualProvisioning": False,
        "implicitAssignment": False,
        "notes": {"admin": None, "enduser": None},
        **stored,
        "oauthClient": oauth,
    }


def public_secret_hash(stored_digest: str) -> str:
    """Okta's ``secret_hash`` (22 base64url characters), derived from — but not revealing —
    the stored digest."""
    derived = hashlib.sha256(b"secret_hash:" + stored_digest.encode()).digest()[:16]
    return b64url_encode(derived)


def secret_json(row: ClientSecret, base: str, *, plaintext: str | None = None) -> dict[str, Any]:
    """The full ``client_secret`` only when just created; otherwise masked like Okta's."""
    href = f"{app_href(base, row.app_id)}/credentials/secrets/{row.id}"
    links = credential_links(href, row.status)
    return {
        "id": row.id,
        "status": row.status,
        "client_secret": plaintext if plaintext is not None else f"***{row.secret_hint}",
        "secret_hash": public_secret_hash(row.secret_hash),
        "created": iso(row.created),
        "lastUpdated": iso(row.last_updated),
        "_links": links,
    }


def jwk_json(row: AppJwk, base: str) -> dict[str, Any]:
    href = f"{app_href(base, row.app_id)}/credentials/jwks/{row.id}"
    links = credential_links(href, row.status)
    return {
        "id": row.id,
        **row.jwk,
        "status": row.status,
        "created": iso(row.created),
        "lastUpdated": iso(row.last_updated),
        "_links": links,
    }


def app_user_json(app_user: AppUser, app_id: str, base: str) -> dict[str, Any]:
    user, assignment = app_user.user, app_user.assignment
    created = assignment.created if assignment is not None else app_user.group_assigned
    updated = assignment.last_updated if assignment is not None else app_user.group_assigned
    credentials = {"userName": app_user.user_name} if app_user.user_name else {}
    return {
        "id": user.id,
        "externalId": None,
        "created": iso(created),
        "lastUpdated": iso(updated),
        "scope": app_user.scope,
        "status": "ACTIVE",
        "statusChanged": iso(created),
        "passwordChanged": None,
        "syncState": "DISABLED",
        "credentials": credentials,
        "profile": dict(assignment.profile) if assignment is not None else {},
        "_links": {
            "app": _link(app_href(base, app_id)),
            "user": _link(f"{base}/api/v1/users/{user.id}"),
        },
    }


def group_assignment_json(assignment: AppGroupAssignment, base: str) -> dict[str, Any]:
    app = app_href(base, assignment.app_id)
    return {
        "id": assignment.group_id,
        "lastUpdated": iso(assignment.last_updated),
        "priority": assignment.priority,
        "profile": assignment.profile,
        "_links": {
            "self": _link(f"{app}/groups/{assignment.group_id}"),
            "app": _link(app),
            "group": _link(f"{base}/api/v1/groups/{assignment.group_id}"),
        },
    }


def grant_json(grant: AppGrant, base: str) -> dict[str, Any]:
    app = app_href(base, grant.app_id)
    return {
        "id": grant.id,
        "status": grant.status,
        "created": iso(grant.created),
        "createdBy": {"id": grant.created_by, "type": grant.created_by_type},
        "lastUpdated": iso(grant.last_updated),
        "issuer": grant.issuer,
        "clientId": grant.app_id,
        "scopeId": grant.scope_id,
        "source": grant.source,
        "_embedded": {"scope": {"id": grant.scope_id}},
        "_links": {
            "app": _link(app),
            "self": _link(f"{app}/grants/{grant.id}", "GET", "DELETE"),
            "client": _link(f"{base}/oauth2/v1/clients/{grant.app_id}"),
        },
    }
