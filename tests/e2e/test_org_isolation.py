"""Issue 17: a credential, token, session, code or id of org A never works at org B, on any endpoint.

One real ``ostiary serve`` (plain http, ``OSTIARY_BASE_URL=http://localhost:<port>``), two orgs
made with ``ostiary org create``: ``orga`` and ``orgb``. Every row of :data:`ROWS` is one request
that carries something minted in org A. It is sent to org A first (the control: there it
works, so the row can fail) and to org B (it must be refused the way the row says). Rows
that consume what they carry (codes, deletions) mint a fresh one for each send.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests

from tests.e2e.localhost_names import localhost_subdomains
from tests.e2e.servers import OSTIARY, free_port, ostiary_cli, running, until

PASSWORD = "Tr1cky-Secret!"
REDIRECT = "http://localhost:3000/callback"
A_ORIGIN = "http://app-orga.example"
"""The trusted origin of org A (each org trusts ``http://app-{name}.example``)."""


@dataclass
class Org:
    """One org as a client sees it: its URL and what was made in it."""

    name: str
    url: str
    ssws: str
    admin: requests.Session = field(default_factory=requests.Session)
    ids: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.admin.request(method, f"{self.url}{path}", timeout=10, **kwargs)

    def created(self, method: str, path: str, body: dict[str, Any], status: int = 200) -> dict[str, Any]:
        response = self.api(method, path, json=body)
        assert response.status_code == status, response.text
        return dict(response.json())


def _org(env: dict[str, str], name: str) -> Org:
    url = ostiary_cli(env, "org", "create", name).strip().splitlines()[-1]
    token = ostiary_cli(env, "token", "create", "--name", "iso", "--org", name).strip().splitlines()[-1]
    org = Org(name, url, token)
    org.admin.headers.update({"Authorization": f"SSWS {token}", "Accept": "application/json"})
    return org


def _web_app(org: Org) -> tuple[str, str]:
    app = org.created(
        "POST",
        "/api/v1/apps",
        {
            "name": "oidc_client",
            "label": "Web",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {
                    "application_type": "web",
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                    "redirect_uris": [REDIRECT],
                }
            },
        },
    )
    everyone = org.api("GET", "/api/v1/groups", params={"q": "Everyone"}).json()[0]["id"]
    assert org.api("PUT", f"/api/v1/apps/{app['id']}/groups/{everyone}", json={}).status_code == 200
    oauth = app["credentials"]["oauthClient"]
    return oauth["client_id"], oauth["client_secret"]


def _service_app(org: Org) -> tuple[str, str]:
    app = org.created(
        "POST",
        "/api/v1/apps",
        {
            "name": "oidc_client",
            "label": "Service",
            "signOnMode": "OPENID_CONNECT",
            "credentials": {"oauthClient": {"token_endpoint_auth_method": "client_secret_basic"}},
            "settings": {
                "oauthClient": {
                    "application_type": "service",
                    "grant_types": ["client_credentials"],
                    "response_types": ["token"],
                    "redirect_uris": [],
                }
            },
        },
    )
    client_id = app["credentials"]["oauthClient"]["client_id"]
    org.created(
        "POST", f"/api/v1/apps/{client_id}/grants", {"issuer": org.url, "scopeId": "okta.users.read"}, 201
    )
    return client_id, app["credentials"]["oauthClient"]["client_secret"]


def _custom_server(org: Org) -> str:
    server = org.created(
        "POST", "/api/v1/authorizationServers", {"name": "iso", "audiences": ["api://iso"]}, 201
    )
    base = f"/api/v1/authorizationServers/{server['id']}"
    org.created("POST", f"{base}/scopes", {"name": "iso:read"}, 201)
    policy = org.created(
        "POST",
        f"{base}/policies",
        {
            "type": "OAUTH_AUTHORIZATION_POLICY",
            "name": "p",
            "description": "p",
            "conditions": {"clients": {"include": ["ALL_CLIENTS"]}},
        },
        201,
    )
    org.created(
        "POST",
        f"{base}/policies/{policy['id']}/rules",
        {
            "type": "RESOURCE_ACCESS",
            "name": "r",
            "conditions": {"grantTypes": {"include": ["client_credentials"]}, "scopes": {"include": ["*"]}},
        },
        201,
    )
    return str(server["id"])


def _user(org: Org, login: str) -> str:
    body = {
        "profile": {"login": login, "email": login, "firstName": "Iso", "lastName": org.name},
        "credentials": {"password": {"value": PASSWORD}},
    }
    return str(org.created("POST", "/api/v1/users?activate=true", body)["id"])


def _setup(org: Org) -> None:
    """Everything a row may carry or need in ``org``: users, group, apps, servers, origins."""
    ids = org.ids
    ids["login"] = f"user@{org.name}.example"
    ids["user"] = _user(org, ids["login"])
    ids["group"] = str(org.created("POST", "/api/v1/groups", {"profile": {"name": "iso"}})["id"])
    ids["web"], ids["web_secret"] = _web_app(org)
    ids["service"], ids["service_secret"] = _service_app(org)
    ids["server"] = _custom_server(org)
    ids["origin"] = str(
        org.created(
            "POST",
            "/api/v1/trustedOrigins",
            {
                "name": "a",
                "origin": f"http://app-{org.name}.example",
                "scopes": [{"type": "CORS"}, {"type": "REDIRECT"}],
            },
        )["id"]
    )
    ids["api_token"] = org.api("GET", "/api/v1/api-tokens").json()[0]["id"]


# --- minting in org A --------------------------------------------------------------------------


def session_token(org: Org) -> str:
    response = requests.post(
        f"{org.url}/api/v1/authn", json={"username": org.ids["login"], "password": PASSWORD}, timeout=10
    )
    assert response.status_code == 200, response.text
    return str(response.json()["sessionToken"])


def code(org: Org, scope: str = "openid profile offline_access") -> str:
    params = {
        "client_id": org.ids["web"],
        "response_type": "code",
        "scope": scope,
        "redirect_uri": REDIRECT,
        "state": "s",
        "nonce": "n",
        "sessionToken": session_token(org),
    }
    response = requests.get(
        f"{org.url}/oauth2/default/v1/authorize", params=params, allow_redirects=False, timeout=10
    )
    assert response.status_code == 302, response.text
    return dict(parse_qsl(urlsplit(response.headers["Location"]).query))["code"]


def redeem(org: Org, the_code: str) -> dict[str, Any]:
    response = requests.post(
        f"{org.url}/oauth2/default/v1/token",
        data={"grant_type": "authorization_code", "code": the_code, "redirect_uri": REDIRECT},
        auth=(org.ids["web"], org.ids["web_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def client_credentials(org: Org, path: str, scope: str) -> str:
    response = requests.post(
        f"{org.url}{path}",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(org.ids["service"], org.ids["service_secret"]),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def session_cookie(org: Org) -> str:
    response = requests.get(
        f"{org.url}/login/sessionCookieRedirect",
        params={"token": session_token(org), "redirectUrl": "/"},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302 and "sid" in response.cookies, response.headers
    return str(response.cookies["sid"])


def session_id(org: Org) -> str:
    response = requests.post(
        f"{org.url}/api/v1/sessions", json={"sessionToken": session_token(org)}, timeout=10
    )
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


@dataclass
class Minted:
    """What org A minted once for the rows that only read it."""

    org_token: str
    default_token: str
    custom_token: str
    tokens: dict[str, Any]
    sid: str
    session: str


# --- the table -----------------------------------------------------------------------------------

Send = Callable[["Org", "Org", "Minted"], requests.Response]
"""(target org, org A, A's minted credentials) → the response."""


@dataclass(frozen=True)
class Row:
    name: str
    send: Send
    at_a: int
    at_b: int
    b_check: Callable[[requests.Response, Org, Minted], bool] = lambda _r, _a, _m: True
    """More about B's answer than its status (error code, what must not be in it)."""
    a_check: Callable[[requests.Response, Org, Minted], bool] = lambda _r, _a, _m: True
    """More about A's answer (the control) than its status."""


def ssws(target: Org, method: str, path: str, **kwargs: Any) -> requests.Response:
    """``path`` at ``target`` with ``target``'s own API token."""
    return target.api(method, path, **kwargs)


def bearer(target: Org, path: str, token: str) -> requests.Response:
    return requests.get(f"{target.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def okta_error(code: str) -> Callable[[requests.Response, Org, Minted], bool]:
    return lambda response, _a, _m: response.json().get("errorCode") == code


def oauth_error(error: str) -> Callable[[requests.Response, Org, Minted], bool]:
    return lambda response, _a, _m: response.json().get("error") == error


def inactive(response: requests.Response, _a: Org, _m: Minted) -> bool:
    return response.json() == {"active": False}


def active(response: requests.Response, _a: Org, _m: Minted) -> bool:
    return response.json().get("active") is True


def mentions_nothing_of_a(response: requests.Response, a: Org, _m: Minted) -> bool:
    return not any(a.ids[key] in response.text for key in ("user", "login", "web", "service", "server"))


def post_token(target: Org, path: str, data: dict[str, str], client: tuple[str, str]) -> requests.Response:
    return requests.post(f"{target.url}{path}", data=data, auth=client, timeout=10)


def own_web(target: Org) -> tuple[str, str]:
    return target.ids["web"], target.ids["web_secret"]


def own_service(target: Org) -> tuple[str, str]:
    return target.ids["service"], target.ids["service_secret"]


def a_web(a: Org) -> tuple[str, str]:
    return a.ids["web"], a.ids["web_secret"]


def a_service(a: Org) -> tuple[str, str]:
    return a.ids["service"], a.ids["service_secret"]


def authorize_with_session_token(t: Org, a: Org, _m: Minted) -> requests.Response:
    """Target's own client, A's user's session token."""
    params = {
        "client_id": t.ids["web"],
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": REDIRECT,
        "state": "s",
        "nonce": "n",
        "sessionToken": session_token(a),
        "prompt": "none",
    }
    return requests.get(
        f"{t.url}/oauth2/default/v1/authorize", params=params, allow_redirects=False, timeout=10
    )


def authorize_with_cookie(t: Org, _a: Org, m: Minted) -> requests.Response:
    """Target's own client, A's session cookie, ``prompt=none``: a code only for a session."""
    params = {
        "client_id": t.ids["web"],
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": REDIRECT,
        "state": "s",
        "nonce": "n",
        "prompt": "none",
    }
    return requests.get(
        f"{t.url}/oauth2/default/v1/authorize",
        params=params,
        cookies={"sid": m.sid},
        allow_redirects=False,
        timeout=10,
    )


def redirected_with_code(response: requests.Response) -> bool:
    location = response.headers.get("Location", "")
    return "code" in dict(parse_qsl(urlsplit(location).query))


def no_code(response: requests.Response, _a: Org, _m: Minted) -> bool:
    return not redirected_with_code(response)


def login_form(t: Org, a: Org, _m: Minted) -> requests.Response:
    """The hosted sign-in page with A's user's login and password."""
    browser = requests.Session()
    form = browser.get(f"{t.url}/login", timeout=10)
    csrf = browser.cookies.get("ostiary_csrf")
    assert form.status_code == 200 and csrf
    return browser.post(
        f"{t.url}/login",
        data={"username": a.ids["login"], "password": PASSWORD, "csrfToken": csrf},
        allow_redirects=False,
        timeout=10,
    )


def no_session_cookie(response: requests.Response, _a: Org, _m: Minted) -> bool:
    return "sid" not in response.cookies


def host_only_session(response: requests.Response, _a: Org, _m: Minted) -> bool:
    """A ``sid`` cookie was set for this host alone: no ``Domain`` (a cookie for ``localhost``
    would go to every org under it)."""
    set_cookie = response.headers.get("Set-Cookie", "").lower()
    return "sid" in response.cookies and "domain=" not in set_cookie


def cookie_redirect(t: Org, a: Org, _m: Minted) -> requests.Response:
    return requests.get(
        f"{t.url}/login/sessionCookieRedirect",
        params={"token": session_token(a), "redirectUrl": "/"},
        allow_redirects=False,
        timeout=10,
    )


def preflight_from_a_origin(t: Org, _a: Org, _m: Minted) -> requests.Response:
    return requests.options(
        f"{t.url}/api/v1/sessions/me",
        headers={"Origin": A_ORIGIN, "Access-Control-Request-Method": "GET"},
        timeout=10,
    )


def no_cors_for_a_origin(response: requests.Response, _a: Org, _m: Minted) -> bool:
    return response.headers.get("Access-Control-Allow-Origin") != A_ORIGIN


def keys_of(t: Org, path: str) -> set[str]:
    return {key["kid"] for key in requests.get(f"{t.url}{path}", timeout=10).json()["keys"]}


ROWS: list[Row] = [
    # --- management API: A's credentials at B ---
    Row(
        "SSWS token of A",
        lambda t, a, m: requests.get(
            f"{t.url}/api/v1/users", headers={"Authorization": f"SSWS {a.ssws}"}, timeout=10
        ),
        200,
        401,
        okta_error("E0000011"),
    ),
    Row(
        "org AS access token of A (okta.users.read)",
        lambda t, a, m: bearer(t, "/api/v1/users", m.org_token),
        200,
        401,
        okta_error("E0000011"),
    ),
    Row(
        "default AS access token of A at the management API",
        lambda t, a, m: bearer(t, "/api/v1/users", m.default_token),
        401,
        401,
    ),
    # --- management API: A's ids with B's own token ---
    Row(
        "user id of A",
        lambda t, a, m: ssws(t, "GET", f"/api/v1/users/{a.ids['user']}"),
        200,
        404,
        okta_error("E0000007"),
    ),
    Row("user login of A", lambda t, a, m: ssws(t, "GET", f"/api/v1/users/{a.ids['login']}"), 200, 404),
    Row(
        "update user of A",
        lambda t, a, m: ssws(
            t, "POST", f"/api/v1/users/{a.ids['user']}", json={"profile": {"nickName": "x"}}
        ),
        200,
        404,
    ),
    Row(
        "delete a user of A",
        lambda t, a, m: ssws(
            t, "POST", f"/api/v1/users/{_user(a, secrets.token_hex(4) + '@d.example')}/lifecycle/deactivate"
        ),
        200,
        404,
    ),
    Row(
        "user's groups of A",
        lambda t, a, m: ssws(t, "GET", f"/api/v1/users/{a.ids['user']}/groups"),
        200,
        404,
    ),
    Row("group id of A", lambda t, a, m: ssws(t, "GET", f"/api/v1/groups/{a.ids['group']}"), 200, 404),
    Row(
        "add A's user to A's group",
        lambda t, a, m: ssws(t, "PUT", f"/api/v1/groups/{a.ids['group']}/users/{a.ids['user']}"),
        204,
        404,
    ),
    Row("app id of A", lambda t, a, m: ssws(t, "GET", f"/api/v1/apps/{a.ids['web']}"), 200, 404),
    Row(
        "app grants of A", lambda t, a, m: ssws(t, "GET", f"/api/v1/apps/{a.ids['service']}/grants"), 200, 404
    ),
    Row(
        "app secrets of A",
        lambda t, a, m: ssws(t, "GET", f"/api/v1/apps/{a.ids['service']}/credentials/secrets"),
        200,
        404,
    ),
    Row(
        "authorization server of A",
        lambda t, a, m: ssws(t, "GET", f"/api/v1/authorizationServers/{a.ids['server']}"),
        200,
        404,
    ),
    Row(
        "authorization server keys of A",
        lambda t, a, m: ssws(t, "GET", f"/api/v1/authorizationServers/{a.ids['server']}/credentials/keys"),
        200,
        404,
    ),
    Row(
        "authorization server policies of A",
        lambda t, a, m: ssws(t, "GET", f"/api/v1/authorizationServers/{a.ids['server']}/policies"),
        200,
        404,
    ),
    Row(
        "trusted origin of A",
        lambda t, a, m: ssws(t, "GET", f"/api/v1/trustedOrigins/{a.ids['origin']}"),
        200,
        404,
    ),
    Row(
        "API token id of A",
        lambda t, a, m: ssws(t, "GET", f"/api/v1/api-tokens/{a.ids['api_token']}"),
        200,
        404,
    ),
    Row("session id of A", lambda t, a, m: ssws(t, "GET", f"/api/v1/sessions/{m.session}"), 200, 404),
    Row(
        "user list shows no user of A",
        lambda t, a, m: ssws(t, "GET", "/api/v1/users"),
        200,
        200,
        lambda r, a, m: a.ids["login"] not in r.text,
    ),
    Row(
        "app list shows no app of A",
        lambda t, a, m: ssws(t, "GET", "/api/v1/apps"),
        200,
        200,
        mentions_nothing_of_a,
    ),
    Row(
        "system log shows no event of A",
        lambda t, a, m: ssws(t, "GET", "/api/v1/logs"),
        200,
        200,
        mentions_nothing_of_a,
    ),
    Row(
        "server list shows no server of A",
        lambda t, a, m: ssws(t, "GET", "/api/v1/authorizationServers"),
        200,
        200,
        mentions_nothing_of_a,
    ),
    # --- OAuth: A's clients, codes and tokens at B ---
    Row(
        "client credentials of A at /oauth2/v1/token",
        lambda t, a, m: post_token(
            t,
            "/oauth2/v1/token",
            {"grant_type": "client_credentials", "scope": "okta.users.read"},
            a_service(a),
        ),
        200,
        401,
        oauth_error("invalid_client"),
    ),
    Row(
        "client credentials of A at /oauth2/default/v1/token",
        lambda t, a, m: post_token(
            t,
            "/oauth2/default/v1/token",
            {"grant_type": "client_credentials", "scope": "openid"},
            a_service(a),
        ),
        200,
        401,
        oauth_error("invalid_client"),
    ),
    Row(
        "client credentials of A at /oauth2/{A's server}/v1/token",
        lambda t, a, m: post_token(
            t,
            f"/oauth2/{a.ids['server']}/v1/token",
            {"grant_type": "client_credentials", "scope": "iso:read"},
            a_service(a),
        ),
        200,
        404,
    ),
    Row(
        "code of A with A's client",
        lambda t, a, m: post_token(
            t,
            "/oauth2/default/v1/token",
            {"grant_type": "authorization_code", "code": code(a), "redirect_uri": REDIRECT},
            a_web(a),
        ),
        200,
        401,
        oauth_error("invalid_client"),
    ),
    Row(
        "code of A with B's own client",
        lambda t, a, m: post_token(
            t,
            "/oauth2/default/v1/token",
            {"grant_type": "authorization_code", "code": code(a), "redirect_uri": REDIRECT},
            own_web(t),
        ),
        200,
        400,
        oauth_error("invalid_grant"),
    ),
    Row(
        "refresh token of A with B's own client",
        lambda t, a, m: post_token(
            t,
            "/oauth2/default/v1/token",
            {"grant_type": "refresh_token", "refresh_token": redeem(a, code(a))["refresh_token"]},
            own_web(t),
        ),
        200,
        400,
        oauth_error("invalid_grant"),
    ),
    Row(
        "refresh token of A with A's client",
        lambda t, a, m: post_token(
            t,
            "/oauth2/default/v1/token",
            {"grant_type": "refresh_token", "refresh_token": m.tokens["refresh_token"]},
            a_web(a),
        ),
        200,
        401,
        oauth_error("invalid_client"),
    ),
    Row(
        "introspect A's org AS token (B's own service client)",
        lambda t, a, m: post_token(t, "/oauth2/v1/introspect", {"token": m.org_token}, own_service(t)),
        200,
        200,
        inactive,
        active,
    ),
    Row(
        "introspect A's default AS token (B's own client)",
        lambda t, a, m: post_token(
            t, "/oauth2/default/v1/introspect", {"token": m.default_token}, own_web(t)
        ),
        200,
        200,
        inactive,
        active,
    ),
    Row(
        "introspect A's refresh token (B's own client)",
        lambda t, a, m: post_token(
            t,
            "/oauth2/default/v1/introspect",
            {"token": m.tokens["refresh_token"], "token_type_hint": "refresh_token"},
            own_web(t),
        ),
        200,
        200,
        inactive,
        active,
    ),
    Row(
        "introspect A's ID token (B's own client)",
        lambda t, a, m: post_token(
            t, "/oauth2/default/v1/introspect", {"token": m.tokens["id_token"]}, own_web(t)
        ),
        200,
        200,
        inactive,  # A itself answers active:false for ID tokens: this row guards B only
    ),
    Row(
        "introspect A's custom AS token at /oauth2/{A's server}",
        lambda t, a, m: post_token(
            t, f"/oauth2/{a.ids['server']}/v1/introspect", {"token": m.custom_token}, own_web(t)
        ),
        200,
        404,
    ),
    Row(
        "keys of A's server at /oauth2/{A's server}/v1/keys",
        lambda t, a, m: requests.get(f"{t.url}/oauth2/{a.ids['server']}/v1/keys", timeout=10),
        200,
        404,
    ),
    Row(
        "metadata of A's server at /oauth2/{A's server}/.well-known/openid-configuration",
        lambda t, a, m: requests.get(
            f"{t.url}/oauth2/{a.ids['server']}/.well-known/openid-configuration", timeout=10
        ),
        200,
        404,
    ),
    Row(
        "introspect with A's client",
        lambda t, a, m: post_token(t, "/oauth2/default/v1/introspect", {"token": m.default_token}, a_web(a)),
        200,
        401,
        oauth_error("invalid_client"),
    ),
    Row(
        "revoke with A's client",
        lambda t, a, m: post_token(
            t, "/oauth2/default/v1/revoke", {"token": redeem(a, code(a))["refresh_token"]}, a_web(a)
        ),
        200,
        401,
        oauth_error("invalid_client"),
    ),
    Row(
        "userinfo with A's access token (default)",
        lambda t, a, m: bearer(t, "/oauth2/default/v1/userinfo", m.tokens["access_token"]),
        200,
        401,
    ),
    Row(
        "userinfo with A's access token (/oauth2/v1)",
        lambda t, a, m: bearer(t, "/oauth2/v1/userinfo", m.tokens["access_token"]),
        401,
        401,
    ),
    Row(
        "authorize with A's client id",
        lambda t, a, m: requests.get(
            f"{t.url}/oauth2/default/v1/authorize",
            params={
                "client_id": a.ids["web"],
                "response_type": "code",
                "scope": "openid",
                "redirect_uri": REDIRECT,
                "state": "s",
                "nonce": "n",
                "sessionToken": session_token(a),
            },
            allow_redirects=False,
            timeout=10,
        ),
        302,
        400,
        no_code,
    ),
    Row(
        "authorize with A's session token (B's own client)",
        authorize_with_session_token,
        302,
        302,
        no_code,
        lambda r, _a, _m: redirected_with_code(r),
    ),
    Row(
        "authorize with A's session cookie (B's own client)",
        authorize_with_cookie,
        302,
        302,
        no_code,
        lambda r, _a, _m: redirected_with_code(r),
    ),
    Row(
        "logout with A's ID token hint",
        lambda t, a, m: requests.get(
            f"{t.url}/oauth2/default/v1/logout",
            params={"id_token_hint": m.tokens["id_token"]},
            allow_redirects=False,
            timeout=10,
        ),
        302,
        400,
    ),
    # --- authn, sign-in and sessions ---
    Row(
        "authn with A's user's password",
        lambda t, a, m: requests.post(
            f"{t.url}/api/v1/authn", json={"username": a.ids["login"], "password": PASSWORD}, timeout=10
        ),
        200,
        401,
        okta_error("E0000004"),
    ),
    Row("sign-in page with A's user's password", login_form, 303, 200, no_session_cookie, host_only_session),
    Row(
        "session from A's session token",
        lambda t, a, m: requests.post(
            f"{t.url}/api/v1/sessions", json={"sessionToken": session_token(a)}, timeout=10
        ),
        200,
        401,
    ),
    Row(
        "session cookie redirect with A's session token",
        cookie_redirect,
        302,
        302,
        no_session_cookie,
        host_only_session,
    ),
    Row(
        "sessions/me with A's cookie",
        lambda t, a, m: requests.get(f"{t.url}/api/v1/sessions/me", cookies={"sid": m.sid}, timeout=10),
        200,
        404,
    ),
    Row(
        "refresh sessions/me with A's cookie",
        lambda t, a, m: requests.post(
            f"{t.url}/api/v1/sessions/me/lifecycle/refresh", cookies={"sid": m.sid}, timeout=10
        ),
        200,
        404,
    ),
    Row(
        "end A's session by id",
        lambda t, a, m: ssws(t, "DELETE", f"/api/v1/sessions/{session_id(a)}"),
        204,
        404,
    ),
    Row(
        "CORS preflight from A's trusted origin",
        preflight_from_a_origin,
        200,
        204,
        no_cors_for_a_origin,
        lambda r, _a, _m: r.headers.get("Access-Control-Allow-Origin") == A_ORIGIN,
    ),
]


SERVE_ENV: dict[str, str] = {}
"""The environment of the module's ``ostiary serve`` (and of the CLI run next to it)."""


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Org, Org, Minted]]:
    tmp = Path(tmp_path_factory.mktemp("orgs"))
    port = free_port()
    env = {
        "OSTIARY_DATA_DIR": str(tmp / "data"),
        "OSTIARY_BASE_URL": f"http://localhost:{port}",
        "OSTIARY_LOG_LEVEL": "warning",
        "OSTIARY_RATE_LIMITS": "off",
    }
    SERVE_ENV.update(env)
    a, b = _org(env, "orga"), _org(env, "orgb")
    args = [OSTIARY, "serve", "--port", str(port)]
    with localhost_subdomains(), running(args, f"http://127.0.0.1:{port}/healthz", env, tmp / "serve.log"):
        _setup(a)
        _setup(b)
        tokens = redeem(a, code(a))
        minted = Minted(
            org_token=client_credentials(a, "/oauth2/v1/token", "okta.users.read"),
            default_token=tokens["access_token"],
            custom_token=client_credentials(a, f"/oauth2/{a.ids['server']}/v1/token", "iso:read"),
            tokens=tokens,
            sid=session_cookie(a),
            session=session_id(a),
        )
        yield a, b, minted
        a.admin.close()
        b.admin.close()


@pytest.mark.parametrize("row", ROWS, ids=[row.name for row in ROWS])
def test_what_org_a_minted_is_refused_at_org_b(row: Row, deployment: tuple[Org, Org, Minted]) -> None:
    a, b, minted = deployment
    at_b = row.send(b, a, minted)
    assert at_b.status_code == row.at_b, at_b.text[:300]
    assert row.b_check(at_b, a, minted), at_b.text[:300]
    at_a = row.send(a, a, minted)  # the control: in its own org the same request works
    assert at_a.status_code == row.at_a, at_a.text[:300]
    assert row.a_check(at_a, a, minted), at_a.text[:300]


def test_each_org_has_its_own_issuers_and_keys(deployment: tuple[Org, Org, Minted]) -> None:
    a, b, _ = deployment
    for path, suffix in (
        ("/.well-known/openid-configuration", ""),
        ("/oauth2/default/.well-known/openid-configuration", "/oauth2/default"),
    ):
        assert requests.get(f"{a.url}{path}", timeout=10).json()["issuer"] == a.url + suffix
        assert requests.get(f"{b.url}{path}", timeout=10).json()["issuer"] == b.url + suffix
    for path in ("/oauth2/v1/keys", "/oauth2/default/v1/keys"):
        assert keys_of(a, path) and keys_of(b, path)
        assert not keys_of(a, path) & keys_of(b, path)


def test_an_unknown_org_is_404_in_oktas_shape(deployment: tuple[Org, Org, Minted]) -> None:
    a, _, _ = deployment
    unknown = a.url.replace("orga.", "nosuchorg.")
    response = requests.get(f"{unknown}/oauth2/v1/keys", timeout=10)
    assert response.status_code == 404
    assert response.json()["errorCode"] == "E0000007"


def test_an_org_created_while_serve_runs_is_served_without_a_restart(
    deployment: tuple[Org, Org, Minted],
) -> None:
    a, _, _ = deployment
    late = a.url.replace("orga.", "late.")
    discovery = f"{late}/.well-known/openid-configuration"
    assert requests.get(discovery, timeout=10).status_code == 404  # now cached as "no such org"
    assert ostiary_cli(SERVE_ENV, "org", "create", "late").strip().splitlines()[-1] == late
    assert until(lambda: requests.get(discovery, timeout=10).status_code == 200, 15.0)
    assert requests.get(discovery, timeout=10).json()["issuer"] == late


def test_a_custom_domain_added_while_serve_runs_names_its_org(deployment: tuple[Org, Org, Minted]) -> None:
    a, _, _ = deployment
    port = urlsplit(a.url).port
    discovery = f"http://127.0.0.1:{port}/.well-known/openid-configuration"
    headers = {"Host": "id.orga.test"}
    refused = requests.get(discovery, headers=headers, timeout=10)
    assert refused.status_code == 404 and refused.json()["errorCode"] == "E0000007"
    assert ostiary_cli(SERVE_ENV, "org", "domain", "add", "orga", "id.orga.test").strip() == "id.orga.test"
    assert until(lambda: requests.get(discovery, headers=headers, timeout=10).status_code == 200, 15.0)
    assert requests.get(discovery, headers=headers, timeout=10).json()["issuer"] == a.url
    users = requests.get(
        f"http://127.0.0.1:{port}/api/v1/users",
        headers={**headers, "Authorization": f"SSWS {a.ssws}", "Accept": "application/json"},
        timeout=10,
    )
    assert users.status_code == 200 and a.ids["login"] in users.text
