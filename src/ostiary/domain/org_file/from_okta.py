"""Okta's management JSON (as ``GET /api/v1/...`` returns it) to an org file.

One converter for ``ostiary export`` on a local org (the domain renders its objects with the
management API's renderers) and on any org reached through its API, Okta's own included. Ids are
replaced by names (group names, user logins, app labels); what users cannot choose (ids of
groups, users, policies, rules, scopes, generated server ids), timestamps, links, statuses at
their defaults and built-ins (the Everyone group, system scopes and claims, Okta's own apps) are
left out. Client ids, fixed server ids, public JWKS and ``okta.*`` grants are kept, so an export
applies back to the same org with no change, and into an empty one to reproduce it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ostiary.domain.org_file.document import KEYWORDS

GENERATED_SERVER_ID = re.compile(r"^aus[0-9A-Za-z]{17}$")
DEFAULT_SERVER_ID = "default"
DROPPED = frozenset({"id", "_links", "_embedded", "created", "lastUpdated", "system", "priority"})


@dataclass
class OktaOrg:
    """An org's configuration as Okta's management API returns it, one list per endpoint."""

    groups: list[dict[str, Any]] = field(default_factory=list)  # GET /groups
    users: list[dict[str, Any]] = field(default_factory=list)  # GET /users
    user_groups: dict[str, list[str]] = field(default_factory=dict)  # user id -> group ids
    apps: list[dict[str, Any]] = field(default_factory=list)  # GET /apps
    app_groups: dict[str, list[str]] = field(default_factory=dict)  # app id -> group ids
    app_users: dict[str, list[str]] = field(default_factory=dict)  # app id -> directly assigned user ids
    app_grants: dict[str, list[str]] = field(default_factory=dict)  # app id -> granted okta.* scopes
    grant_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # app id -> scope -> grant id
    servers: list[dict[str, Any]] = field(default_factory=list)  # GET /authorizationServers
    scopes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # server id -> scopes
    claims: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    policies: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # policy id -> rules
    trusted_origins: list[dict[str, Any]] = field(default_factory=list)
    api_tokens: list[dict[str, Any]] = field(default_factory=list)  # GET /api-tokens (names only)


def is_exported_app(app: Mapping[str, Any]) -> bool:
    """OpenID Connect clients; Okta's own apps (the dashboard, the admin console) stay out."""
    return app.get("signOnMode") == "OPENID_CONNECT" and app.get("name", "oidc_client") == "oidc_client"


def _compact(value: Any) -> Any:
    """``value`` without ``None`` members and empty lists or objects, recursively."""
    if isinstance(value, Mapping):
        kept = {k: _compact(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [_compact(item) for item in value]
    return value


def _body(value: Mapping[str, Any], *drop: str) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k not in DROPPED and k not in drop}


def to_file(org: OktaOrg, *, with_secrets: bool = False) -> dict[str, Any]:
    """The org file (a plain mapping ready for YAML) of ``org``."""
    group_names = {g["id"]: g["profile"]["name"] for g in org.groups}
    logins = {u["id"]: u["profile"]["login"] for u in org.users}
    labels = {a["id"]: a["label"] for a in org.apps}
    labels.update(
        {a["credentials"]["oauthClient"]["client_id"]: a["label"] for a in org.apps if _client_id(a)}
    )
    names = _Names(group_names, logins, labels)
    built_in = {g["id"] for g in org.groups if g.get("type", "OKTA_GROUP") != "OKTA_GROUP"}
    doc: dict[str, Any] = {
        "groups": [
            {"profile": _compact(g["profile"])}
            for g in sorted(org.groups, key=lambda g: g["profile"]["name"].lower())
            if g.get("type", "OKTA_GROUP") == "OKTA_GROUP"
        ],
        "users": [
            _user(u, org, names, built_in)
            for u in sorted(org.users, key=lambda u: u["profile"]["login"].lower())
            if u.get("status") != "DEPROVISIONED"
        ],
        "apps": [
            _app(a, org, names, with_secrets=with_secrets)
            for a in sorted(org.apps, key=lambda a: a["label"].lower())
            if is_exported_app(a)
        ],
        "authorizationServers": [
            _server(s, org, names) for s in sorted(org.servers, key=lambda s: s["name"].lower())
        ],
        "trustedOrigins": [
            _compact(
                {
                    "name": o["name"],
                    "origin": o["origin"],
                    "scopes": [{"type": s["type"]} for s in o["scopes"]],
                }
            )
            for o in sorted(org.trusted_origins, key=lambda o: o["name"].lower())
        ],
        "apiTokens": [{"name": name} for name in sorted({t["name"] for t in org.api_tokens})],
    }
    return {key: value for key, value in doc.items() if value}


@dataclass(frozen=True)
class _Names:
    groups: Mapping[str, str]
    logins: Mapping[str, str]
    labels: Mapping[str, str]


def _client_id(app: Mapping[str, Any]) -> str | None:
    value = ((app.get("credentials") or {}).get("oauthClient") or {}).get("client_id")
    return value if isinstance(value, str) else None


def _user(user: Mapping[str, Any], org: OktaOrg, names: _Names, built_in: set[str]) -> dict[str, Any]:
    body: dict[str, Any] = {"profile": _compact(user["profile"])}
    if user.get("status") == "STAGED":
        body["status"] = "STAGED"
    groups = sorted(
        names.groups[g]
        for g in org.user_groups.get(user["id"], [])
        if g in names.groups and g not in built_in
    )
    if groups:
        body["groups"] = groups
    return body


def _app(app: Mapping[str, Any], org: OktaOrg, names: _Names, *, with_secrets: bool) -> dict[str, Any]:
    credentials = (app.get("credentials") or {}).get("oauthClient") or {}
    oauth_credentials = {
        key: credentials[key]
        for key in ("client_id", "token_endpoint_auth_method", "pkce_required", "autoKeyRotation")
        if key in credentials
    }
    if with_secrets and credentials.get("client_secret"):
        oauth_credentials["client_secret"] = credentials["client_secret"]
    settings = dict(((app.get("settings") or {}).get("oauthClient")) or {})
    jwks = settings.get("jwks")
    if isinstance(jwks, Mapping):
        public = ("kty", "kid", "use", "alg", "e", "n", "crv", "x", "y")
        settings["jwks"] = {
            "keys": [{k: key[k] for k in public if k in key} for key in jwks.get("keys") or []]
        }
    body: dict[str, Any] = {
        "label": app["label"],
        "credentials": {"oauthClient": oauth_credentials},
        "settings": {"oauthClient": settings},
    }
    if app.get("profile"):
        body["profile"] = app["profile"]
    assignments = {
        "groups": sorted(names.groups[g] for g in org.app_groups.get(app["id"], []) if g in names.groups),
        "users": sorted(names.logins[u] for u in org.app_users.get(app["id"], []) if u in names.logins),
    }
    body["assignments"] = assignments
    body["grants"] = sorted(org.app_grants.get(app["id"], []))
    return _compact(body)  # type: ignore[no-any-return]


def _server(server: Mapping[str, Any], org: OktaOrg, names: _Names) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if server["id"] != DEFAULT_SERVER_ID and not GENERATED_SERVER_ID.match(server["id"]):
        body["id"] = server["id"]  # a fixed id: its issuer is known in advance
    body.update(name=server["name"], description=server.get("description"), audiences=server.get("audiences"))
    body["scopes"] = [_body(s) for s in org.scopes.get(server["id"], []) if not s.get("system")]
    body["claims"] = [
        _without_default(_body(c), status="ACTIVE")
        for c in org.claims.get(server["id"], [])
        if not c.get("system")
    ]
    policies = sorted(org.policies.get(server["id"], []), key=lambda p: p.get("priority", 0))
    body["policies"] = [_policy(p, org, names) for p in policies if not p.get("system")]
    return _compact(body)  # type: ignore[no-any-return]


def _without_default(body: dict[str, Any], **defaults: Any) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in defaults or defaults[k] != v}


def _policy(policy: Mapping[str, Any], org: OktaOrg, names: _Names) -> dict[str, Any]:
    body = _without_default(_body(policy), status="ACTIVE", type="OAUTH_AUTHORIZATION_POLICY")
    body["conditions"] = _named_conditions(policy.get("conditions") or {}, names)
    rules = sorted(org.rules.get(policy["id"], []), key=lambda r: r.get("priority", 0))
    body["rules"] = [
        {
            **_without_default(_body(rule), status="ACTIVE", type="RESOURCE_ACCESS"),
            "conditions": _named_conditions(rule.get("conditions") or {}, names),
        }
        for rule in rules
        if not rule.get("system")
    ]
    return body


def _named_conditions(conditions: Mapping[str, Any], names: _Names) -> dict[str, Any]:
    """Conditions with the ids of clients, groups and users as labels, names and logins."""
    named = dict(conditions)
    clients = conditions.get("clients")
    if isinstance(clients, Mapping):
        named["clients"] = {**clients, "include": _named(clients.get("include"), names.labels)}
    people = conditions.get("people")
    if isinstance(people, Mapping):
        named["people"] = {
            key: {side: _named(ids, lookup) for side, ids in (people.get(key) or {}).items()}
            for key, lookup in (("groups", names.groups), ("users", names.logins))
            if key in people
        }
    return named


def _named(ids: Any, lookup: Mapping[str, str]) -> list[Any]:
    return [i if i in KEYWORDS else lookup.get(i, i) for i in ids or []]
