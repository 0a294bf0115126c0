"""The converter from Okta's management JSON to an org file, on bodies shaped as Okta returns them."""

from __future__ import annotations

from typing import Any

from ostiary.domain.org_file.from_okta import OktaOrg, to_file

EVERYONE = {
    "id": "00g1everyone0000000x",
    "type": "BUILT_IN",
    "profile": {"name": "Everyone", "description": None},
}
ADMINS = {
    "id": "00g1admins00000000x",
    "type": "OKTA_GROUP",
    "profile": {"name": "admins", "description": None},
}


def _okta_org() -> OktaOrg:
    client: dict[str, Any] = {
        "id": "0oa1generatedappid0x",
        "name": "oidc_client",
        "label": "Portal",
        "signOnMode": "OPENID_CONNECT",
        "status": "ACTIVE",
        "credentials": {
            "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
            "oauthClient": {
                "client_id": "portal-client",
                "client_secret": "s3cret-value",
                "token_endpoint_auth_method": "private_key_jwt",
            },
        },
        "settings": {
            "notifications": {"vpn": {}},
            "oauthClient": {
                "grant_types": ["client_credentials"],
                "application_type": "service",
                "jwks": {
                    "keys": [
                        {
                            "kty": "RSA",
                            "kid": "k1",
                            "e": "AQAB",
                            "n": "abc",
                            "status": "ACTIVE",
                            "id": "pks1",
                            "created": "2024-01-01T00:00:00.000Z",
                        }
                    ]
                },
            },
        },
        "_links": {"self": {"href": "https://acme.okta.com/api/v1/apps/0oa1generatedappid0x"}},
    }
    dashboard = {
        "id": "0oa1dash",
        "name": "okta_enduser",
        "label": "Okta Dashboard",
        "signOnMode": "OPENID_CONNECT",
    }
    server = {"id": "aus1generatedserver0", "name": "api", "description": None, "audiences": ["api://x"]}
    return OktaOrg(
        groups=[EVERYONE, ADMINS],
        users=[
            {
                "id": "00u1",
                "status": "ACTIVE",
                "profile": {"login": "a@x.io", "email": "a@x.io", "mobilePhone": None},
            },
            {"id": "00u2", "status": "DEPROVISIONED", "profile": {"login": "gone@x.io"}},
            {"id": "00u3", "status": "STAGED", "profile": {"login": "new@x.io"}},
        ],
        user_groups={"00u1": [EVERYONE["id"], ADMINS["id"]]},
        apps=[client, dashboard],
        app_groups={client["id"]: [ADMINS["id"]]},
        app_users={client["id"]: ["00u3"]},
        app_grants={client["id"]: ["okta.users.read", "okta.groups.read"]},
        servers=[server],
        scopes={
            server["id"]: [
                {"id": "scp1", "name": "openid", "system": True},
                {"id": "scp2", "name": "read", "system": False},
            ]
        },
        claims={server["id"]: [{"id": "ocl1", "name": "sub", "system": True}]},
        policies={
            server["id"]: [
                {
                    "id": "00p2",
                    "name": "second",
                    "priority": 2,
                    "status": "ACTIVE",
                    "type": "OAUTH_AUTHORIZATION_POLICY",
                    "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
                },
                {
                    "id": "00p1",
                    "name": "first",
                    "priority": 1,
                    "status": "INACTIVE",
                    "conditions": {"clients": {"include": ["portal-client"]}},
                },
            ]
        },
        rules={
            "00p1": [
                {
                    "id": "0pr1",
                    "name": "r",
                    "priority": 1,
                    "type": "RESOURCE_ACCESS",
                    "conditions": {
                        "people": {
                            "groups": {"include": [ADMINS["id"], "EVERYONE"]},
                            "users": {"exclude": ["00u1"]},
                        },
                        "scopes": {"include": ["read"]},
                    },
                }
            ]
        },
        trusted_origins=[
            {
                "id": "tos1",
                "name": "web",
                "origin": "https://x.io",
                "scopes": [{"type": "CORS", "allowedOktaApps": []}],
            }
        ],
        api_tokens=[{"id": "00T1", "name": "ci"}, {"id": "00T2", "name": "ci"}],
    )


def test_ids_become_names_and_built_ins_stay_out() -> None:
    doc = to_file(_okta_org())
    assert doc["groups"] == [{"profile": {"name": "admins"}}]
    assert doc["users"] == [
        {"profile": {"login": "a@x.io", "email": "a@x.io"}, "groups": ["admins"]},
        {"profile": {"login": "new@x.io"}, "status": "STAGED"},
    ]
    assert doc["apps"] == [
        {
            "label": "Portal",
            "credentials": {
                "oauthClient": {"client_id": "portal-client", "token_endpoint_auth_method": "private_key_jwt"}
            },
            "settings": {
                "oauthClient": {
                    "grant_types": ["client_credentials"],
                    "application_type": "service",
                    "jwks": {"keys": [{"kty": "RSA", "kid": "k1", "e": "AQAB", "n": "abc"}]},
                }
            },
            "assignments": {"groups": ["admins"], "users": ["new@x.io"]},
            "grants": ["okta.groups.read", "okta.users.read"],
        }
    ]
    (server,) = doc["authorizationServers"]
    assert "id" not in server  # generated
    assert server["scopes"] == [{"name": "read"}] and "claims" not in server
    assert [p["name"] for p in server["policies"]] == ["first", "second"]  # by priority
    first = server["policies"][0]
    assert first["status"] == "INACTIVE" and first["conditions"]["clients"]["include"] == ["Portal"]
    assert first["rules"] == [
        {
            "name": "r",
            "conditions": {
                "people": {"groups": {"include": ["admins", "EVERYONE"]}, "users": {"exclude": ["a@x.io"]}},
                "scopes": {"include": ["read"]},
            },
        }
    ]
    assert doc["trustedOrigins"] == [{"name": "web", "origin": "https://x.io", "scopes": [{"type": "CORS"}]}]
    assert doc["apiTokens"] == [{"name": "ci"}]


def test_client_secrets_only_with_secrets() -> None:
    assert "client_secret" not in str(to_file(_okta_org()))
    (app,) = to_file(_okta_org(), with_secrets=True)["apps"]
    assert app["credentials"]["oauthClient"]["client_secret"] == "s3cret-value"


def test_a_fixed_server_id_is_kept() -> None:
    org = _okta_org()
    org.servers[0]["id"] = "ausMyApi"
    org.scopes["ausMyApi"] = org.scopes.pop("aus1generatedserver0")
    assert to_file(org)["authorizationServers"][0]["id"] == "ausMyApi"
