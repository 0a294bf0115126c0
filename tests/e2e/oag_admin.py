"""Driving a real ``ostiary access-gateway`` through its admin API, as an operator would:
an API client from ``api-client create``, a client assertion built as the seed shows, then
Bearer calls."""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import jwt
import requests

from tests.e2e.servers import OSTIARY, free_port, running

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class AccessGateway:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self.url = f"http://localhost:{port}"

    def create_client(self, name: str = "e2e", *scopes: str) -> dict[str, Any]:
        args = [
            OSTIARY,
            "access-gateway",
            "api-client",
            "create",
            "--name",
            name,
            "--data-dir",
            str(self.data_dir),
        ]
        for scope in scopes:
            args += ["--scope", scope]
        result = subprocess.run(args, capture_output=True, text=True, check=True, env=dict(os.environ))
        created: dict[str, Any] = json.loads(result.stdout)
        return created


@contextmanager
def access_gateway(tmp_path: Path, *extra_args: str) -> Iterator[AccessGateway]:
    gateway = AccessGateway(tmp_path / "oag", free_port())
    args = [
        OSTIARY,
        "access-gateway",
        "--port",
        str(gateway.port),
        "--data-dir",
        str(gateway.data_dir),
        *extra_args,
    ]
    env = {"OSTIARY_LOG_LEVEL": "warning"}
    with running(args, f"{gateway.url}/healthz", env, tmp_path / "access-gateway.log"):
        yield gateway


def seed_assertion(client: dict[str, Any], scope: str, **claims: Any) -> str:
    """Exactly the seed's assertion: header ``{alg: RS256, typ: JWT}``, no ``kid``, no ``jti``."""
    now = int(time.time())
    payload = {
        "iss": client["client_id"],
        "sub": client["client_id"],
        "aud": client["audience"],
        "exp": now + 300,
        "iat": now,
        "scope": scope,
        **claims,
    }
    payload = {name: value for name, value in payload.items() if value is not None}
    return jwt.encode(payload, client["private_key_pem"], algorithm="RS256", headers={"typ": "JWT"})


def token_request(client: dict[str, Any], assertion: str, scope: str | None) -> requests.Response:
    form = {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
    }
    if scope is not None:
        form["scope"] = scope
    return requests.post(client["token_url"], data=form, timeout=10)


def access_token(client: dict[str, Any], scope: str | None = None) -> str:
    """A token for ``scope``. The assertion carries a ``jti``: two of the seed's exact assertions
    (no ``jti``) for one scope in the same second are the same bytes, and single use refuses the
    second (the seed's exact form has its own tests)."""
    scope = scope or " ".join(client["scopes"])
    response = token_request(client, seed_assertion(client, scope, jti=uuid.uuid4().hex), scope)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def admin_session(client: dict[str, Any], scope: str | None = None) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {access_token(client, scope)}"
    session.headers["Accept"] = "application/json"
    return session
