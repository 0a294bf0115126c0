"""/api/v1/apps behaves as Okta's for OIDC apps: shapes the okta SDK parses, validation by app
type, secrets shown once, lifecycle and delete rules, client secrets, client JWKs,
assignments, scope grants, and bad input that changes nothing."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx
import pytest
from jwt.algorithms import RSAAlgorithm
from okta.models import (
    Application,
    ApplicationGroupAssignment,
    AppUser,
    ListJwk200ResponseInner,
    OAuth2ClientSecret,
    OAuth2ScopeConsentGrant,
    OpenIdConnectApplication,
)

from ostiary.domain.clients import apps as apps_domain
from ostiary.store.repositories import orgs
from tests.conftest import ORG_URL, Server
from tests.support.apps import (
    APPS,
    _scoped_bearer,
    causes,
    count_apps,
    create_app,
    ec_jwk,
    key_app,
    oidc_app,
    rsa_jwk,
    rsa_private,
    service_app,
)
from tests.support.groups import create_group
from tests.support.users import create as create_user

# --- keys ----------------------------------------------------------------------------------


# --- bodies --------------------------------------------------------------------------------


def sdk_app(body: dict[str, Any]) -> OpenIdConnectApplication:
    parsed = Application.from_dict(body)
    assert isinstance(parsed, OpenIdConnectApplication)
    return parsed


async def events(client: httpx.AsyncClient, event_type: str) -> list[dict[str, Any]]:
    response = await client.get("/api/v1/logs", params={"filter": f'eventType eq "{event_type}"'})
    return list(response.json())


# --- create ----------------------------------------------------------------------------------


async def test_create_web_app_answers_okta_shape_with_its_secret_shown_once(
    any_admin: httpx.AsyncClient,
) -> None:
    response = await any_admin.post(APPS, json=oidc_app())
    assert response.status_code == 200
    app = response.json()
    assert re.fullmatch(r"0oa[0-9A-Za-z]{17}", app["id"])
    oauth = app["credentials"]["oauthClient"]
    assert oauth["client_id"] == app["id"]
    assert oauth["token_endpoint_auth_method"] == "client_secret_basic"
    assert len(oauth["client_secret"]) >= 40
    assert app["status"] == "ACTIVE"
    assert app["settings"]["oauthClient"]["application_type"] == "web"
    assert app["_links"]["self"]["href"] == f"{ORG_URL}/api/v1/apps/{app['id']}"
    sdk = sdk_app(app)
    assert sdk.credentials.oauth_client is not None
    assert sdk.credentials.oauth_client.client_id == app["id"]

    fetched = await any_admin.get(f"{APPS}/{app['id']}")
    assert "client_secret" not in fetched.json()["credentials"]["oauthClient"]
    assert oauth["client_secret"] not in fetched.text
    listed = await any_admin.get(APPS)
    assert oauth["client_secret"] not in listed.text
    secrets = (await any_admin.get(f"{APPS}/{app['id']}/credentials/secrets")).json()
    assert [s["client_secret"] for s in secrets] == ["***" + oauth["client_secret"][-4:]]


async def test_create_service_app_for_client_credentials(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin, oidc_app("service", responses=None))
    settings = app["settings"]["oauthClient"]
    assert settings["grant_types"] == ["client_credentials"]
    assert settings["response_types"] == ["token"]
    assert settings["redirect_uris"] == []
    assert app["credentials"]["oauthClient"]["pkce_required"] is False
    sdk_app(app)


async def test_create_with_a_custom_client_id_as_okta_accepts_one(admin: httpx.AsyncClient) -> None:
    body = service_app()
    body["credentials"]["oauthClient"]["client_id"] = "my-service.client_1"
    app = await create_app(admin, body)
    assert app["credentials"]["oauthClient"]["client_id"] == "my-service.client_1"
    # As in Okta, the app's id is then another, generated one; it names the app on the API.
    assert app["id"] != "my-service.client_1" and re.fullmatch(r"0oa[0-9A-Za-z]{17}", app["id"])
    assert app["_links"]["self"]["href"].endswith(f"/api/v1/apps/{app['id']}")
    fetched = await admin.get(f"{APPS}/{app['id']}")
    assert fetched.status_code == 200 and fetched.json()["id"] == app["id"]
    listed = (await admin.get(APPS, params={"q": app["label"]})).json()
    assert [a["id"] for a in listed] == [app["id"]]
    generated = await create_app(admin, service_app())
    assert generated["id"] == generated["credentials"]["oauthClient"]["client_id"]  # not fixed: one id
    taken = await admin.post(APPS, json=body)
    assert taken.status_code == 400 and taken.json()["errorCode"] == "E0000001"
    assert "already in use" in str(taken.json()["errorCauses"])
    body["credentials"]["oauthClient"]["client_id"] = "no spaces"
    bad = await admin.post(APPS, json=body)
    assert bad.status_code == 400 and bad.json()["errorCode"] == "E0000001"


async def test_create_browser_app_is_a_public_client_with_pkce(admin: httpx.AsyncClient) -> None:
    body = oidc_app("browser", method=None)
    app = await create_app(admin, body)
    oauth = app["credentials"]["oauthClient"]
    assert oauth["token_endpoint_auth_method"] == "none"
    assert oauth["pkce_required"] is True
    assert "client_secret" not in oauth
    assert (await admin.get(f"{APPS}/{app['id']}/credentials/secrets")).json() == []
    sdk_app(app)


async def test_create_the_spec_example_native_app(admin: httpx.AsyncClient) -> None:
    """Okta's own OpenidConnectEx request body (management spec) is accepted as is."""
    body = {
        "name": "oidc_client",
        "label": "Sample Client profile",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_post"}},
        "profile": {"label": "oauth2 client app 1"},
        "settings": {
            "oauthClient": {
                "client_uri": "http://localhost:8080",
                "logo_uri": "http://developer.okta.com/assets/images/logo-new.png",
                "redirect_uris": ["https://example.com/oauth2/callback", "myapp://callback"],
                "response_types": ["token", "id_token", "code"],
                "grant_types": ["authorization_code"],
                "application_type": "native",
                "participate_slo": False,
            }
        },
    }
    app = await create_app(admin, body)
    assert app["profile"] == {"label": "oauth2 client app 1"}
    assert app["settings"]["oauthClient"]["client_uri"] == "http://localhost:8080"
    assert app["settings"]["oauthClient"]["redirect_uris"][1] == "myapp://callback"
    assert app["credentials"]["oauthClient"]["client_secret"]
    sdk_app(app)


async def test_create_private_key_jwt_app_with_its_keys(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin, key_app(rsa_jwk("a", kid="rsa-a"), ec_jwk("b", kid="ec-b")))
    assert "client_secret" not in app["credentials"]["oauthClient"]
    keys = app["settings"]["oauthClient"]["jwks"]["keys"]
    assert [(k["kid"], k["alg"], k["status"]) for k in keys] == [
        ("rsa-a", "RS256", "ACTIVE"),
        ("ec-b", "ES256", "ACTIVE"),
    ]
    assert all(re.fullmatch(r"pks[0-9A-Za-z]{17}", k["id"]) for k in keys)
    assert "d" not in keys[0]
    sdk = sdk_app(app)
    assert sdk.settings.oauth_client is not None and sdk.settings.oauth_client.jwks is not None
    listed = (await any_admin.get(f"{APPS}/{app['id']}/credentials/jwks")).json()
    assert [k["id"] for k in listed] == [k["id"] for k in keys]


async def test_loopback_http_redirects_are_accepted(admin: httpx.AsyncClient) -> None:
    redirects = [
        "http://localhost:8080/cb",
        "http://127.0.0.1/cb",
        "http://[::1]:3000/cb",
        "http://app.localhost/",
    ]
    app = await create_app(admin, oidc_app(redirects=redirects))
    assert app["settings"]["oauthClient"]["redirect_uris"] == redirects


async def test_subdomain_wildcard_redirects_need_wildcard_redirect(admin: httpx.AsyncClient) -> None:
    redirects = ["https://*.example.com/callback"]
    refused = await admin.post(APPS, json=oidc_app(redirects=redirects))
    assert refused.status_code == 400
    app = await create_app(admin, oidc_app(redirects=redirects, wildcard_redirect="SUBDOMAIN"))
    assert app["settings"]["oauthClient"]["wildcard_redirect"] == "SUBDOMAIN"


async def test_activate_false_creates_an_inactive_app(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin, activate="false")
    assert app["status"] == "INACTIVE"
    assert "activate" in app["_links"]


INVALID_APPS = {
    "service with authorization_code": service_app(
        grants=["authorization_code"], redirects=["https://x.example/cb"]
    ),
    "service with redirect uris": service_app(redirects=["https://x.example/cb"]),
    "service as public client": service_app(method="none"),
    "browser with a secret": oidc_app("browser", method="client_secret_basic"),
    "browser without pkce": oidc_app("browser", method="none", credentials={"pkce_required": False}),
    "web as public client": oidc_app("web", method="none"),
    "web code flow without redirect": oidc_app(redirects=[]),
    "native public without pkce": oidc_app("native", method="none", credentials={"pkce_required": False}),
    "unknown grant type": oidc_app(grants=["authorization_code", "magic"]),
    "client credentials for native": oidc_app("native", grants=["client_credentials"], responses=["token"]),
    "code without authorization_code": oidc_app(grants=["implicit"], responses=["code", "token"]),
    "implicit without token": oidc_app(grants=["authorization_code", "implicit"], responses=["code"]),
    "refresh_token alone": service_app(grants=["refresh_token"], responses=[]),
    "http redirect to a remote host": oidc_app(redirects=["http://app.example.com/cb"]),
    "redirect with fragment": oidc_app(redirects=["https://app.example.com/cb#frag"]),
    "relative redirect": oidc_app(redirects=["/callback"]),
    "custom scheme for web": oidc_app(redirects=["myapp://callback"]),
    "javascript scheme for native": oidc_app("native", redirects=["javascript:alert(1)"]),
    "private_key_jwt without keys": oidc_app("service", method="private_key_jwt"),
    "jwks with a private key": key_app({**RSAAlgorithm.to_jwk(rsa_private("k1"), as_dict=True), "kid": "p"}),
    "jwks with a short RSA key": key_app(rsa_jwk("short", kid="s", bits=1024)),
    "jwks with a symmetric key": key_app({"kty": "oct", "k": "c2VjcmV0", "kid": "o"}),
    "jwks with duplicate kids": key_app(rsa_jwk("a", kid="same"), rsa_jwk("b", kid="same")),
    "jwks_uri": oidc_app("service", method="private_key_jwt", jwks_uri="https://keys.example.com/jwks"),
    "client secret too short": oidc_app(credentials={"client_secret": "short"}),
    "client secret for private_key_jwt": key_app(
        rsa_jwk(kid="k"), credentials={"client_secret": "a-long-enough-client-secret-value"}
    ),
    "client_secret_jwt secret under 32 characters": oidc_app(
        method="client_secret_jwt", credentials={"client_secret": "only-twenty-chars-xx"}
    ),
    "custom client_id with spaces": oidc_app(credentials={"client_id": "my own client id"}),
    "unknown auth method": oidc_app(method="client_secret_magic"),
    "unknown application type": oidc_app(application_type="desktop"),
    "bad consent_method": oidc_app(consent_method="MAYBE"),
    "grant_types not a list": oidc_app(grant_types="authorization_code"),
    "pkce_required not a boolean": oidc_app(credentials={"pkce_required": "yes"}),
}


@pytest.mark.parametrize("body", INVALID_APPS.values(), ids=INVALID_APPS.keys())
async def test_invalid_settings_are_refused_and_create_nothing(
    admin: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await admin.post(APPS, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "E0000001"
    assert response.json()["errorSummary"].startswith("Api validation failed: ")
    assert response.json()["errorCauses"]
    assert await count_apps(admin) == 0
    assert await events(admin, "application.lifecycle.create") == []


async def test_missing_label_and_settings_are_listed_as_causes(admin: httpx.AsyncClient) -> None:
    response = await admin.post(APPS, json={"name": "oidc_client", "signOnMode": "OPENID_CONNECT"})
    assert response.status_code == 400
    assert "label: The field cannot be left blank" in causes(response)
    assert "settings: The field cannot be left blank" in causes(response)


async def test_other_sign_on_modes_are_refused_clearly(admin: httpx.AsyncClient) -> None:
    response = await admin.post(APPS, json={"name": "my_saml", "label": "SAML", "signOnMode": "SAML_2_0"})
    assert response.status_code == 400
    assert response.json()["errorSummary"] == "Api validation failed: signOnMode"
    assert "supports only OPENID_CONNECT" in causes(response)[0]
    assert await count_apps(admin) == 0


@pytest.mark.parametrize(
    ("content", "code"),
    [(b"{not json", "E0000003"), (b"[1, 2]", "E0000003"), (b'"text"', "E0000003"), (b"", "E0000003")],
)
async def test_malformed_bodies_are_e0000003(admin: httpx.AsyncClient, content: bytes, code: str) -> None:
    response = await admin.post(APPS, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["errorCode"] == code


async def test_wrong_types_in_settings_are_e0000001(admin: httpx.AsyncClient) -> None:
    body = {"name": "oidc_client", "label": "x", "signOnMode": "OPENID_CONNECT", "settings": "web"}
    response = await admin.post(APPS, json=body)
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000001"


async def test_oversized_body_is_refused(admin: httpx.AsyncClient) -> None:
    body = oidc_app(label="x" * (2 * 1024 * 1024))
    response = await admin.post(APPS, json=body)
    assert response.status_code == 413
    assert await count_apps(admin) == 0


async def test_requests_without_credentials_are_e0000005(server: Server) -> None:
    async with server.client() as anonymous:
        response = await anonymous.post(APPS, json=oidc_app())
    assert response.status_code == 403
    assert response.json()["errorCode"] == "E0000005"


async def test_a_read_scope_cannot_create_apps(server: Server) -> None:
    server.rt.bearer = _scoped_bearer("okta.apps.read")
    async with server.client(Authorization="Bearer scoped-token") as reader:
        assert (await reader.get(APPS)).status_code == 200
        response = await reader.post(APPS, json=oidc_app())
    assert response.status_code == 403
    assert response.json()["errorCode"] == "E0000006"


async def test_grants_need_the_app_grants_scope(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token) as admin:
        app = await create_app(admin, service_app())
    server.rt.bearer = _scoped_bearer("okta.apps.manage")
    async with server.client(Authorization="Bearer scoped-token") as caller:
        response = await caller.post(
            f"{APPS}/{app['id']}/grants", json={"issuer": ORG_URL, "scopeId": "okta.users.read"}
        )
    assert response.status_code == 403


# --- read, list ------------------------------------------------------------------------------


async def test_unknown_app_is_okta_404(admin: httpx.AsyncClient) -> None:
    response = await admin.get(f"{APPS}/0oa00000000000000000")
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E0000007"
    assert (
        response.json()["errorSummary"] == "Not found: Resource not found: 0oa00000000000000000 (AppInstance)"
    )


async def test_list_q_filter_and_paging(any_admin: httpx.AsyncClient) -> None:
    alpha = await create_app(any_admin, oidc_app(label="Alpha portal"))
    beta = await create_app(any_admin, service_app(label="Beta service"), activate="false")
    gamma = await create_app(any_admin, oidc_app(label="alpine tool"))
    by_q = (await any_admin.get(APPS, params={"q": "alp"})).json()
    assert [a["id"] for a in by_q] == [alpha["id"], gamma["id"]]
    inactive = (await any_admin.get(APPS, params={"filter": 'status eq "INACTIVE"'})).json()
    assert [a["id"] for a in inactive] == [beta["id"]]
    for item in (await any_admin.get(APPS)).json():
        sdk_app(item)
    seen: list[str] = []
    url: str | None = f"{APPS}?limit=1"
    while url:
        response = await any_admin.get(url)
        seen += [a["id"] for a in response.json()]
        match = re.search(r'<([^>]+)>; rel="next"', response.headers["link"])
        url = match.group(1) if match else None
    assert seen == [alpha["id"], beta["id"], gamma["id"]]


async def test_bad_filter_is_e0000031(admin: httpx.AsyncClient) -> None:
    response = await admin.get(APPS, params={"filter": 'label sw "x"'})
    assert response.status_code == 400
    assert response.json()["errorCode"] == "E0000031"


# --- replace ---------------------------------------------------------------------------------


async def test_put_with_only_a_label_keeps_settings_and_secrets(any_admin: httpx.AsyncClient) -> None:
    """Okta's OpenidConnectPutEx: name, label and signOnMode only."""
    app = await create_app(any_admin)
    body = {"name": "oidc_client", "label": "Sample Client profile updated", "signOnMode": "OPENID_CONNECT"}
    response = await any_admin.put(f"{APPS}/{app['id']}", json=body)
    assert response.status_code == 200
    updated = response.json()
    assert updated["label"] == "Sample Client profile updated"
    assert updated["settings"]["oauthClient"] == app["settings"]["oauthClient"]
    assert "client_secret" not in updated["credentials"]["oauthClient"]
    secrets = (await any_admin.get(f"{APPS}/{app['id']}/credentials/secrets")).json()
    assert len(secrets) == 1
    sdk_app(updated)


async def test_put_of_a_fetched_app_round_trips_keys_and_settings(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin, key_app(rsa_jwk("a", kid="a"), rsa_jwk("b", kid="b")))
    fetched = (await any_admin.get(f"{APPS}/{app['id']}")).json()
    fetched["label"] = "Renamed"
    fetched["settings"]["oauthClient"]["jwks"]["keys"].pop()
    response = await any_admin.put(f"{APPS}/{app['id']}", json=fetched)
    assert response.status_code == 200, response.text
    keys = response.json()["settings"]["oauthClient"]["jwks"]["keys"]
    assert [k["id"] for k in keys] == [app["settings"]["oauthClient"]["jwks"]["keys"][0]["id"]]
    assert response.json()["label"] == "Renamed"


async def test_put_with_invalid_settings_changes_nothing(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin)
    bad = oidc_app(redirects=["http://evil.example.com/cb"], label="Changed")
    response = await any_admin.put(f"{APPS}/{app['id']}", json=bad)
    assert response.status_code == 400
    after = (await any_admin.get(f"{APPS}/{app['id']}")).json()
    assert after["label"] == app["label"]
    assert after["lastUpdated"] == app["lastUpdated"]
    assert await events(any_admin, "application.lifecycle.update") == []


async def test_put_to_a_secret_method_shows_the_new_secret_once(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin, oidc_app("native", method="none"))
    body = oidc_app("native", method="client_secret_post")
    updated = (await admin.put(f"{APPS}/{app['id']}", json=body)).json()
    secret = updated["credentials"]["oauthClient"]["client_secret"]
    assert len(secret) >= 40
    again = (await admin.put(f"{APPS}/{app['id']}", json=body)).json()
    assert "client_secret" not in again["credentials"]["oauthClient"]


async def test_put_to_private_key_jwt_drops_the_secrets(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin, service_app())
    response = await admin.put(f"{APPS}/{app['id']}", json=key_app(rsa_jwk(kid="k")))
    assert response.status_code == 200
    assert (await admin.get(f"{APPS}/{app['id']}/credentials/secrets")).json() == []


async def test_put_of_an_unknown_app_is_404(admin: httpx.AsyncClient) -> None:
    assert (await admin.put(f"{APPS}/0oa00000000000000000", json=oidc_app())).status_code == 404


# --- lifecycle and delete --------------------------------------------------------------------


async def test_deactivate_and_activate_answer_an_empty_object(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin)
    deactivated = await any_admin.post(f"{APPS}/{app['id']}/lifecycle/deactivate")
    assert (deactivated.status_code, deactivated.json()) == (200, {})
    assert (await any_admin.get(f"{APPS}/{app['id']}")).json()["status"] == "INACTIVE"
    activated = await any_admin.post(f"{APPS}/{app['id']}/lifecycle/activate")
    assert (activated.status_code, activated.json()) == (200, {})
    assert (await any_admin.get(f"{APPS}/{app['id']}")).json()["status"] == "ACTIVE"


async def test_an_active_app_cannot_be_deleted(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin)
    refused = await any_admin.delete(f"{APPS}/{app['id']}")
    assert refused.status_code == 403
    assert refused.json()["errorCode"] == "E0000056"
    assert (await any_admin.get(f"{APPS}/{app['id']}")).status_code == 200
    await any_admin.post(f"{APPS}/{app['id']}/lifecycle/deactivate")
    deleted = await any_admin.delete(f"{APPS}/{app['id']}")
    assert deleted.status_code == 204 and deleted.content == b""
    assert (await any_admin.get(f"{APPS}/{app['id']}")).status_code == 404


async def test_deleting_an_app_deletes_its_secrets_keys_grants_and_assignments(
    any_admin: httpx.AsyncClient,
) -> None:
    app = await create_app(any_admin, key_app(rsa_jwk(kid="k")))
    user = (await create_user(any_admin)).json()
    await any_admin.post(f"{APPS}/{app['id']}/users", json={"id": user["id"]})
    await any_admin.post(f"{APPS}/{app['id']}/grants", json={"issuer": ORG_URL, "scopeId": "okta.users.read"})
    await any_admin.post(f"{APPS}/{app['id']}/lifecycle/deactivate")
    assert (await any_admin.delete(f"{APPS}/{app['id']}")).status_code == 204
    assert (await any_admin.get(f"/api/v1/users/{user['id']}")).status_code == 200


async def test_app_writes_are_in_the_system_log(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin)
    await admin.post(f"{APPS}/{app['id']}/lifecycle/deactivate")
    await admin.delete(f"{APPS}/{app['id']}")
    for event_type in (
        "application.lifecycle.create",
        "application.lifecycle.deactivate",
        "application.lifecycle.delete",
    ):
        found = await events(admin, event_type)
        assert [e["target"][0]["id"] for e in found] == [app["id"]], event_type
    assert app["credentials"]["oauthClient"]["client_secret"] not in (await admin.get("/api/v1/logs")).text


async def test_deactivation_takes_effect_at_once_for_the_token_endpoint(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token) as admin:
        app = await create_app(admin, service_app())
        async with server.rt.db.session() as session:
            org = await orgs.ensure_default(session)
            assert await apps_domain.get_active_client(session, org.id, app["id"]) is not None
        await admin.post(f"{APPS}/{app['id']}/lifecycle/deactivate")
        async with server.rt.db.session() as session:
            assert await apps_domain.get_active_client(session, org.id, app["id"]) is None
        await admin.post(f"{APPS}/{app['id']}/lifecycle/activate")
        async with server.rt.db.session() as session:
            client = await apps_domain.get_active_client(session, org.id, app["id"])
    assert client is not None and client.grant_types == ("client_credentials",)


# --- client secrets --------------------------------------------------------------------------


async def test_secrets_are_listed_masked_and_parse_with_the_sdk(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin)
    secrets = (await any_admin.get(f"{APPS}/{app['id']}/credentials/secrets")).json()
    assert len(secrets) == 1
    secret = secrets[0]
    assert re.fullmatch(r"ocs[0-9A-Za-z]{17}", secret["id"])
    assert secret["status"] == "ACTIVE"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", secret["secret_hash"])
    OAuth2ClientSecret.from_dict(secret)
    single = (await any_admin.get(f"{APPS}/{app['id']}/credentials/secrets/{secret['id']}")).json()
    assert single == secret


async def test_a_second_secret_is_shown_once_and_a_third_is_refused(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin)
    created = await any_admin.post(f"{APPS}/{app['id']}/credentials/secrets")
    assert created.status_code == 201
    value = created.json()["client_secret"]
    assert len(value) >= 40
    OAuth2ClientSecret.from_dict(created.json())
    listed = await any_admin.get(f"{APPS}/{app['id']}/credentials/secrets")
    assert value not in listed.text
    third = await any_admin.post(f"{APPS}/{app['id']}/credentials/secrets", json={})
    assert third.status_code == 400
    assert causes(third) == ["You've reached the maximum number of client secrets per client."]
    assert len((await any_admin.get(f"{APPS}/{app['id']}/credentials/secrets")).json()) == 2


async def test_custom_secrets_follow_okta_rules(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin)
    url = f"{APPS}/{app['id']}/credentials/secrets"
    short = await admin.post(url, json={"client_secret": "too-short"})
    assert short.status_code == 400
    assert "must be at least '14' characters long" in causes(short)[0]
    non_ascii = await admin.post(url, json={"client_secret": "ünïcödé-secret-value"})
    assert non_ascii.status_code == 400
    good = await admin.post(url, json={"client_secret": "my-own-secret-value-123", "status": "INACTIVE"})
    assert good.status_code == 201
    assert good.json()["client_secret"] == "my-own-secret-value-123"
    assert good.json()["status"] == "INACTIVE"


async def test_secret_lifecycle_rules(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin)
    url = f"{APPS}/{app['id']}/credentials/secrets"
    first = (await any_admin.get(url)).json()[0]
    only = await any_admin.post(f"{url}/{first['id']}/lifecycle/deactivate")
    assert only.status_code == 400
    assert causes(only) == ["You can't deactivate the only active client secret."]
    second = (await any_admin.post(url)).json()
    deactivated = await any_admin.post(f"{url}/{first['id']}/lifecycle/deactivate")
    assert deactivated.status_code == 200
    assert deactivated.json()["status"] == "INACTIVE"
    assert deactivated.json()["client_secret"].startswith("***")
    active_delete = await any_admin.delete(f"{url}/{second['id']}")
    assert active_delete.status_code == 400
    assert "Deactivate the secret before deleting it" in causes(active_delete)[0]
    reactivated = await any_admin.post(f"{url}/{first['id']}/lifecycle/activate")
    assert reactivated.json()["status"] == "ACTIVE"
    await any_admin.post(f"{url}/{second['id']}/lifecycle/deactivate")
    assert (await any_admin.delete(f"{url}/{second['id']}")).status_code == 204
    assert [s["id"] for s in (await any_admin.get(url)).json()] == [first["id"]]


async def test_secrets_are_refused_for_private_key_jwt_apps(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin, key_app(rsa_jwk(kid="k")))
    response = await admin.post(f"{APPS}/{app['id']}/credentials/secrets")
    assert response.status_code == 400
    assert "private_key_jwt" in causes(response)[0]


async def test_unknown_secret_is_404(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin)
    response = await admin.get(f"{APPS}/{app['id']}/credentials/secrets/ocs00000000000000000")
    assert response.status_code == 404


# --- client JWKs -----------------------------------------------------------------------------


async def test_jwks_add_get_deactivate_delete(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin, key_app(rsa_jwk("a", kid="a")))
    url = f"{APPS}/{app['id']}/credentials/jwks"
    added = await any_admin.post(url, json=ec_jwk("b", kid="b"))
    assert added.status_code == 201
    key = added.json()
    assert (key["kid"], key["kty"], key["alg"], key["use"], key["status"]) == (
        "b",
        "EC",
        "ES256",
        "sig",
        "ACTIVE",
    )
    ListJwk200ResponseInner.from_dict(key)
    assert (await any_admin.get(f"{url}/{key['id']}")).json() == key
    listed = (await any_admin.get(url)).json()
    assert [k["kid"] for k in listed] == ["a", "b"]
    for item in listed:
        ListJwk200ResponseInner.from_dict(item)
    refused = await any_admin.delete(f"{url}/{key['id']}")
    assert refused.status_code == 400
    deactivated = await any_admin.post(f"{url}/{key['id']}/lifecycle/deactivate")
    assert deactivated.json()["status"] == "INACTIVE"
    assert (await any_admin.delete(f"{url}/{key['id']}")).status_code == 204
    assert [k["kid"] for k in (await any_admin.get(url)).json()] == ["a"]


async def test_the_only_key_of_a_private_key_jwt_app_stays_active(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin, key_app(rsa_jwk(kid="only")))
    key_id = app["settings"]["oauthClient"]["jwks"]["keys"][0]["id"]
    response = await admin.post(f"{APPS}/{app['id']}/credentials/jwks/{key_id}/lifecycle/deactivate")
    assert response.status_code == 400
    assert "only active JSON Web Key" in causes(response)[0]


@pytest.mark.parametrize(
    "jwk",
    [
        rsa_jwk("dup", kid="a"),
        rsa_jwk("nokid"),
        {**rsa_jwk("enc", kid="enc"), "use": "enc"},
        {**RSAAlgorithm.to_jwk(rsa_private("priv"), as_dict=True), "kid": "priv"},
        {"kty": "RSA", "kid": "junk", "n": "!!", "e": "AQAB"},
        [rsa_jwk("list", kid="list")],
    ],
    ids=["duplicate kid", "no kid beside a kid", "encryption key", "private key", "junk", "not an object"],
)
async def test_bad_keys_are_refused_and_add_nothing(admin: httpx.AsyncClient, jwk: Any) -> None:
    app = await create_app(admin, key_app(rsa_jwk("a", kid="a")))
    url = f"{APPS}/{app['id']}/credentials/jwks"
    response = await admin.post(url, json=jwk)
    assert response.status_code == 400
    assert response.json()["errorCode"] in ("E0000001", "E0000003")
    assert len((await admin.get(url)).json()) == 1


# --- assignments -----------------------------------------------------------------------------


async def test_assign_get_list_and_unassign_a_user(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin)
    user = (await create_user(any_admin)).json()
    url = f"{APPS}/{app['id']}/users"
    assigned = await any_admin.post(url, json={"id": user["id"], "scope": "USER"})
    assert assigned.status_code == 200
    body = assigned.json()
    assert (body["id"], body["scope"], body["credentials"]["userName"]) == (
        user["id"],
        "USER",
        "ann.lee@example.com",
    )
    AppUser.from_dict(body)
    assert (await any_admin.get(f"{url}/{user['id']}")).json()["id"] == user["id"]
    assert [u["id"] for u in (await any_admin.get(url)).json()] == [user["id"]]
    removed = await any_admin.delete(f"{url}/{user['id']}")
    assert removed.status_code == 204
    assert (await any_admin.get(f"{url}/{user['id']}")).status_code == 404
    assert (await any_admin.get(url)).json() == []
    assert [e["eventType"] for e in await events(any_admin, "application.user_membership.add")] == [
        "application.user_membership.add"
    ]


async def test_assigning_an_unknown_user_is_404_and_a_missing_id_400(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin)
    url = f"{APPS}/{app['id']}/users"
    assert (await admin.post(url, json={"id": "00u00000000000000000"})).status_code == 404
    missing = await admin.post(url, json={"scope": "USER"})
    assert missing.status_code == 400
    assert missing.json()["errorCode"] == "E0000001"
    assert (await admin.get(url)).json() == []


async def test_a_group_assignment_assigns_its_members(any_admin: httpx.AsyncClient) -> None:
    app = await create_app(any_admin)
    group = (await create_group(any_admin)).json()
    member = (await create_user(any_admin, "mem.ber@example.com")).json()
    outsider = (await create_user(any_admin, "out.sider@example.com")).json()
    await any_admin.put(f"/api/v1/groups/{group['id']}/users/{member['id']}")
    assigned = await any_admin.put(f"{APPS}/{app['id']}/groups/{group['id']}", json={})
    assert assigned.status_code == 200
    assert (assigned.json()["id"], assigned.json()["priority"]) == (group["id"], 0)
    ApplicationGroupAssignment.from_dict(assigned.json())
    users = (await any_admin.get(f"{APPS}/{app['id']}/users")).json()
    assert [(u["id"], u["scope"]) for u in users] == [(member["id"], "GROUP")]
    AppUser.from_dict(users[0])
    assert (await any_admin.get(f"{APPS}/{app['id']}/users/{outsider['id']}")).status_code == 404
    through_group = await any_admin.delete(f"{APPS}/{app['id']}/users/{member['id']}")
    assert through_group.status_code == 403
    groups = (await any_admin.get(f"{APPS}/{app['id']}/groups")).json()
    assert [g["id"] for g in groups] == [group["id"]]
    assert (await any_admin.delete(f"{APPS}/{app['id']}/groups/{group['id']}")).status_code == 204
    assert (await any_admin.get(f"{APPS}/{app['id']}/users")).json() == []


async def test_assigning_everyone_assigns_every_user(server: Server) -> None:
    token = await server.create_token()
    async with server.client(token) as admin:
        app = await create_app(admin)
        user = (await create_user(admin)).json()
        everyone = (await admin.get("/api/v1/groups", params={"q": "Everyone"})).json()[0]
        await admin.put(f"{APPS}/{app['id']}/groups/{everyone['id']}")
        users = (await admin.get(f"{APPS}/{app['id']}/users")).json()
    assert [u["id"] for u in users] == [user["id"]]
    async with server.rt.db.session() as session:
        org = await orgs.ensure_default(session)
        assert await apps_domain.is_user_assigned(session, org.id, app["id"], user["id"])


async def test_group_assignment_priority_and_bad_input(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin)
    first = (await create_group(admin, "first")).json()
    second = (await create_group(admin, "second")).json()
    await admin.put(f"{APPS}/{app['id']}/groups/{first['id']}")
    assert (await admin.put(f"{APPS}/{app['id']}/groups/{second['id']}")).json()["priority"] == 1
    bad = await admin.put(f"{APPS}/{app['id']}/groups/{first['id']}", json={"priority": "high"})
    assert bad.status_code == 400
    unknown = await admin.put(f"{APPS}/{app['id']}/groups/00g00000000000000000")
    assert unknown.status_code == 404
    named = (await admin.get(f"{APPS}/{app['id']}/groups", params={"q": "sec"})).json()
    assert [g["id"] for g in named] == [second["id"]]


# --- grants ----------------------------------------------------------------------------------


async def test_grant_an_okta_scope_and_revoke_it(any_server: Server) -> None:
    token = await any_server.create_token()
    async with any_server.client(token) as admin:
        app = await create_app(admin, service_app())
        url = f"{APPS}/{app['id']}/grants"
        created = await admin.post(url, json={"issuer": ORG_URL, "scopeId": "okta.users.read"})
        assert created.status_code == 201
        grant = created.json()
        assert (grant["scopeId"], grant["issuer"], grant["clientId"], grant["source"]) == (
            "okta.users.read",
            ORG_URL,
            app["id"],
            "ADMIN",
        )
        OAuth2ScopeConsentGrant.from_dict(grant)
        assert (await admin.get(f"{url}/{grant['id']}")).json() == grant
        assert [g["id"] for g in (await admin.get(url)).json()] == [grant["id"]]
        async with any_server.rt.db.session() as session:
            org = await orgs.ensure_default(session)
            granted = await apps_domain.granted_scopes_for(session, org.id, app["id"], ORG_URL)
        assert granted == frozenset({"okta.users.read"})
        assert [e["target"][1]["id"] for e in await events(admin, "app.oauth2.as.consent.grant")] == [
            grant["id"]
        ]
        assert (await admin.delete(f"{url}/{grant['id']}")).status_code == 204
        assert (await admin.get(url)).json() == []
        async with any_server.rt.db.session() as session:
            assert await apps_domain.granted_scopes_for(session, org.id, app["id"], ORG_URL) == frozenset()


async def test_granting_the_same_scope_twice_returns_the_grant(admin: httpx.AsyncClient) -> None:
    app = await create_app(admin, service_app())
    url = f"{APPS}/{app['id']}/grants"
    first = (await admin.post(url, json={"issuer": ORG_URL, "scopeId": "okta.apps.read"})).json()
    second = (await admin.post(url, json={"issuer": ORG_URL + "/", "scopeId": "okta.apps.read"})).json()
    assert first["id"] == second["id"]
    assert len((await admin.get(url)).json()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"issuer": ORG_URL, "scopeId": "okta.unicorns.read"}, "scopeId"),
        ({"issuer": ORG_URL, "scopeId": "openid"}, "scopeId"),
        ({"issuer": "https://evil.example.com", "scopeId": "okta.users.read"}, "issuer"),
        ({"issuer": f"{ORG_URL}/oauth2/default", "scopeId": "okta.users.read"}, "issuer"),
        ({"scopeId": "okta.users.read"}, "issuer"),
        ({"issuer": ORG_URL, "scopeId": 7}, "scopeId"),
    ],
)
async def test_bad_grants_are_refused_and_grant_nothing(
    admin: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    app = await create_app(admin, service_app())
    url = f"{APPS}/{app['id']}/grants"
    response = await admin.post(url, json=body)
    assert response.status_code == 400
    assert response.json()["errorSummary"] == f"Api validation failed: {field}"
    assert (await admin.get(url)).json() == []


async def test_grants_of_an_unknown_app_are_404(admin: httpx.AsyncClient) -> None:
    response = await admin.post(
        f"{APPS}/0oa00000000000000000/grants", json={"issuer": ORG_URL, "scopeId": "okta.users.read"}
    )
    assert response.status_code == 404


def test_sdk_models_are_strict_about_what_they_parse() -> None:
    """Guard for the tests above: a short client_id makes the SDK refuse a response."""
    body = {
        "label": "x",
        "name": "oidc_client",
        "signOnMode": "OPENID_CONNECT",
        "credentials": {"oauthClient": {"client_id": "abc"}},
        "settings": {"oauthClient": {"grant_types": ["client_credentials"]}},
    }
    with pytest.raises(ValueError):
        Application.from_dict(copy.deepcopy(body))
