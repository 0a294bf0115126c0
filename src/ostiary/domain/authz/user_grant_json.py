"""A user's consent grant in Okta's ``OAuth2ScopeConsentGrant`` shape (``source`` ``END_USER``).

``scopeId`` is the scope's id (``scp…``) as Okta answers for custom authorization servers, or its
name when the scope has since been deleted; ``expand=scope`` embeds the scope's name and
display name.
"""

from __future__ import annotations

from typing import Any

from ostiary.domain.authz import server_lookup
from ostiary.domain.authz.server_json import server_href
from ostiary.domain.authz.user_grants import GrantView
from ostiary.timeutil import iso

END_USER = "END_USER"
ACTIVE = "ACTIVE"


def grants_href(base: str, user_id: str) -> str:
    return f"{base}/api/v1/users/{user_id}/grants"


def _titled(href: str, title: str | None) -> dict[str, Any]:
    return {"href": href, "title": title} if title else {"href": href}


def user_grant_json(view: GrantView, base: str, org_url: str, *, expand_scope: bool) -> dict[str, Any]:
    grant, scope, server = view.grant, view.scope, view.server
    scope_id = scope.id if scope is not None else grant.scope
    issuer = (
        server_lookup.issuer(server, org_url) if server is not None else f"{org_url}/oauth2/{grant.server_id}"
    )
    embedded: dict[str, Any] = {"id": scope_id}
    if expand_scope:
        embedded["name"] = grant.scope
        if scope is not None:
            embedded["displayName"] = scope.display_name
            embedded["description"] = scope.description
    app_label = view.app.label if view.app is not None else None
    server_link = server_href(base, grant.server_id)
    links: dict[str, Any] = {
        "app": _titled(f"{base}/api/v1/apps/{grant.client_id}", app_label),
        "authorizationServer": _titled(server_link, server.name if server is not None else None),
        "client": _titled(f"{base}/oauth2/v1/clients/{grant.client_id}", app_label),
        "self": {
            "href": f"{grants_href(base, grant.user_id)}/{grant.id}",
            "hints": {"allow": ["GET", "DELETE"]},
        },
        "user": {"href": f"{base}/api/v1/users/{grant.user_id}"},
    }
    if scope is not None:
        links["scope"] = _titled(f"{server_link}/scopes/{scope.id}", scope.display_name or scope.name)
    return {
        "id": grant.id,
        "status": ACTIVE,
        "created": iso(grant.created),
        "createdBy": {"id": grant.user_id, "type": "User"},
        "lastUpdated": iso(grant.created),
        "issuer": issuer,
        "clientId": grant.client_id,
        "userId": grant.user_id,
        "scopeId": scope_id,
        "source": END_USER,
        "_embedded": {"scope": embedded},
        "_links": links,
    }
