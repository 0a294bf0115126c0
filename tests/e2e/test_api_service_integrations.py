"""API service integrations on a real ``ostiary serve`` with two customer orgs (``acme`` and
``globex`` at ``{org}.localhost``): the catalog and its publish CLI, the install API (through the
okta SDK 3.4.6 where it has methods, httpx elsewhere), the tokens an install gets and where they
work, secret rotation, uninstall, and the system log."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from okta.client import Client as OktaClient
from okta.models import PostAPIServiceIntegrationInstanceRequest

from tests.e2e.multi_org import PlainServer, plain_server, resolve_localhost_subdomains

API = "/integrations/api/v1/api-services"
SUBMISSIONS = "/integrations/api/v1/submissions"
CATALOG = "/integrations/api/v1/catalog/api-services"
SYNC_SCOPES = ["okta.users.read", "okta.groups.manage", "okta.logs.read"]
ENTRY_YAML = """\
type: acme_sync
name: Acme Sync
description: Keeps Acme's directory in sync
logoUrl: https://cdn.example.com/acme.png
configGuideUrl: https://docs.example.com/acme-sync
scopes: [okta.users.read, okta.groups.manage, okta.logs.read]
properties:
  - {name: region, label: Region, required: true}
"""

SDK_ENTRY_YAML = """\
type: late_entry_sdk
name: SDK
configGuideUrl: https://docs.example.com/sdk
scopes: [okta.users.read]
"""


@dataclass
class Env:
    server: PlainServer
    operator: str  # an API token of the default org
    tokens: dict[str, str]  # org name -> API token of that org

    def admin(self, org: str) -> httpx.Client:
        url = self.server.url if org == "default" else self.server.org_url(org)
        token = self.operator if org == "default" else self.tokens[org]
        return httpx.Client(base_url=url, headers={"Authorization": f"SSWS {token}"}, timeout=30)

    def anon(self, org: str) -> httpx.Client:
        return httpx.Client(base_url=self.server.org_url(org), timeout=30)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = Path(tmp_path_factory.mktemp("integrations"))
    with resolve_localhost_subdomains(), plain_server(tmp) as server:
        operator = server.create_token("operator")
        tokens = {name: server.create_org(name) for name in ("acme", "globex")}
        entry = tmp / "entry.yaml"
        entry.write_text(ENTRY_YAML)
        published = server.cli("integration", "publish", "-f", str(entry))
        assert published.stdout.strip().splitlines()[-1] == "acme_sync"
        entry.write_text(SDK_ENTRY_YAML)
        assert server.cli("integration", "publish", "-f", str(entry)).stdout.strip() == "late_entry_sdk"
        yield Env(server, operator, tokens)


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def token_response(env: Env, org: str, client_id: str, secret: str, scope: str | None) -> httpx.Response:
    data = {"grant_type": "client_credentials"}
    if scope is not None:
        data["scope"] = scope
    with env.anon(org) as anon:
        return anon.post("/oauth2/v1/token", data=data, headers=basic(client_id, secret))


def install(env: Env, org: str, scopes: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    body = {
        "type": "acme_sync",
        "grantedScopes": scopes or SYNC_SCOPES,
        "properties": {"region": "eu"},
        **extra,
    }
    with env.admin(org) as admin:
        created = admin.post(API, json=body)
    assert created.status_code == 201, created.text
    return dict(created.json())


def assert_okta_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["errorCode"] == code and body["errorLink"] == code, body
    assert body["errorSummary"] and body["errorId"] and isinstance(body["errorCauses"], list)
    return dict(body)


def sdk(env: Env, org: str) -> OktaClient:
    return OktaClient(
        {
            "orgUrl": env.server.org_url(org),
            "token": env.tokens[org],
            "rateLimit": {"maxRetries": 0},
        }
    )


# --- the catalog ----------------------------------------------------------------------------


def test_publish_cli_refuses_bad_files_with_a_clear_error(env: Env, tmp_path: Path) -> None:
    cases = {
        "missing.yaml": None,
        "not-yaml.yaml": "type: [unclosed\n",
        "a-list.yaml": "- type: x\n",
        "no-scopes.yaml": "type: no_scopes\nname: N\n",
        "bad-scope.yaml": "type: bad_scope\nname: N\nscopes: [okta.users.read, okta.nope.read]\n",
        "bad-type.yaml": "type: Bad Type\nname: N\nscopes: [okta.users.read]\n",
        "typo.yaml": "type: typo\nname: N\nscopes: [okta.users.read]\nconfigGuideURL: https://x.example\n",
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        result = env.server.cli("integration", "publish", "-f", str(path), check=False)
        assert result.returncode == 1, (name, result.stdout, result.stderr)
        assert result.stderr.startswith("error:") and "Traceback" not in result.stderr, (name, result.stderr)
    with env.admin("acme") as admin:
        listed = admin.get(CATALOG).json()
    assert [e["type"] for e in listed] == ["acme_sync", "late_entry_sdk"]


def test_an_entry_published_while_serving_is_installable_at_once(env: Env, tmp_path: Path) -> None:
    entry = tmp_path / "late.yaml"
    entry.write_text("type: late_entry\nname: Late\nscopes: [okta.users.read]\n")
    with env.admin("globex") as admin:
        assert admin.get(f"{CATALOG}/late_entry").status_code == 404
        assert env.server.cli("integration", "publish", "-f", str(entry)).stdout.strip() == "late_entry"
        got = admin.get(f"{CATALOG}/late_entry")
        assert got.status_code == 200 and got.json()["status"] == "ACTIVE"
        created = admin.post(API, json={"type": "late_entry", "grantedScopes": ["okta.users.read"]})
        assert created.status_code == 201, created.text
        # republishing updates the entry in place
        entry.write_text("type: late_entry\nname: Later\nscopes: [okta.users.read, okta.groups.read]\n")
        env.server.cli("integration", "publish", "-f", str(entry))
        assert admin.get(f"{CATALOG}/late_entry").json()["scopes"] == ["okta.users.read", "okta.groups.read"]


def test_submission_lifecycle_draft_test_install_review(env: Env) -> None:
    body = {"type": "globex_audit", "name": "Globex Audit", "scopes": ["okta.logs.read"]}
    with env.admin("globex") as publisher, env.admin("acme") as other, env.admin("default") as operator:
        created = publisher.post(SUBMISSIONS, json=body)
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "DRAFT"
        assert_okta_error(publisher.post(SUBMISSIONS, json=body), 400, "E0000001")  # type taken
        # a DRAFT is installable in its publisher's org only, and invisible elsewhere
        test_install = publisher.post(API, json={"type": "globex_audit", "grantedScopes": ["okta.logs.read"]})
        assert test_install.status_code == 201, test_install.text
        refused = other.post(API, json={"type": "globex_audit", "grantedScopes": ["okta.logs.read"]})
        assert_okta_error(refused, 400, "E0000001")
        assert other.get(f"{CATALOG}/globex_audit").status_code == 404
        assert other.get(f"{SUBMISSIONS}/globex_audit").status_code == 404
        assert "globex_audit" not in [e["type"] for e in other.get(SUBMISSIONS).json()]
        # only the operator reviews, and only a SUBMITTED entry
        assert_okta_error(operator.post(f"{SUBMISSIONS}/globex_audit/lifecycle/approve"), 400, "E0000001")
        submitted = publisher.post(f"{SUBMISSIONS}/globex_audit/lifecycle/submit")
        assert submitted.status_code == 200 and submitted.json()["status"] == "SUBMITTED"
        assert_okta_error(publisher.put(f"{SUBMISSIONS}/globex_audit", json=body), 400, "E0000001")
        assert_okta_error(publisher.post(f"{SUBMISSIONS}/globex_audit/lifecycle/approve"), 403, "E0000006")
        assert_okta_error(
            other.post(f"{SUBMISSIONS}/globex_audit/lifecycle/reject", json={"reason": "x"}), 403, "E0000006"
        )
        assert [e["type"] for e in operator.get(SUBMISSIONS, params={"status": "SUBMITTED"}).json()] == [
            "globex_audit"
        ]
        assert_okta_error(operator.get(SUBMISSIONS, params={"status": "NOPE"}), 400, "E0000001")
        no_reason = operator.post(f"{SUBMISSIONS}/globex_audit/lifecycle/reject", json={})
        assert_okta_error(no_reason, 400, "E0000001")
        rejected = operator.post(f"{SUBMISSIONS}/globex_audit/lifecycle/reject", json={"reason": "No logo"})
        assert rejected.status_code == 200, rejected.text
        assert (rejected.json()["status"], rejected.json()["statusReason"]) == ("REJECTED", "No logo")
        assert_okta_error(
            publisher.post(API, json={"type": "globex_audit", "grantedScopes": ["okta.logs.read"]}),
            400,
            "E0000001",
        )
        # fix, resubmit, approve: installable everywhere
        fixed = publisher.put(
            f"{SUBMISSIONS}/globex_audit", json={**body, "logoUrl": "https://x.example/l.png"}
        )
        assert fixed.status_code == 200 and fixed.json()["status"] == "DRAFT", fixed.text
        assert publisher.post(f"{SUBMISSIONS}/globex_audit/lifecycle/submit").status_code == 200
        approved = operator.post(f"{SUBMISSIONS}/globex_audit/lifecycle/approve")
        assert approved.status_code == 200 and approved.json()["status"] == "ACTIVE"
        assert (
            other.post(API, json={"type": "globex_audit", "grantedScopes": ["okta.logs.read"]}).status_code
            == 201
        )


def test_bad_submission_bodies_change_nothing(env: Env) -> None:
    with env.admin("acme") as admin:
        bad_bodies: list[Any] = [
            {},
            {"type": "x y", "name": "N", "scopes": ["okta.users.read"]},
            {"type": "ok_type", "name": "", "scopes": ["okta.users.read"]},
            {"type": "ok_type", "name": "N", "scopes": []},
            {"type": "ok_type", "name": "N", "scopes": ["openid"]},
            {"type": "ok_type", "name": "N", "scopes": ["okta.users.read"], "logoUrl": "javascript:alert(1)"},
            {"type": "ok_type", "name": "N", "scopes": ["okta.users.read"], "properties": [{"name": 1}]},
            {"type": "ok_type", "name": "N", "scopes": ["okta.users.read"], "extra": True},
        ]
        for body in bad_bodies:
            assert_okta_error(admin.post(SUBMISSIONS, json=body), 400, "E0000001")
        assert_okta_error(
            admin.post(SUBMISSIONS, content=b"[1]", headers={"Content-Type": "application/json"}),
            400,
            "E0000003",
        )
        assert_okta_error(
            admin.post(SUBMISSIONS, content=b"{", headers={"Content-Type": "application/json"}),
            400,
            "E0000003",
        )
        assert admin.get(f"{SUBMISSIONS}/ok_type").status_code == 404
        # a bad replacement of an own DRAFT changes nothing
        own = {"type": "acme_own", "name": "Own", "scopes": ["okta.users.read"]}
        assert admin.post(SUBMISSIONS, json=own).status_code == 201
        for body in (
            {"name": "", "scopes": ["okta.users.read"]},
            {**own, "type": "renamed"},
            {**own, "scopes": []},
        ):
            assert_okta_error(admin.put(f"{SUBMISSIONS}/acme_own", json=body), 400, "E0000001")
        kept = admin.get(f"{SUBMISSIONS}/acme_own").json()
        assert (kept["name"], kept["scopes"], kept["status"]) == ("Own", ["okta.users.read"], "DRAFT")
        assert_okta_error(
            admin.post(f"{SUBMISSIONS}/acme_own/lifecycle/reject", json={"reason": "x"}), 403, "E0000006"
        )
        assert_okta_error(admin.get(f"{CATALOG}/no_such_type"), 404, "E0000007")
        assert_okta_error(admin.post(f"{SUBMISSIONS}/nope/lifecycle/submit"), 404, "E0000007")
        assert_okta_error(
            admin.put(f"{SUBMISSIONS}/nope", json={"name": "N", "scopes": ["okta.users.read"]}),
            404,
            "E0000007",
        )
        # the CLI-published entry belongs to the default org: acme cannot change it
        assert_okta_error(
            admin.put(f"{SUBMISSIONS}/acme_sync", json={"name": "X", "scopes": ["okta.users.read"]}),
            404,
            "E0000007",
        )
    with env.admin("default") as operator:
        assert_okta_error(operator.post(f"{SUBMISSIONS}/nope/lifecycle/approve"), 404, "E0000007")
        assert_okta_error(
            operator.post(f"{SUBMISSIONS}/nope/lifecycle/reject", json={"reason": "r"}), 404, "E0000007"
        )
        assert_okta_error(
            operator.post(
                f"{SUBMISSIONS}/acme_own/lifecycle/reject",
                content=b"{",
                headers={"Content-Type": "application/json"},
            ),
            400,
            "E0000003",
        )
        assert_okta_error(
            operator.post(f"{SUBMISSIONS}/acme_own/lifecycle/reject", json={"reason": "r"}), 400, "E0000001"
        )
        assert operator.get(f"{SUBMISSIONS}/acme_own").json()["status"] == "DRAFT"
    with httpx.Client(base_url=env.server.org_url("acme")) as anon:
        assert_okta_error(anon.get(CATALOG), 403, "E0000005")
        assert_okta_error(anon.post(SUBMISSIONS, json={}), 403, "E0000005")


# --- install ------------------------------------------------------------------------------


async def test_install_with_the_okta_sdk(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OKTA_TESTING_TESTINGDISABLEHTTPSCHECK", "true")  # the orgs here speak http
    async with sdk(env, "acme") as client:
        # The SDK sends properties as the spec's schema says ({"name", "value"} objects) but parses
        # answers with that schema too, while the spec's examples (and Ostiary) answer strings: so
        # the SDK installs here an entry without properties; properties are checked with httpx.
        body = PostAPIServiceIntegrationInstanceRequest.from_dict(
            {"type": "late_entry_sdk", "grantedScopes": ["okta.users.read"]}
        )
        created, _, err = await client.create_api_service_integration_instance(body)
        assert err is None, err
        assert created.id.startswith("0oa") and created.client_secret
        assert created.name == "SDK" and created.config_guide_url == "https://docs.example.com/sdk"
        assert created.granted_scopes == ["okta.users.read"]
        got, _, err = await client.get_api_service_integration_instance(created.id)
        assert err is None and got.id == created.id and got.type == "late_entry_sdk"
        listed, _, err = await client.list_api_service_integration_instances()
        assert err is None and created.id in [i.id for i in listed]
        secrets, _, err = await client.list_api_service_integration_instance_secrets(created.id)
        assert err is None and len(secrets) == 1 and secrets[0].status == "ACTIVE"
        assert secrets[0].client_secret == "***" + created.client_secret[-4:]
        second, _, err = await client.create_api_service_integration_instance_secret(created.id)
        assert err is None and second.status == "ACTIVE" and len(second.client_secret) > 20
        off, _, err = await client.deactivate_api_service_integration_instance_secret(
            created.id, secrets[0].id
        )
        assert err is None and off.status == "INACTIVE"
        on, _, err = await client.activate_api_service_integration_instance_secret(created.id, secrets[0].id)
        assert err is None and on.status == "ACTIVE"
        _, _, err = await client.deactivate_api_service_integration_instance_secret(created.id, second.id)
        assert err is None
        _, _, err = await client.delete_api_service_integration_instance_secret(created.id, second.id)
        assert err is None
        _, _, err = await client.delete_api_service_integration_instance(created.id)
        assert err is None
        _, _, err = await client.get_api_service_integration_instance(created.id)
        assert err is not None and err.error_code == "E0000007"


def test_install_answers_201_as_the_spec_example(env: Env) -> None:
    created = install(env, "acme")
    base = env.server.org_url("acme")
    assert set(created) == {
        "id",
        "type",
        "name",
        "createdAt",
        "createdBy",
        "clientSecret",
        "configGuideUrl",
        "grantedScopes",
        "properties",
        "_links",
    }
    assert created["type"] == "acme_sync" and created["name"] == "Acme Sync"
    assert created["grantedScopes"] == SYNC_SCOPES and created["properties"] == {"region": "eu"}
    links = created["_links"]
    assert links["self"] == {"href": f"{base}{API}/{created['id']}", "hints": {"allow": ["GET", "DELETE"]}}
    assert links["client"] == {
        "href": f"{base}/oauth2/v1/clients/{created['id']}",
        "hints": {"allow": ["GET"]},
    }
    assert links["logo"] == {"name": "small", "href": "https://cdn.example.com/acme.png"}
    with env.admin("acme") as admin:
        got = admin.get(f"{API}/{created['id']}").json()
        assert "clientSecret" not in got and got["id"] == created["id"]
        # the install is a service app of the org with client_secret_basic
        app = admin.get(f"/api/v1/apps/{created['id']}").json()
        assert app["settings"]["oauthClient"]["application_type"] == "service"
        assert app["credentials"]["oauthClient"]["token_endpoint_auth_method"] == "client_secret_basic"
        assert app["settings"]["oauthClient"]["grant_types"] == ["client_credentials"]
        # grantedScopes follow the app's grants when an admin changes them through /api/v1/apps
        grants = admin.get(f"/api/v1/apps/{created['id']}/grants").json()
        logs_grant = next(g["id"] for g in grants if g["scopeId"] == "okta.logs.read")
        assert admin.delete(f"/api/v1/apps/{created['id']}/grants/{logs_grant}").status_code == 204
        assert admin.get(f"{API}/{created['id']}").json()["grantedScopes"] == SYNC_SCOPES[:2]
        listed = {i["id"]: i for i in admin.get(API, params={"limit": 200}).json()}
        assert listed[created["id"]]["grantedScopes"] == SYNC_SCOPES[:2]
    with env.admin("globex") as other:  # another org does not see it
        assert_okta_error(other.get(f"{API}/{created['id']}"), 404, "E0000007")
        assert_okta_error(other.delete(f"{API}/{created['id']}"), 404, "E0000007")
    # properties may also come as the spec schema's {"name", "value"} objects (the SDK's shape)
    as_objects = install(env, "acme", properties={"region": {"name": "region", "value": "apac"}})
    assert as_objects["properties"] == {"region": "apac"}


def test_list_is_paged_with_link_headers(env: Env) -> None:
    ids = [install(env, "globex", ["okta.users.read"])["id"] for _ in range(3)]
    seen: list[str] = []
    with env.admin("globex") as admin:
        url: str | None = f"{API}?limit=2"
        while url:
            page = admin.get(url)
            assert page.status_code == 200
            seen += [i["id"] for i in page.json()]
            assert 'rel="self"' in page.headers["link"]
            url = page.links.get("next", {}).get("url")
        assert_okta_error(admin.get(API, params={"limit": "x"}), 400, "E0000001")
        assert_okta_error(admin.get(API, params={"after": "!!"}), 400, "E0000001")
    assert set(ids) <= set(seen) and len(seen) == len(set(seen))


def test_bad_install_bodies_are_400_and_create_nothing(env: Env) -> None:
    with env.admin("acme") as admin:
        before = len(admin.get(API, params={"limit": 200}).json())
        apps_before = len(admin.get("/api/v1/apps", params={"limit": 200}).json())
        bad: list[Any] = [
            {},
            {"type": "acme_sync"},
            {"type": "acme_sync", "grantedScopes": []},
            {"type": "acme_sync", "grantedScopes": "okta.users.read", "properties": {"region": "eu"}},
            {"type": "acme_sync", "grantedScopes": ["okta.apps.manage"], "properties": {"region": "eu"}},
            {"type": "acme_sync", "grantedScopes": ["okta.users.read"]},  # required property missing
            {"type": "acme_sync", "grantedScopes": ["okta.users.read"], "properties": {"region": 1}},
            {
                "type": "acme_sync",
                "grantedScopes": ["okta.users.read"],
                "properties": {"region": "eu", "x": "y"},
            },
            {"type": "no_such_type", "grantedScopes": ["okta.users.read"]},
            {"type": 5, "grantedScopes": ["okta.users.read"]},
            {
                "type": "acme_sync",
                "grantedScopes": ["okta.users.read"],
                "properties": {"region": "eu"},
                "id": "x",
            },
        ]
        for body in bad:
            assert_okta_error(admin.post(API, json=body), 400, "E0000001")
        assert_okta_error(
            admin.post(API, content=b"nope", headers={"Content-Type": "application/json"}), 400, "E0000003"
        )
        assert_okta_error(
            admin.post(API, content=b"{}", headers={"Content-Type": "text/plain"}), 400, "E0000021"
        )
        assert len(admin.get(API, params={"limit": 200}).json()) == before
        assert len(admin.get("/api/v1/apps", params={"limit": 200}).json()) == apps_before
        for path in (f"{API}/0oaNOPE", f"{API}/0oaNOPE/credentials/secrets"):
            assert_okta_error(admin.get(path), 404, "E0000007")
        assert_okta_error(admin.delete(f"{API}/0oaNOPE"), 404, "E0000007")
        assert_okta_error(admin.post(f"{API}/0oaNOPE/credentials/secrets"), 404, "E0000007")
        created = install(env, "acme")
        secrets = f"{API}/{created['id']}/credentials/secrets"
        for path in (f"{secrets}/ocsNOPE/lifecycle/activate", f"{secrets}/ocsNOPE/lifecycle/deactivate"):
            assert_okta_error(admin.post(path), 404, "E0000007")
        assert_okta_error(admin.delete(f"{secrets}/ocsNOPE"), 404, "E0000007")
    with httpx.Client(base_url=env.server.org_url("acme")) as anon:
        assert_okta_error(anon.get(API), 403, "E0000005")
        assert_okta_error(anon.post(API, json={"type": "acme_sync"}), 403, "E0000005")
        assert_okta_error(anon.delete(f"{API}/{created['id']}"), 403, "E0000005")


def test_an_ordinary_app_is_not_reachable_as_an_install(env: Env) -> None:
    with env.admin("acme") as admin:
        app = admin.post(
            "/api/v1/apps",
            json={
                "name": "oidc_client",
                "label": "plain",
                "signOnMode": "OPENID_CONNECT",
                "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
                "settings": {
                    "oauthClient": {
                        "application_type": "service",
                        "grant_types": ["client_credentials"],
                        "response_types": ["token"],
                    }
                },
            },
        ).json()
        assert_okta_error(admin.get(f"{API}/{app['id']}"), 404, "E0000007")
        assert_okta_error(admin.delete(f"{API}/{app['id']}"), 404, "E0000007")
        assert_okta_error(admin.post(f"{API}/{app['id']}/credentials/secrets"), 404, "E0000007")
        # an install whose app is deleted through /api/v1/apps is gone as an install too
        installed = install(env, "acme")["id"]
        assert admin.post(f"/api/v1/apps/{installed}/lifecycle/deactivate").status_code == 200
        assert admin.delete(f"/api/v1/apps/{installed}").status_code == 204
        assert_okta_error(admin.get(f"{API}/{installed}"), 404, "E0000007")
        assert installed not in [i["id"] for i in admin.get(API, params={"limit": 200}).json()]


# --- tokens ---------------------------------------------------------------------------------


def test_tokens_for_granted_scopes_only(env: Env) -> None:
    created = install(env, "acme", ["okta.users.read", "okta.groups.manage"])
    cid, secret = created["id"], created["clientSecret"]
    ok = token_response(env, "acme", cid, secret, "okta.users.read okta.groups.manage")
    assert ok.status_code == 200, ok.text
    assert ok.json()["scope"] == "okta.users.read okta.groups.manage" and ok.json()["token_type"] == "Bearer"
    assert token_response(env, "acme", cid, secret, "okta.groups.manage").status_code == 200
    for scope in (None, "", "okta.logs.read", "okta.apps.read", "openid", "okta.users.read okta.logs.read"):
        refused = token_response(env, "acme", cid, secret, scope)
        assert refused.status_code == 400, (scope, refused.text)
        assert refused.json()["error"] == "invalid_scope", scope
    assert token_response(env, "acme", cid, secret + "x", "okta.users.read").status_code == 401
    # the same credentials are unknown at another org
    other = token_response(env, "globex", cid, secret, "okta.users.read")
    assert other.status_code == 401 and other.json()["error"] == "invalid_client"


def test_tokens_work_on_their_orgs_management_api_within_scope(env: Env) -> None:
    created = install(env, "acme", ["okta.users.read", "okta.groups.manage"])
    access = token_response(
        env, "acme", created["id"], created["clientSecret"], "okta.users.read okta.groups.manage"
    )
    bearer = {"Authorization": f"Bearer {access.json()['access_token']}"}
    with env.anon("acme") as acme:
        assert acme.get("/api/v1/users", headers=bearer).status_code == 200
        assert acme.get("/api/v1/groups", headers=bearer).status_code == 200  # .manage includes .read
        made = acme.post("/api/v1/groups", headers=bearer, json={"profile": {"name": "From integration"}})
        assert made.status_code == 200, made.text
        assert_okta_error(
            acme.post("/api/v1/users", headers=bearer, json={"profile": {"login": "a@b.example"}}),
            403,
            "E0000006",
        )
        assert_okta_error(acme.get("/api/v1/apps", headers=bearer), 403, "E0000006")
        assert_okta_error(acme.get(API, headers=bearer), 403, "E0000006")
    with env.anon("globex") as globex:
        assert_okta_error(globex.get("/api/v1/users", headers=bearer), 401, "E0000011")
    with httpx.Client(base_url=env.server.url) as default:
        assert_okta_error(default.get("/api/v1/users", headers=bearer), 401, "E0000011")


def test_secret_rotation_limits_and_refusals(env: Env) -> None:
    created = install(env, "acme", ["okta.users.read"])
    cid, first_value = created["id"], created["clientSecret"]
    secrets = f"{API}/{cid}/credentials/secrets"
    with env.admin("acme") as admin:
        [first] = admin.get(secrets).json()
        assert first["client_secret"] == "***" + first_value[-4:] and first["_links"].keys() == {"deactivate"}
        # the last active secret can be neither deactivated nor deleted
        assert_okta_error(admin.post(f"{secrets}/{first['id']}/lifecycle/deactivate"), 400, "E0000001")
        assert_okta_error(admin.delete(f"{secrets}/{first['id']}"), 400, "E0000001")
        second = admin.post(secrets)
        assert second.status_code == 201, second.text
        second_value = second.json()["client_secret"]
        assert_okta_error(admin.post(secrets), 400, "E0000001")  # a third
        assert len(admin.get(secrets).json()) == 2
        assert token_response(env, "acme", cid, second_value, "okta.users.read").status_code == 200
        # rotate: deactivate the first, which stops working at once
        off = admin.post(f"{secrets}/{first['id']}/lifecycle/deactivate")
        assert off.status_code == 200 and off.json()["status"] == "INACTIVE"
        refused = token_response(env, "acme", cid, first_value, "okta.users.read")
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
        assert_okta_error(
            admin.post(f"{secrets}/{second.json()['id']}/lifecycle/deactivate"), 400, "E0000001"
        )
        assert admin.delete(f"{secrets}/{first['id']}").status_code == 204
        assert token_response(env, "acme", cid, first_value, "okta.users.read").status_code == 401
        assert token_response(env, "acme", cid, second_value, "okta.users.read").status_code == 200
        assert [s["id"] for s in admin.get(secrets).json()] == [second.json()["id"]]
    with env.admin("globex") as other:  # another org cannot touch them
        assert_okta_error(other.post(secrets), 404, "E0000007")


def test_uninstall_stops_credentials_and_every_token_at_once(env: Env) -> None:
    created = install(env, "acme", ["okta.users.read"])
    cid, secret = created["id"], created["clientSecret"]
    tokens = [
        token_response(env, "acme", cid, secret, "okta.users.read").json()["access_token"] for _ in range(2)
    ]
    with env.anon("acme") as anon, env.admin("acme") as admin:
        for token in tokens:
            assert anon.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}).status_code == 200
            found = anon.post("/oauth2/v1/introspect", data={"token": token}, headers=basic(cid, secret))
            assert found.json()["active"] is True
        assert admin.delete(f"{API}/{cid}").status_code == 204
        assert_okta_error(admin.get(f"{API}/{cid}"), 404, "E0000007")
        assert_okta_error(admin.get(f"/api/v1/apps/{cid}"), 404, "E0000007")
        assert_okta_error(admin.delete(f"{API}/{cid}"), 404, "E0000007")
        refused = token_response(env, "acme", cid, secret, "okta.users.read")
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
        for token in tokens:
            assert_okta_error(
                anon.get("/api/v1/users", headers={"Authorization": f"Bearer {token}"}), 401, "E0000011"
            )
            gone = anon.post("/oauth2/v1/introspect", data={"token": token}, headers=basic(cid, secret))
            assert gone.status_code == 401  # its own credentials are gone too


def test_an_oauth_caller_installs_only_scopes_it_holds(env: Env) -> None:
    manager = install(env, "acme", ["okta.users.read"])
    with env.admin("acme") as admin:
        grant = admin.post(
            f"/api/v1/apps/{manager['id']}/grants",
            json={"issuer": env.server.org_url("acme"), "scopeId": "okta.oauthIntegrations.manage"},
        )
        assert grant.status_code == 201, grant.text
    access = token_response(
        env, "acme", manager["id"], manager["clientSecret"], "okta.oauthIntegrations.manage okta.users.read"
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    body = {"type": "acme_sync", "properties": {"region": "eu"}}
    with env.anon("acme") as anon:
        ok = anon.post(API, headers=bearer, json={**body, "grantedScopes": ["okta.users.read"]})
        assert ok.status_code == 201, ok.text
        assert anon.get(API, headers=bearer).status_code == 200  # .manage includes .read
        escalate = anon.post(API, headers=bearer, json={**body, "grantedScopes": ["okta.groups.manage"]})
        assert_okta_error(escalate, 403, "E0000006")


def test_system_log_records_the_lifecycle(env: Env) -> None:
    created = install(env, "globex", ["okta.users.read"])
    cid = created["id"]
    secrets = f"{API}/{cid}/credentials/secrets"
    with env.admin("globex") as admin:
        second = admin.post(secrets).json()
        admin.post(f"{secrets}/{second['id']}/lifecycle/deactivate")
        admin.post(f"{secrets}/{second['id']}/lifecycle/activate")
        admin.post(f"{secrets}/{second['id']}/lifecycle/deactivate")
        admin.delete(f"{secrets}/{second['id']}")
        assert admin.delete(f"{API}/{cid}").status_code == 204
        events = admin.get("/api/v1/logs", params={"filter": f'target.id eq "{cid}"', "limit": 100}).json()
    types = [e["eventType"] for e in events]
    for expected in (
        "application.lifecycle.create",
        "application.lifecycle.activate",
        "app.oauth2.as.consent.grant",
        "app.oauth2.credentials.secret.create",
        "app.oauth2.credentials.secret.deactivate",
        "app.oauth2.credentials.secret.activate",
        "app.oauth2.credentials.secret.delete",
        "app.oauth2.as.consent.revoke",
        "application.lifecycle.deactivate",
        "application.lifecycle.delete",
    ):
        assert expected in types, (expected, types)
    with env.admin("acme") as other:
        assert other.get("/api/v1/logs", params={"filter": f'target.id eq "{cid}"'}).json() == []
