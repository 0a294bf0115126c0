"""Okta-shaped JSON for the clients holding refresh tokens of an authorization server and their
tokens (``OAuth2Client``, ``OAuth2RefreshToken``; ``expand=scope`` embeds ``OAuth2Scope``-like
objects). The wire shape is part of the contract the okta SDK parses, so it is written here.
"""

from __future__ import annotations

from typing import Any

from ostiary.domain.authz.server_json import server_href
from ostiary.domain.tokens.refresh_token_admin import ClientTokens, TokenView
from ostiary.store.models import App
from ostiary.store.models.policies import Scope
from ostiary.timeutil import iso


def _titled(href: str, title: str) -> dict[str, Any]:
    return {"href": href, "title": title}


def tokens_href(base: str, server_id: str, client_id: str) -> str:
    return f"{server_href(base, server_id)}/clients/{client_id}/tokens"


def client_json(app: App, server_id: str, base: str) -> dict[str, Any]:
    oauth = (app.settings or {}).get("oauthClient") or {}
    return {
        "client_id": app.id,
        "client_name": app.label,
        "client_uri": oauth.get("client_uri"),
        "logo_uri": oauth.get("logo_uri"),
        "_links": {
            "client": _titled(f"{base}/oauth2/v1/clients/{app.id}", app.label),
            "tokens": {
                "href": tokens_href(base, server_id, app.id),
                "hints": {"allow": ["GET", "DELETE"]},
            },
        },
    }


def scope_json(scope: Scope, base: str) -> dict[str, Any]:
    return {
        "id": scope.id,
        "name": scope.name,
        "displayName": scope.display_name,
        "description": scope.description,
        "_links": {
            "scope": _titled(
                f"{server_href(base, scope.server_id)}/scopes/{scope.id}", scope.display_name or scope.name
            )
        },
    }


def token_json(view: TokenView, found: ClientTokens, base: str, issuer: str) -> dict[str, Any]:
    server = found.server
    href = f"{tokens_href(base, server.id, view.client_id)}/{view.id}"
    body: dict[str, Any] = {
        "id": view.id,
        "status": view.status,
        "created": iso(view.created),
        "lastUpdated": iso(view.last_updated),
        "expiresAt": iso(view.expires_at),
        "issuer": issuer,
        "clientId": view.client_id,
        "userId": view.user_id,
        "scopes": list(view.scopes),
    }
    if found.scopes:
        body["_embedded"] = {
            "scopes": [scope_json(found.scopes[name], base) for name in view.scopes if name in found.scopes]
        }
    body["_links"] = {
        "app": _titled(f"{base}/api/v1/apps/{view.client_id}", view.app_label),
        "authorizationServer": _titled(server_href(base, server.id), server.name),
        "self": {"href": href},
        "revoke": {"href": href, "hints": {"allow": ["DELETE"]}},
        "client": _titled(f"{base}/oauth2/v1/clients/{view.client_id}", view.app_label),
        "user": _titled(f"{base}/api/v1/users/{view.user_id}", view.user_name),
    }
    return body
