"""The access gateway's /api/v2 admin API, driven end to end: a real ``ostiary access-gateway``
process, an API client from ``api-client create``, the seed's client assertion, and a real
``ostiary serve`` org in which the gateway keeps each app's OIDC web app."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.e2e.oag_admin import (
    AccessGateway,
    access_gateway,
    access_token,
    admin_session,
    seed_assertion,
    token_request,
)
from tests.e2e.servers import OrgServer

ALL_DEFAULT = "okta.oag.app.manage okta.oag.app.read okta.oag.cert.read okta.oag.idp.manage okta.oag.idp.read"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AccessGateway]:
    with access_gateway(Path(tmp_path_factory.mktemp("oag"))) as running_gateway:
        yield running_gateway


@pytest.fixture(scope="module")
def client(gateway: AccessGateway) -> dict[str, Any]:
    return gateway.create_client("operator")


@pytest.fixture(scope="module")
def admin(client: dict[str, Any]) -> requests.Session:
    return admin_session(client)


@pytest.fixture(scope="module")
def org_session(org: OrgServer) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Authorization": f"SSWS {org.create_token('oag')}", "Accept": "application/json"})
    return session


@pytest.fixture(scope="module")
def org_token(org: OrgServer) -> str:
    return org.create_token("oag-idp")


@pytest.fixture(scope="module")
def groups(org: OrgServer, org_session: requests.Session) -> list[str]:
    ids = []
    for name in ("Legacy Users", "Legacy Admins"):
        created = org_session.post(f"{org.url}/api/v1/groups", json={"profile": {"name": name}})
        assert created.status_code == 200, created.text
        ids.append(created.json()["id"])
    return ids


@pytest.fixture(scope="module")
def idp(gateway: AccessGateway, admin: requests.Session, org: OrgServer, org_token: str) -> dict[str, Any]:
    created = admin.post(
        f"{gateway.url}/api/v2/idps",
        json={
            "name": "Ostiary org",
            "description": "e2e",
            "type": "IDP_OKTA",
            "domain": org.url,
            "apiToken": org_token,
        },
    )
    assert created.status_code == 200, created.text
    body: dict[str, Any] = created.json()
    return body


@pytest.fixture(scope="module")
def certificate_id(gateway: AccessGateway, admin: requests.Session) -> str:
    listed = admin.get(f"{gateway.url}/api/v2/certificates")
    assert listed.status_code == 200, listed.text
    return str(listed.json()[0]["id"])


def app_body(idp: dict[str, Any], certificate_id: str, name: str, **overrides: Any) -> dict[str, Any]:
    body = {
        "type": "OAG_HEADER_BASED",
        "label": f"Legacy {name}",
        "description": "Header site",
        "idpId": idp["id"],
        "publicDomain": f"{name}.localhost",
        "postLoginUrl": f"http://{name}.localhost/landing",
        "groups": [],
        "certificateId": certificate_id,
        "loadBalanced": False,
        **overrides,
    }
    return body


def create_app(gateway: AccessGateway, admin: requests.Session, body: dict[str, Any]) -> dict[str, Any]:
    created = admin.post(f"{gateway.url}/api/v2/apps", json=body)
    assert created.status_code == 200, created.text
    app: dict[str, Any] = created.json()
    return app


def assert_error(response: requests.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["errorCode"] == code
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["details"], dict)
    return body


# --- the token endpoint -------------------------------------------------------------------


def test_the_seeds_exact_assertion_gets_an_access_token(client: dict[str, Any]) -> None:
    assertion = seed_assertion(client, "okta.oag.idp.read okta.oag.app.read")
    assert jwt.get_unverified_header(assertion) == {"alg": "RS256", "typ": "JWT"}
    response = token_request(client, assertion, "okta.oag.idp.read okta.oag.app.read")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "okta.oag.idp.read okta.oag.app.read"
    assert body["access_token"]


def test_api_client_create_prints_what_an_operator_needs(
    gateway: AccessGateway, client: dict[str, Any]
) -> None:
    assert set(client) == {"client_id", "private_key_pem", "kid", "token_url", "audience", "scopes"}
    assert client["audience"] == gateway.url
    assert client["token_url"] == f"{gateway.url}/api/v2/oauth/token"
    assert " ".join(client["scopes"]) == ALL_DEFAULT
    uuid.UUID(client["client_id"])
    stored = b"".join(path.read_bytes() for path in gateway.data_dir.iterdir() if path.is_file())
    assert client["private_key_pem"].splitlines()[1].encode() not in stored


def test_a_replayed_assertion_without_jti_is_refused(client: dict[str, Any]) -> None:
    assertion = seed_assertion(client, "okta.oag.app.read")
    assert token_request(client, assertion, "okta.oag.app.read").status_code == 200
    assert_error(token_request(client, assertion, "okta.oag.app.read"), 401, "UNAUTHORIZED")


def test_a_reused_jti_is_refused(client: dict[str, Any]) -> None:
    jti = str(uuid.uuid4())
    first = seed_assertion(client, "okta.oag.app.read", jti=jti)
    second = seed_assertion(client, "okta.oag.app.read", jti=jti, iat=int(time.time()) - 1)
    assert first != second
    assert token_request(client, first, "okta.oag.app.read").status_code == 200
    assert_error(token_request(client, second, "okta.oag.app.read"), 401, "UNAUTHORIZED")


def _other_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize(
    "case",
    [
        "wrong_audience",
        "exp_more_than_an_hour_away",
        "expired",
        "iat_in_the_future",
        "no_scope_claim",
        "signed_by_another_key",
        "hs256",
        "unknown_client",
        "iss_differs_from_sub",
        "scope_beyond_the_assertion",
        "unknown_scope",
        "wrong_grant_type",
    ],
)
def test_a_bad_assertion_is_a_401_with_the_spec_error_body(client: dict[str, Any], case: str) -> None:
    now = int(time.time())
    scope = "okta.oag.app.read"
    form_scope = scope
    claims: dict[str, Any] = {}
    signer = client
    if case == "wrong_audience":
        claims["aud"] = "https://elsewhere.example"
    elif case == "exp_more_than_an_hour_away":
        claims["exp"] = now + 3600 + 120
    elif case == "expired":
        claims["exp"] = now - 60
    elif case == "iat_in_the_future":
        claims["iat"] = now + 600
    elif case == "no_scope_claim":
        claims["scope"] = None
    elif case == "signed_by_another_key":
        signer = {**client, "private_key_pem": _other_key_pem()}
    elif case == "unknown_client":
        claims["iss"] = claims["sub"] = str(uuid.uuid4())
    elif case == "iss_differs_from_sub":
        claims["sub"] = "someone-else"
    elif case == "scope_beyond_the_assertion":
        form_scope = "okta.oag.app.read okta.oag.app.manage"
    elif case == "unknown_scope":
        claims["scope"] = form_scope = "okta.oag.everything"
    if case == "hs256":
        payload = {"iss": client["client_id"], "sub": client["client_id"], "aud": client["audience"]}
        assertion = jwt.encode({**payload, "exp": now + 300, "scope": scope}, "k" * 32, algorithm="HS256")
    else:
        assertion = seed_assertion(signer, claims.pop("scope", scope), **claims)
    response = token_request(client, assertion, form_scope)
    if case == "wrong_grant_type":
        response = requests.post(
            client["token_url"],
            data={"grant_type": "password", "client_assertion_type": "x", "client_assertion": assertion},
            timeout=10,
        )
    assert_error(response, 401, "UNAUTHORIZED")


def test_scopes_beyond_the_clients_are_refused(gateway: AccessGateway) -> None:
    reader = gateway.create_client("reader", "okta.oag.app.read")
    assert reader["scopes"] == ["okta.oag.app.read"]
    scope = "okta.oag.app.read okta.oag.app.manage"
    assert_error(token_request(reader, seed_assertion(reader, scope), scope), 401, "UNAUTHORIZED")


# --- bearer authorization -----------------------------------------------------------------


def test_calls_without_a_valid_token_are_401(gateway: AccessGateway) -> None:
    url = f"{gateway.url}/api/v2/apps"
    assert_error(requests.get(url, timeout=10), 401, "UNAUTHORIZED")
    assert_error(
        requests.get(url, headers={"Authorization": "Bearer oag.forged"}, timeout=10), 401, "UNAUTHORIZED"
    )
    assert_error(
        requests.get(url, headers={"Authorization": "Basic dXNlcjpwdw=="}, timeout=10), 401, "UNAUTHORIZED"
    )


def test_a_token_without_the_operations_scope_is_403(gateway: AccessGateway, client: dict[str, Any]) -> None:
    reader = admin_session(client, "okta.oag.app.read")
    assert reader.get(f"{gateway.url}/api/v2/apps").status_code == 200
    body = assert_error(reader.post(f"{gateway.url}/api/v2/apps", json={}), 403, "FORBIDDEN")
    assert body["details"] == {"requiredScope": "okta.oag.app.manage"}
    assert_error(reader.get(f"{gateway.url}/api/v2/idps"), 403, "FORBIDDEN")
    assert_error(reader.get(f"{gateway.url}/api/v2/certificates"), 403, "FORBIDDEN")


def test_the_bare_token_is_accepted_as_the_seed_wording_allows(
    gateway: AccessGateway, client: dict[str, Any]
) -> None:
    token = access_token(client, "okta.oag.cert.read")
    response = requests.get(
        f"{gateway.url}/api/v2/certificates", headers={"Authorization": token}, timeout=10
    )
    assert response.status_code == 200, response.text


# --- certificates -------------------------------------------------------------------------


def test_the_public_hosts_self_signed_certificate_is_listed(
    gateway: AccessGateway, admin: requests.Session
) -> None:
    listed = admin.get(f"{gateway.url}/api/v2/certificates").json()
    assert len(listed) == 1
    cert = listed[0]
    assert cert["commonName"] == "localhost"
    assert cert["selfSigned"] is True
    assert cert["san"] == ["localhost"]
    assert cert["validityRemaining"] > 800
    assert admin.get(f"{gateway.url}/api/v2/certificates/{cert['id']}").json() == cert
    assert_error(admin.get(f"{gateway.url}/api/v2/certificates/{uuid.uuid4()}"), 404, "NOT_FOUND")


# --- IdPs ---------------------------------------------------------------------------------


def test_an_idp_never_shows_its_api_token(
    gateway: AccessGateway, admin: requests.Session, idp: dict[str, Any], org: OrgServer, org_token: str
) -> None:
    assert idp["type"] == "IDP_OKTA"
    assert idp["domain"] == org.url
    assert idp["validationStatus"]["valid"] is True
    assert "apiToken" not in idp
    uuid.UUID(idp["id"])
    fetched = admin.get(f"{gateway.url}/api/v2/idps/{idp['id']}")
    assert fetched.json() == idp
    assert org_token not in fetched.text
    assert org_token not in admin.get(f"{gateway.url}/api/v2/idps").text
    assert any(item["id"] == idp["id"] for item in admin.get(f"{gateway.url}/api/v2/idps").json())
    stored = b"".join(path.read_bytes() for path in gateway.data_dir.rglob("*") if path.is_file())
    assert org_token.encode() not in stored


def test_idp_crud_with_a_host_domain(
    gateway: AccessGateway, admin: requests.Session, org: OrgServer, org_session: requests.Session
) -> None:
    token = org.create_token("second")
    host = org.url.removeprefix("https://")
    created = admin.post(
        f"{gateway.url}/api/v2/idps",
        json={"name": "By host", "type": "IDP_OKTA", "domain": host, "apiToken": token},
    )
    assert created.status_code == 200, created.text
    idp_id = created.json()["id"]
    assert created.json()["validationStatus"]["valid"] is True  # a bare host means https
    replaced = admin.put(f"{gateway.url}/api/v2/idps/{idp_id}", json={"name": "Renamed", "description": "d"})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["name"] == "Renamed"
    assert replaced.json()["description"] == "d"
    assert admin.delete(f"{gateway.url}/api/v2/idps/{idp_id}").status_code == 204
    assert_error(admin.get(f"{gateway.url}/api/v2/idps/{idp_id}"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {"type": "IDP_OKTA", "domain": "not a host/", "apiToken": "x"},
        {"type": "IDP_OKTA", "domain": "idp.example.com", "apiToken": 42},
        {"type": "IDP_OKTA", "domain": "idp.example.com", "apiToken": "x", "surprise": True},
        {"type": "IDP_OKTA", "domain": "idp.example.com"},
        {"type": "IDP_AUTH0", "domain": "a.example.com", "tenant": "t", "clientId": "c", "clientSecret": "s"},
    ],
)
def test_bad_idp_bodies_are_400_and_change_nothing(
    gateway: AccessGateway, admin: requests.Session, idp: dict[str, Any], body: dict[str, Any]
) -> None:
    before = admin.get(f"{gateway.url}/api/v2/idps").json()
    assert_error(admin.post(f"{gateway.url}/api/v2/idps", json=body), 400, "BAD_REQUEST")
    assert admin.get(f"{gateway.url}/api/v2/idps").json() == before


def test_an_api_token_the_org_refuses_is_400(
    gateway: AccessGateway, admin: requests.Session, org: OrgServer
) -> None:
    body = {"type": "IDP_OKTA", "domain": f"{org.url}/", "apiToken": "00notatoken"}
    assert_error(admin.post(f"{gateway.url}/api/v2/idps", json=body), 400, "BAD_REQUEST")


# --- apps and the org's OIDC app ----------------------------------------------------------


def catalog_entry(gateway: AccessGateway, host: str) -> dict[str, Any]:
    """What the proxy gets for ``host``, read from the gateway's store as the proxy reads it."""
    from ostiary.access_gateway.admin.catalog import StoreAppCatalog
    from ostiary.access_gateway.runtime import make_config, open_runtime

    async def look_up() -> dict[str, Any] | None:
        runtime = open_runtime(make_config(port=gateway.port, data_dir=gateway.data_dir))
        try:
            return await StoreAppCatalog(runtime).app_for_host(host)
        finally:
            await runtime.close()

    found = asyncio.run(look_up())
    assert found is not None
    return found


def org_app_for(org: OrgServer, org_session: requests.Session, label: str) -> dict[str, Any] | None:
    for app in org_session.get(f"{org.url}/api/v1/apps?limit=200").json():
        if app["label"] == label:
            found: dict[str, Any] = app
            return found
    return None


def test_creating_an_app_makes_its_oidc_app_in_the_org(
    gateway: AccessGateway,
    admin: requests.Session,
    idp: dict[str, Any],
    certificate_id: str,
    org: OrgServer,
    org_session: requests.Session,
    groups: list[str],
) -> None:
    app = create_app(gateway, admin, app_body(idp, certificate_id, "synced", groups=groups[:1]))
    assert app["status"] == "CREATED"
    assert app["name"] == "legacysynced"
    uuid.UUID(app["id"])
    embedded = app["_embedded"]
    assert set(embedded) == {
        "healthCheck",
        "behavior",
        "session",
        "protectedResources",
        "policies",
        "attributes",
    }
    assert embedded["policies"][0]["resourcePath"] == "/" and embedded["policies"][0]["rule"] == "PROTECTED"
    assert embedded["session"]["idleSessionTimeout"] == 3600
    assert embedded["behavior"]["logoutPath"] == "/oagLogout"

    org_app = org_app_for(org, org_session, "Legacy synced")
    assert org_app is not None
    assert org_app["signOnMode"] == "OPENID_CONNECT"
    oauth = org_app["settings"]["oauthClient"]
    assert oauth["redirect_uris"] == [f"http://synced.localhost:{gateway.port}/_ostiary/callback"]
    assert oauth["post_logout_redirect_uris"] == [
        f"http://synced.localhost:{gateway.port}/_ostiary/signed-out"
    ]
    assert oauth["application_type"] == "web"
    assigned = org_session.get(f"{org.url}/api/v1/apps/{org_app['id']}/groups").json()
    assert [item["id"] for item in assigned] == groups[:1]

    replaced = admin.put(
        f"{gateway.url}/api/v2/apps/{app['id']}",
        json={"label": "Legacy synced", "publicDomain": "renamed.localhost", "groups": groups[1:]},
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["publicDomain"] == "renamed.localhost"
    assert "_embedded" not in replaced.json()
    org_app = org_session.get(f"{org.url}/api/v1/apps/{org_app['id']}").json()
    assert org_app["settings"]["oauthClient"]["redirect_uris"] == [
        f"http://renamed.localhost:{gateway.port}/_ostiary/callback"
    ]
    assigned = org_session.get(f"{org.url}/api/v1/apps/{org_app['id']}/groups").json()
    assert [item["id"] for item in assigned] == groups[1:]
    oidc = catalog_entry(gateway, "renamed.localhost")["ostiaryOidc"]
    assert oidc["groupNames"] == ["Legacy Admins"]  # the names ID tokens carry, for the proxy's check

    assert_error(
        admin.delete(f"{gateway.url}/api/v2/apps/{app['id']}"), 400, "BAD_REQUEST"
    )  # only INACTIVE apps go
    assert admin.post(f"{gateway.url}/api/v2/apps/{app['id']}/deactivate").status_code == 200
    assert admin.delete(f"{gateway.url}/api/v2/apps/{app['id']}").status_code == 204
    assert org_session.get(f"{org.url}/api/v1/apps/{org_app['id']}").status_code == 404
    assert_error(admin.get(f"{gateway.url}/api/v2/apps/{app['id']}"), 404, "NOT_FOUND")


@pytest.fixture(scope="module")
def app(
    gateway: AccessGateway, admin: requests.Session, idp: dict[str, Any], certificate_id: str
) -> dict[str, Any]:
    return create_app(
        gateway, admin, app_body(idp, certificate_id, "legacy", useDefaultHeadersAndPolicies=False)
    )


def test_without_defaults_an_app_has_no_attributes_or_policies(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any]
) -> None:
    assert app["_embedded"]["policies"] == []
    assert app["_embedded"]["attributes"] == []
    assert "useDefaultHeadersAndPolicies" not in app


def test_expand_embeds_only_the_parts_asked_for(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any]
) -> None:
    url = f"{gateway.url}/api/v2/apps/{app['id']}"
    assert "_embedded" not in admin.get(url).json()
    assert set(admin.get(url, params={"expand": "session,resources"}).json()["_embedded"]) == {
        "session",
        "protectedResources",
    }
    repeated = admin.get(url, params=[("expand", "behavior"), ("expand", "healthCheck")]).json()
    assert set(repeated["_embedded"]) == {"behavior", "healthCheck"}
    listed = admin.get(f"{gateway.url}/api/v2/apps", params={"expand": "policies"}).json()
    assert all(set(item["_embedded"]) == {"policies"} for item in listed)
    assert_error(admin.get(url, params={"expand": "everything"}), 400, "BAD_REQUEST")


def test_protected_resources_crud_with_weights(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any]
) -> None:
    base = f"{gateway.url}/api/v2/apps/{app['id']}/resources"
    first = admin.post(base, json={"hostname": "http://127.0.0.1:9001"})
    assert first.status_code == 200, first.text
    assert first.json()["assignedWeight"] == 1 and first.json()["active"] is True
    assert first.json()["calculatedWeight"] == 1
    second = admin.post(base, json={"hostname": "http://127.0.0.1:9002/", "assignedWeight": 3}).json()
    assert second["hostname"] == "http://127.0.0.1:9002"
    assert second["calculatedWeight"] == 0.75
    listed = admin.get(base).json()
    assert [r["calculatedWeight"] for r in listed] == [0.25, 0.75]
    replaced = admin.put(
        f"{base}/{second['id']}", json={"hostname": "http://127.0.0.1:9002", "active": False}
    )
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["calculatedWeight"] == 0
    assert admin.get(f"{base}/{first.json()['id']}").json()["calculatedWeight"] == 1
    assert admin.delete(f"{base}/{second['id']}").status_code == 204
    assert_error(admin.get(f"{base}/{second['id']}"), 404, "NOT_FOUND")
    assert_error(admin.delete(f"{base}/{second['id']}"), 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {"hostname": "app1.internal"},
        {"hostname": "http://app1.internal/some/path"},
        {"hostname": "http://app1.internal", "assignedWeight": "2"},
        {"hostname": "http://app1.internal", "assignedWeight": 101},
        {"hostname": "http://app1.internal", "color": "blue"},
        {},
    ],
)
def test_bad_protected_resources_are_400_and_change_nothing(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any], body: dict[str, Any]
) -> None:
    base = f"{gateway.url}/api/v2/apps/{app['id']}/resources"
    before = admin.get(base).json()
    assert_error(admin.post(base, json=body), 400, "BAD_REQUEST")
    assert admin.get(base).json() == before


def test_attributes_crud(gateway: AccessGateway, admin: requests.Session, app: dict[str, Any]) -> None:
    base = f"{gateway.url}/api/v2/apps/{app['id']}/attributes"
    created = admin.post(
        base, json={"name": "X-Remote-User", "source": "IDP", "value": "login", "type": "HEADER"}
    )
    assert created.status_code == 200, created.text
    attribute = created.json()
    assert attribute["active"] is True and attribute["multiValueProcessor"] == "SELECT_INDEX"
    groups = admin.post(
        base,
        json={
            "name": "X-Groups",
            "source": "AUTH_CONTEXT",
            "value": "groups",
            "type": "HEADER",
            "multiValueProcessor": "SELECT_ALL",
            "delimiter": ",",
        },
    ).json()
    assert [a["name"] for a in admin.get(base).json()] == ["X-Remote-User", "X-Groups"]
    replaced = admin.put(
        f"{base}/{groups['id']}",
        json={"name": "groups", "source": "AUTH_CONTEXT", "value": "groups", "type": "COOKIE"},
    )
    assert replaced.json()["type"] == "COOKIE"
    assert admin.get(f"{base}/{groups['id']}").json() == replaced.json()
    assert admin.delete(f"{base}/{groups['id']}").status_code == 204
    assert [a["id"] for a in admin.get(base).json()] == [attribute["id"]]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "X-A", "source": "WHEREVER", "value": "login", "type": "HEADER"},
        {"name": "X-A", "source": "IDP", "value": "login", "type": "HEADER", "index": 100},
        {"name": "X-A", "source": "IDP", "value": "login"},
        {"name": "X A", "source": "IDP", "value": "login", "type": "HEADER"},
        {"name": "X-A", "source": "IDP", "value": ["login"], "type": "HEADER"},
    ],
)
def test_bad_attributes_are_400_and_change_nothing(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any], body: dict[str, Any]
) -> None:
    base = f"{gateway.url}/api/v2/apps/{app['id']}/attributes"
    before = admin.get(base).json()
    assert_error(admin.post(base, json=body), 400, "BAD_REQUEST")
    assert admin.get(base).json() == before


def test_policies_crud(gateway: AccessGateway, admin: requests.Session, app: dict[str, Any]) -> None:
    base = f"{gateway.url}/api/v2/apps/{app['id']}/policies"
    root = admin.post(base, json={"name": "root", "resourcePath": "/", "rule": "PROTECTED"})
    assert root.status_code == 200, root.text
    assert root.json() == {
        "id": root.json()["id"],
        "name": "root",
        "resourcePath": "/",
        "rule": "PROTECTED",
        "description": "",
        "active": True,
        "regexRule": None,
        "caseSensitive": True,
        "customDirective": None,
    }
    public = admin.post(
        base, json={"name": "public", "resourcePath": "/public", "rule": "NO_AUTH", "caseSensitive": False}
    ).json()
    regex = admin.post(
        base,
        json={
            "name": "admins",
            "resourcePath": "/admin",
            "rule": "PROTECTED_REGEX",
            "regexRule": "^/admin/[a-z]+$",
        },
    )
    assert regex.status_code == 200, regex.text
    assert [p["name"] for p in admin.get(base).json()] == ["root", "public", "admins"]
    replaced = admin.put(
        f"{base}/{public['id']}", json={"name": "public", "resourcePath": "/pub", "rule": "NO_AUTH"}
    )
    assert replaced.json()["resourcePath"] == "/pub"
    assert admin.delete(f"{base}/{public['id']}").status_code == 204
    assert [p["name"] for p in admin.get(base).json()] == ["root", "admins"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "bad", "resourcePath": "/x", "rule": "PROTECTED_REGEX", "regexRule": "(unclosed"},
        {"name": "bad", "resourcePath": "/x", "rule": "PROTECTED_REGEX"},
        {"name": "bad", "resourcePath": "(", "rule": "CUSTOM"},
        {"name": "bad", "resourcePath": "x", "rule": "PROTECTED"},
        {"name": "bad", "resourcePath": "/x", "rule": "SOMETIMES"},
        {"name": "bad", "resourcePath": "/x", "rule": "PROTECTED", "caseSensitive": "yes"},
    ],
)
def test_bad_policies_are_400_and_change_nothing(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any], body: dict[str, Any]
) -> None:
    base = f"{gateway.url}/api/v2/apps/{app['id']}/policies"
    before = admin.get(base).json()
    assert_error(admin.post(base, json=body), 400, "BAD_REQUEST")
    assert admin.get(base).json() == before


def test_session_behavior_and_health_check_replace(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any]
) -> None:
    base = f"{gateway.url}/api/v2/apps/{app['id']}"
    session = admin.put(f"{base}/session", json={"idleSessionTimeout": 600, "maxSessionTimeout": 1200})
    assert session.status_code == 200, session.text
    assert session.json()["idleSessionTimeout"] == 600 and session.json()["deepLinking"] is True
    assert admin.get(f"{base}/session").json() == session.json()
    behavior = admin.put(
        f"{base}/behavior",
        json={"logoutPath": "/bye", "singleLogout": True, "postLogoutUrl": "http://legacy.localhost/"},
    )
    assert behavior.status_code == 200, behavior.text
    assert admin.get(f"{base}/behavior").json()["logoutPath"] == "/bye"
    check = admin.put(f"{base}/health-check", json={"enabled": True, "path": "/health", "interval": 5})
    assert check.status_code == 200, check.text
    assert admin.get(f"{base}/health-check").json() == {**check.json(), "path": "/health"}
    embedded = admin.get(base, params={"expand": "session,behavior,healthCheck"}).json()["_embedded"]
    assert embedded["session"]["idleSessionTimeout"] == 600
    assert embedded["behavior"]["singleLogout"] is True
    assert embedded["healthCheck"]["interval"] == 5


@pytest.mark.parametrize(
    ("segment", "body"),
    [
        ("session", {"idleSessionTimeout": 30}),
        ("session", {"idleSessionTimeout": 7200, "maxSessionTimeout": 3600}),
        ("session", {"idleSession": "true"}),
        ("behavior", {"policyDenied": "CUSTOM_URL"}),
        ("behavior", {"postLogoutUrl": "javascript:alert(1)"}),
        ("behavior", {"unknown": 1}),
        ("health-check", {"interval": 1}),
        ("health-check", {"method": "POST"}),
    ],
)
def test_bad_settings_are_400_and_change_nothing(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any], segment: str, body: dict[str, Any]
) -> None:
    url = f"{gateway.url}/api/v2/apps/{app['id']}/{segment}"
    before = admin.get(url).json()
    assert_error(admin.put(url, json=body), 400, "BAD_REQUEST")
    assert admin.get(url).json() == before


@pytest.mark.parametrize(
    "change",
    [
        {"publicDomain": "http://not-a-host/"},
        {"postLoginUrl": "not a url"},
        {"groups": "everyone"},
        {"maxFileSize": "big"},
        {"proxyReadTimeout": 0},
        {"fancy": True},
        {"type": "OAG_NOAUTH"},
        {"certificateId": str(uuid.uuid4())},
    ],
)
def test_bad_app_changes_are_400_and_change_nothing(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any], change: dict[str, Any]
) -> None:
    url = f"{gateway.url}/api/v2/apps/{app['id']}"
    before = admin.get(url).json()
    assert_error(admin.put(url, json=change), 400, "BAD_REQUEST")
    assert admin.get(url).json() == before


def test_bad_app_creations_are_400_and_create_nothing(
    gateway: AccessGateway,
    admin: requests.Session,
    idp: dict[str, Any],
    certificate_id: str,
    app: dict[str, Any],
) -> None:
    before = admin.get(f"{gateway.url}/api/v2/apps").json()
    bodies = [
        {k: v for k, v in app_body(idp, certificate_id, "nolabel").items() if k != "label"},
        app_body(idp, certificate_id, "dup", publicDomain="legacy.localhost"),
        app_body(idp, certificate_id, "saml", type="OAG_SAML"),
        app_body(idp, certificate_id, "noidp", idpId=str(uuid.uuid4())),
        app_body(idp, certificate_id, "badjson") | {"loadBalanced": "no"},
        app_body(idp, certificate_id, "admin", publicDomain="localhost"),
    ]
    for body in bodies:
        assert_error(admin.post(f"{gateway.url}/api/v2/apps", json=body), 400, "BAD_REQUEST")
    malformed = admin.post(
        f"{gateway.url}/api/v2/apps", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_error(malformed, 400, "BAD_REQUEST")
    assert admin.get(f"{gateway.url}/api/v2/apps").json() == before


def test_status_moves_through_activate_maintenance_deactivate(
    gateway: AccessGateway, admin: requests.Session, idp: dict[str, Any], certificate_id: str
) -> None:
    created = create_app(gateway, admin, app_body(idp, certificate_id, "status", type="OAG_NOAUTH"))
    assert [p["rule"] for p in created["_embedded"]["policies"]] == ["NO_AUTH"]
    url = f"{gateway.url}/api/v2/apps/{created['id']}"
    assert_error(admin.post(f"{url}/activate"), 400, "BAD_REQUEST")  # no protected resource yet
    admin.post(f"{url}/resources", json={"hostname": "http://127.0.0.1:9003"})
    for action, status in (
        ("activate", "ACTIVE"),
        ("maintenance", "MAINTENANCE"),
        ("deactivate", "INACTIVE"),
    ):
        response = admin.post(f"{url}/{action}")
        assert response.status_code == 200, response.text
        assert admin.get(url).json()["status"] == status
    assert_error(admin.post(f"{gateway.url}/api/v2/apps/{uuid.uuid4()}/activate"), 404, "NOT_FOUND")
    assert_error(admin.post(f"{gateway.url}/api/v2/apps/not-a-uuid/activate"), 404, "NOT_FOUND")


def test_an_idp_in_use_cannot_be_deleted(
    gateway: AccessGateway, admin: requests.Session, idp: dict[str, Any], app: dict[str, Any]
) -> None:
    assert_error(admin.delete(f"{gateway.url}/api/v2/idps/{idp['id']}"), 400, "BAD_REQUEST")
    assert admin.get(f"{gateway.url}/api/v2/idps/{idp['id']}").status_code == 200


# --- the authentication service -----------------------------------------------------------


def test_authentication_service_setting_and_health_check(
    gateway: AccessGateway, idp: dict[str, Any], certificate_id: str
) -> None:
    operator = gateway.create_client(
        "auth-service", "okta.oag.authenticationService.read", "okta.oag.authenticationService.manage"
    )
    session = admin_session(operator)
    url = f"{gateway.url}/api/v2/settings/authentication-service"
    default = session.get(url)
    assert default.status_code == 200, default.text
    assert default.json()["certificateId"] == certificate_id
    health = session.get(f"{url}/health-check").json()
    assert health["status"] == "HEALTHY"
    assert health["lastChecked"].endswith("Z")
    body = {
        "serverNodes": ["node1.localhost"],
        "publicDomain": "auth.localhost",
        "certificateId": certificate_id,
        "database": {
            "type": "mysql",
            "host": "db",
            "port": 3306,
            "name": "oag",
            "username": "u",
            "password": "p",
        },
    }
    enabled = session.post(url, json=body)
    assert enabled.status_code == 200, enabled.text
    assert "password" not in enabled.json()["database"] and "username" not in enabled.json()["database"]
    assert session.get(url).json() == enabled.json()
    assert_error(session.post(url, json={**body, "database": {"type": "oracle"}}), 400, "BAD_REQUEST")
    assert session.delete(url).status_code == 204
    assert session.get(url).json() == default.json()


# --- hosts --------------------------------------------------------------------------------


def test_unknown_hosts_are_404_and_an_app_not_yet_active_is_offline(
    gateway: AccessGateway, app: dict[str, Any]
) -> None:
    response = requests.get(f"{gateway.url}/", headers={"Host": "elsewhere.localhost"}, timeout=10)
    assert_error(response, 404, "NOT_FOUND")
    offline = requests.get(
        f"{gateway.url}/", headers={"Host": f"legacy.localhost:{gateway.port}"}, timeout=10
    )
    assert offline.status_code == 503 and 'data-page="inactive"' in offline.text  # the proxy's page
    assert requests.get(f"{gateway.url}/healthz", timeout=10).json() == {"status": "ok"}


def test_the_catalog_gives_the_proxy_the_expanded_app_and_its_oidc_client(
    gateway: AccessGateway, admin: requests.Session, app: dict[str, Any], idp: dict[str, Any], org: OrgServer
) -> None:
    from ostiary.access_gateway.admin.catalog import StoreAppCatalog
    from ostiary.access_gateway.runtime import make_config, open_runtime

    async def look_up() -> tuple[dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None]:
        runtime = open_runtime(make_config(port=gateway.port, data_dir=gateway.data_dir))
        catalog = StoreAppCatalog(runtime)
        try:
            by_port = await catalog.app_for_host(f"legacy.localhost:{gateway.port}")
            bare = await catalog.app_for_host("legacy.localhost")
            missing = await catalog.app_for_host("nobody.localhost")
            return by_port, bare, missing
        finally:
            await runtime.close()

    by_port, bare, missing = asyncio.run(look_up())
    assert missing is None
    assert by_port is not None and bare is not None
    expected = admin.get(
        f"{gateway.url}/api/v2/apps/{app['id']}",
        params={"expand": "healthCheck,behavior,session,resources,policies,attributes"},
    ).json()
    oidc = by_port.pop("ostiaryOidc")
    assert by_port == expected
    assert oidc["orgUrl"] == org.url
    assert oidc["redirectUri"] == f"http://legacy.localhost:{gateway.port}/_ostiary/callback"
    assert oidc["clientSecret"]
    discovery = requests.get(f"{org.url}/.well-known/openid-configuration", timeout=10).json()
    token = requests.post(
        discovery["token_endpoint"],
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": oidc["redirectUri"]},
        auth=(oidc["clientId"], oidc["clientSecret"]),
        timeout=10,
    )
    assert token.json()["error"] == "invalid_grant"  # the client authenticated; only the code is fake
    wrong = requests.post(
        discovery["token_endpoint"],
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": oidc["redirectUri"]},
        auth=(oidc["clientId"], "wrong-secret"),
        timeout=10,
    )
    assert wrong.json()["error"] == "invalid_client"


def test_an_app_whose_groups_the_org_lacks_is_400_and_leaves_no_org_app(
    gateway: AccessGateway,
    admin: requests.Session,
    idp: dict[str, Any],
    certificate_id: str,
    org: OrgServer,
    org_session: requests.Session,
) -> None:
    body = app_body(idp, certificate_id, "nogroup", groups=["00gdoesnotexist0000"])
    response = assert_error(admin.post(f"{gateway.url}/api/v2/apps", json=body), 400, "BAD_REQUEST")
    assert "idp" in response["details"]
    assert org_app_for(org, org_session, "Legacy nogroup") is None
    assert all(app["label"] != "Legacy nogroup" for app in admin.get(f"{gateway.url}/api/v2/apps").json())


def test_an_idp_in_use_keeps_its_domain_but_takes_a_new_token(
    gateway: AccessGateway, admin: requests.Session, idp: dict[str, Any], app: dict[str, Any], org: OrgServer
) -> None:
    url = f"{gateway.url}/api/v2/idps/{idp['id']}"
    assert_error(admin.put(url, json={"domain": "other.example.com"}), 400, "BAD_REQUEST")
    assert_error(admin.put(url, json={"apiToken": "00refused"}), 400, "BAD_REQUEST")
    rotated = admin.put(url, json={"apiToken": org.create_token("rotated")})
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["domain"] == org.url
    assert rotated.json()["validationStatus"]["valid"] is True
    renamed = admin.put(f"{gateway.url}/api/v2/apps/{app['id']}", json={"description": "still synced"})
    assert renamed.status_code == 200, renamed.text


def test_an_unreachable_database_ends_the_command_with_one_line(tmp_path: Path) -> None:
    import os
    import subprocess

    from tests.e2e.servers import OSTIARY, free_port

    url = f"postgresql://oag:hunter2@127.0.0.1:{free_port()}/oag"
    result = subprocess.run(
        [
            OSTIARY,
            "access-gateway",
            "--port",
            str(free_port()),
            "--data-dir",
            str(tmp_path),
            "--database-url",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot start: the database is unreachable")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "hunter2" not in result.stderr
