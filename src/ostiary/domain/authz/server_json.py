"""Okta-shaped JSON for authorization servers, their scopes, claims, policies, rules and keys."""

from __future__ import annotations

from typing import Any

from ostiary.domain.authz import server_lookup as servers_domain
from ostiary.store.models import AuthorizationServer, SigningKeyRow
from ostiary.store.models.policies import AccessPolicy, Claim, PolicyRule, Scope
from ostiary.timeutil import iso


def _link(href: str, *methods: str) -> dict[str, Any]:
    return {"href": href, "hints": {"allow": list(methods)}}


def server_href(base: str, server_id: str) -> str:
    return f"{base}/api/v1/authorizationServers/{server_id}"


def _lifecycle(href: str, status: str) -> dict[str, Any]:
    if status == "ACTIVE":
        return {"deactivate": _link(f"{href}/lifecycle/deactivate", "POST")}
    return {"activate": _link(f"{href}/lifecycle/activate", "POST")}


def server_json(server: AuthorizationServer, base: str, org_url: str, kid: str | None) -> dict[str, Any]:
    href = server_href(base, server.id)
    issuer = servers_domain.issuer(server, org_url)
    signing: dict[str, Any] = {"rotationMode": server.rotation_mode, "use": "sig", "alg": server.signing_alg}
    if kid is not None:
        signing.update(kid=kid, lastRotated=iso(server.last_rotated), nextRotation=iso(server.next_rotation))
    return {
        "id": server.id,
        "name": server.name,
        "description": server.description,
        "audiences": list(server.audiences),
        "issuer": issuer,
        "issuerMode": server.issuer_mode,
        "status": server.status,
        "created": iso(server.created),
        "lastUpdated": iso(server.last_updated),
        "credentials": {"signing": signing},
        "_links": {
            "scopes": _link(f"{href}/scopes", "GET"),
            "claims": _link(f"{href}/claims", "GET"),
            "policies": _link(f"{href}/policies", "GET"),
            "self": _link(href, "GET", "DELETE", "PUT"),
            "metadata": [
                {
                    "name": "oauth-authorization-server",
                    **_link(f"{issuer}/.well-known/oauth-authorization-server", "GET"),
                },
                {
                    "name": "openid-configuration",
                    **_link(f"{issuer}/.well-known/openid-configuration", "GET"),
                },
            ],
            "keys": _link(f"{href}/credentials/keys", "GET"),
            "rotateKey": _link(f"{href}/credentials/lifecycle/keyRotate", "POST"),
            **_lifecycle(href, server.status),
        },
    }


def scope_json(scope: Scope, base: str) -> dict[str, Any]:
    return {
        "id": scope.id,
        "name": scope.name,
        "description": scope.description,
        "system": scope.system,
        "default": scope.default,
        "displayName": scope.display_name,
        "consent": scope.consent,
        "optional": scope.optional,
        "metadataPublish": scope.metadata_publish,
        "_links": {
            "self": _link(f"{server_href(base, scope.server_id)}/scopes/{scope.id}", "GET", "PUT", "DELETE")
        },
    }


def claim_json(claim: Claim, base: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": claim.id,
        "name": claim.name,
        "status": claim.status,
        "claimType": claim.claim_type,
        "valueType": claim.value_type,
        "value": claim.value,
        "conditions": {"scopes": list(claim.conditions_scopes)},
        "system": claim.system,
        "alwaysIncludeInToken": claim.always_include_in_token,
    }
    if claim.group_filter_type is not None:
        body["group_filter_type"] = claim.group_filter_type
    body["_links"] = {
        "self": _link(f"{server_href(base, claim.server_id)}/claims/{claim.id}", "GET", "PUT", "DELETE")
    }
    return body


def policy_href(base: str, policy: AccessPolicy) -> str:
    return f"{server_href(base, policy.server_id)}/policies/{policy.id}"


def policy_json(policy: AccessPolicy, base: str) -> dict[str, Any]:
    href = policy_href(base, policy)
    return {
        "type": "OAUTH_AUTHORIZATION_POLICY",
        "id": policy.id,
        "status": policy.status,
        "name": policy.name,
        "description": policy.description,
        "priority": policy.priority,
        "system": policy.system,
        "conditions": {"clients": {"include": list(policy.clients_include)}},
        "created": iso(policy.created),
        "lastUpdated": iso(policy.last_updated),
        "_links": {
            "self": _link(href, "GET", "PUT", "DELETE"),
            **_lifecycle(href, policy.status),
            "rules": _link(f"{href}/rules", "GET"),
        },
    }


def rule_json(rule: PolicyRule, base: str) -> dict[str, Any]:
    href = f"{server_href(base, rule.server_id)}/policies/{rule.policy_id}/rules/{rule.id}"
    token: dict[str, Any] = {
        "accessTokenLifetimeMinutes": rule.access_token_lifetime_minutes,
        "refreshTokenLifetimeMinutes": rule.refresh_token_lifetime_minutes,
        "refreshTokenWindowMinutes": rule.refresh_token_window_minutes,
    }
    if rule.inline_hook_id is not None:
        token["inlineHook"] = {"id": rule.inline_hook_id}
    return {
        "type": "RESOURCE_ACCESS",
        "id": rule.id,
        "status": rule.status,
        "name": rule.name,
        "priority": rule.priority,
        "created": iso(rule.created),
        "lastUpdated": iso(rule.last_updated),
        "system": rule.system,
        "conditions": {
            "people": {
                "users": {"include": list(rule.users_include), "exclude": list(rule.users_exclude)},
                "groups": {"include": list(rule.groups_include), "exclude": list(rule.groups_exclude)},
            },
            "grantTypes": {"include": list(rule.grant_types)},
            "scopes": {"include": list(rule.scopes)},
        },
        "actions": {"token": token},
        "_links": {"self": _link(href, "GET", "PUT", "DELETE"), **_lifecycle(href, rule.status)},
    }


def key_json(row: SigningKeyRow, base: str) -> dict[str, Any]:
    """The public JWK with its status (ACTIVE, NEXT or EXPIRED); never a private member."""
    public = {k: v for k, v in row.public_jwk.items() if k not in ("d", "p", "q", "dp", "dq", "qi")}
    href = f"{server_href(base, row.server_id)}/credentials/keys/{row.kid}"
    return {"status": row.status, **public, "_links": {"self": _link(href, "GET")}}
