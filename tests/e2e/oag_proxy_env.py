"""What the access gateway proxy's e2e tests share: a legacy echo app, ASGI apps on threads,
an org with users, groups and the gateway app's OIDC client (made through the management
API), and app documents as the admin API returns them."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
import uvicorn

from tests.e2e.servers import OrgServer

PASSWORD = "Tr1cky-Secret!"


@dataclass
class EchoApp:
    """A legacy app that trusts headers: it answers every request with what it received
    (method, path, query, headers, cookies, body size) as JSON, and counts its requests."""

    name: str
    health_status: int = 200
    hits: list[str] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        size = 0
        while True:
            message = await receive()
            size += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        path = scope["path"]
        if path == "/health":
            await _answer(send, self.health_status, {"health": self.health_status})
            return
        self.hits.append(path)
        if path.startswith("/slow"):
            await asyncio.sleep(3)
        headers: dict[str, list[str]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
        body = {
            "upstream": self.name,
            "method": scope["method"],
            "path": path,
            "query": scope["query_string"].decode("latin-1"),
            "headers": {k: v[0] if len(v) == 1 else v for k, v in headers.items()},
            "body_bytes": size,
        }
        await _answer(send, 200, body)


async def _answer(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body, indent=1).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


@contextmanager
def serve_asgi(app: Any, port: int, *, lifespan: str = "off") -> Iterator[uvicorn.Server]:
    """``app`` on a thread; uvicorn trusts no client's ``X-Forwarded-*`` (as the gateway must not)."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan, proxy_headers=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"asgi-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the app on port {port} did not start")
        time.sleep(0.02)
    try:
        yield server
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def localhost_names_resolve_to_loopback() -> Iterator[None]:
    """``*.localhost`` → 127.0.0.1 in this process only (Chromium does it by itself)."""
    original = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".localhost"):
            host = "127.0.0.1"
        return original(host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield
    finally:
        socket.getaddrinfo = original  # type: ignore[assignment]


class Org:
    """The org through its management API (an SSWS token)."""

    def __init__(self, server: OrgServer, name: str) -> None:
        self.server = server
        self.url = server.url
        self.admin = requests.Session()
        self.admin.headers.update(
            {"Authorization": f"SSWS {server.create_token(name)}", "Accept": "application/json"}
        )

    def user(self, login: str, first: str, last: str) -> str:
        body = {
            "profile": {"login": login, "email": login, "firstName": first, "lastName": last},
            "credentials": {"password": {"value": PASSWORD}},
        }
        response = self.admin.post(f"{self.url}/api/v1/users?activate=true", json=body)
        assert response.status_code == 200, response.text
        return str(response.json()["id"])

    def group(self, name: str, *members: str) -> str:
        response = self.admin.post(f"{self.url}/api/v1/groups", json={"profile": {"name": name}})
        assert response.status_code == 200, response.text
        group_id = str(response.json()["id"])
        for member in members:
            added = self.admin.put(f"{self.url}/api/v1/groups/{group_id}/users/{member}")
            assert added.status_code == 204, added.text
        return group_id

    def gateway_client(self, label: str, public_origin: str, *groups: str) -> dict[str, str]:
        """The OIDC web app the admin API makes for a gateway app (callback and signed-out
        URIs on the public domain), assigned to ``groups``; its ``ostiaryOidc`` member."""
        body = {
            "name": "oidc_client",
            "label": label,
            "signOnMode": "OPENID_CONNECT",
            "credentials": {
                "oauthClient": {"token_endpoint_auth_method": "client_secret_basic", "pkce_required": True}
            },
            "settings": {
                "oauthClient": {
                    "application_type": "web",
                    "grant_types": ["authorization_code"],
                    "response_types": ["code"],
                    "redirect_uris": [f"{public_origin}/_ostiary/callback"],
                    "post_logout_redirect_uris": [f"{public_origin}/_ostiary/signed-out"],
                }
            },
        }
        response = self.admin.post(f"{self.url}/api/v1/apps", json=body)
        assert response.status_code == 200, response.text
        app = response.json()
        for group in groups:
            assigned = self.admin.put(f"{self.url}/api/v1/apps/{app['id']}/groups/{group}", json={})
            assert assigned.status_code == 200, assigned.text
        oauth = app["credentials"]["oauthClient"]
        return {"orgUrl": self.url, "clientId": oauth["client_id"], "clientSecret": oauth["client_secret"]}

    def session_token(self, login: str) -> str:
        response = requests.post(
            f"{self.url}/api/v1/authn", json={"username": login, "password": PASSWORD}, timeout=10
        )
        assert response.status_code == 200 and response.json()["status"] == "SUCCESS", response.text
        return str(response.json()["sessionToken"])

    def close(self) -> None:
        self.admin.close()


def app_document(
    app_id: str,
    public_domain: str,
    upstreams: list[tuple[str, int]],
    oidc: dict[str, str] | None,
    *,
    groups: list[str] | None = None,
    policies: list[dict[str, Any]] | None = None,
    attributes: list[dict[str, Any]] | None = None,
    behavior: dict[str, Any] | None = None,
    health_check: dict[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An app as ``GET /api/v2/apps/{id}?expand=...`` returns it, plus ``ostiaryOidc``."""
    document: dict[str, Any] = {
        "id": app_id,
        "name": app_id,
        "type": "OAG_HEADER_BASED",
        "label": app_id,
        "idpId": "3f63f461-c7fc-483b-b2ae-961633d251ac",
        "publicDomain": public_domain,
        "status": "ACTIVE",
        "postLoginUrl": f"http://{public_domain}/",
        "groups": groups or [],
        "loadBalanced": len(upstreams) > 1,
        "usePublicDomainAsHostHeader": False,
        "maxFileSize": 1,
        "proxyReadTimeout": 30,
        "_embedded": {
            "healthCheck": {"enabled": False, **(health_check or {})},
            "behavior": {"logoutPath": "/oagLogout", **(behavior or {})},
            "session": {"idleSession": True, "idleSessionTimeout": 3600, "maxSessionTimeout": 28800},
            "protectedResources": [
                {"id": f"{app_id}-{i}", "hostname": host, "assignedWeight": weight, "active": True}
                for i, (host, weight) in enumerate(upstreams)
            ],
            "policies": policies
            or [
                {
                    "name": "root",
                    "resourcePath": "/",
                    "rule": "PROTECTED",
                    "active": True,
                    "caseSensitive": True,
                }
            ],
            "attributes": attributes
            or [
                {"name": "X-Remote-User", "source": "IDP", "value": "login", "type": "HEADER", "active": True}
            ],
        },
        **extra,
    }
    if oidc is not None:
        document["ostiaryOidc"] = oidc
    return document
