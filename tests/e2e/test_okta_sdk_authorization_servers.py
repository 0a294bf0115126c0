"""Temporary: the okta SDK against the authorization server API."""

from __future__ import annotations

from okta.client import Client as OktaClient
from okta.models import (
    AuthorizationServer,
    AuthorizationServerPolicy,
    AuthorizationServerPolicyRuleRequest,
    JwkUse,
    OAuth2Claim,
    OAuth2Scope,
)

from tests.e2e.servers import OrgServer


async def test_sdk_round_trip(org: OrgServer) -> None:
    token = org.create_token()
    async with OktaClient({"orgUrl": org.url, "token": token, "rateLimit": {"maxRetries": 0}}) as client:
        servers, _, err = await client.list_authorization_servers()
        assert err is None, err
        assert [s.id for s in servers] == ["default"]
        body = AuthorizationServer.from_dict({"name": "sdk", "description": "d", "audiences": ["api://sdk"]})
        server, resp, err = await client.create_authorization_server(body)
        assert err is None, err
        assert server is not None and server.id.startswith("aus"), resp
        got, _, err = await client.get_authorization_server(server.id)
        assert err is None and got.name == "sdk"
        body.name = "sdk2"
        replaced, _, err = await client.replace_authorization_server(server.id, body)
        assert err is None and replaced.name == "sdk2", err
        _, _, err = await client.deactivate_authorization_server(server.id)
        assert err is None, err
        _, _, err = await client.activate_authorization_server(server.id)
        assert err is None, err

        scope, _, err = await client.create_o_auth2_scope(
            server.id, OAuth2Scope.from_dict({"name": "car:drive", "consent": "REQUIRED"})
        )
        assert err is None and scope is not None and scope.id.startswith("scp"), err
        scopes, _, err = await client.list_o_auth2_scopes(server.id)
        assert err is None and "car:drive" in [s.name for s in scopes], err
        scope2, _, err = await client.replace_o_auth2_scope(
            server.id, scope.id, OAuth2Scope.from_dict({"name": "car:order"})
        )
        assert err is None and scope2.name == "car:order", err

        claim, _, err = await client.create_o_auth2_claim(
            server.id,
            OAuth2Claim.from_dict(
                {
                    "name": "tier",
                    "claimType": "RESOURCE",
                    "valueType": "EXPRESSION",
                    "value": '"gold"',
                    "conditions": {"scopes": ["car:order"]},
                }
            ),
        )
        assert err is None and claim is not None and claim.id.startswith("ocl"), err
        claims, _, err = await client.list_o_auth2_claims(server.id)
        assert err is None and len(claims) == 2, err

        policy, _, err = await client.create_authorization_server_policy(
            server.id,
            AuthorizationServerPolicy.from_dict(
                {
                    "type": "OAUTH_AUTHORIZATION_POLICY",
                    "name": "P",
                    "description": "d",
                    "priority": 1,
                    "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
                }
            ),
        )
        assert err is None and policy is not None and policy.id.startswith("00p"), err
        rule, _, err = await client.create_authorization_server_policy_rule(
            server.id,
            policy.id,
            AuthorizationServerPolicyRuleRequest.from_dict(
                {
                    "type": "RESOURCE_ACCESS",
                    "name": "R",
                    "priority": 1,
                    "conditions": {
                        "people": {"groups": {"include": ["EVERYONE"]}},
                        "grantTypes": {"include": ["client_credentials"]},
                        "scopes": {"include": ["*"]},
                    },
                    "actions": {
                        "token": {
                            "accessTokenLifetimeMinutes": 60,
                            "refreshTokenLifetimeMinutes": 0,
                            "refreshTokenWindowMinutes": 10080,
                        }
                    },
                }
            ),
        )
        assert err is None and rule is not None and rule.id.startswith("0pr"), err
        rules, _, err = await client.list_authorization_server_policy_rules(server.id, policy.id)
        assert err is None and [r.id for r in rules] == [rule.id], err
        _, _, err = await client.deactivate_authorization_server_policy_rule(server.id, policy.id, rule.id)
        assert err is None, err
        got_rule, _, err = await client.get_authorization_server_policy_rule(server.id, policy.id, rule.id)
        assert err is None and got_rule.status == "INACTIVE", (err, got_rule)
        _, _, err = await client.deactivate_authorization_server_policy(server.id, policy.id)
        assert err is None, err
        policies, _, err = await client.list_authorization_server_policies(server.id)
        assert err is None and len(policies) == 1, err

        keys, _, err = await client.list_authorization_server_keys(server.id)
        assert err is None and len(keys) == 2, err
        key, _, err = await client.get_authorization_server_key(server.id, keys[0].kid)
        assert err is None and key.kid == keys[0].kid, err
        rotated, _, err = await client.rotate_authorization_server_keys(
            server.id, JwkUse.from_dict({"use": "sig"})
        )
        assert err is None and len(rotated) == 3, err

        _, _, err = await client.delete_authorization_server_policy_rule(server.id, policy.id, rule.id)
        assert err is None, err
        _, _, err = await client.delete_authorization_server_policy(server.id, policy.id)
        assert err is None, err
        _, _, err = await client.delete_o_auth2_claim(server.id, claim.id)
        assert err is None, err
        _, _, err = await client.delete_o_auth2_scope(server.id, scope.id)
        assert err is None, err
        _, _, err = await client.delete_authorization_server(server.id)
        assert err is None, err
        _, _, err = await client.get_authorization_server(server.id)
        assert err is not None and err.error_code == "E0000007"
