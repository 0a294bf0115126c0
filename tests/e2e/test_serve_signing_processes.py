"""`ostiary serve` signs tokens in child processes of its own (one per CPU by default), which
end with it; `OSTIARY_SIGNING_PROCESSES=0` keeps the signing on threads."""

from __future__ import annotations

import time
from pathlib import Path

import jwt
import requests

from ostiary.cpus import available_cpus
from tests.e2e.servers import OrgServer, org_server
from tests.support.jwt_verifier import service_client


def signing_children(pid: int) -> list[int]:
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(child) for child in (task / "children").read_text().split()]
    return [child for child in children if b"ostiary.jose.sign_worker" in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def tokens_verify(org: OrgServer, count: int) -> None:
    client_id, secret = service_client(org, org.create_token("signing"))
    issuer = f"{org.url}/oauth2/default"
    keys = jwt.PyJWKClient(f"{issuer}/v1/keys", cache_keys=False)
    with requests.Session() as session:
        session.auth = (client_id, secret)
        for _ in range(count):
            response = session.post(
                f"{issuer}/v1/token",
                data={"grant_type": "client_credentials", "scope": "api:read"},
                timeout=10,
            )
            assert response.status_code == 200, response.text
            token = response.json()["access_token"]
            claims = jwt.decode(
                token,
                keys.get_signing_key_from_jwt(token).key,
                algorithms=["RS256"],
                audience="api://default",
            )
            assert claims["cid"] == client_id


def test_serve_signs_in_child_processes_that_end_with_it(tmp_path: Path) -> None:
    with org_server(tmp_path) as org:
        assert org.process is not None
        tokens_verify(org, 5)
        children = signing_children(org.process.pid)
        assert len(children) == available_cpus()
        org.process.terminate()
        org.process.wait(timeout=15)
    deadline = time.monotonic() + 10
    while any(_cmdline(child) for child in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(b"sign_worker" in _cmdline(child) for child in children)


def test_zero_signing_processes_keeps_signing_on_threads(tmp_path: Path) -> None:
    with org_server(tmp_path, OSTIARY_SIGNING_PROCESSES="0") as org:
        assert org.process is not None
        tokens_verify(org, 3)
        assert signing_children(org.process.pid) == []
