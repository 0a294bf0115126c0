"""The sample integration (``examples/integration/acme_sync.py``) against two customer orgs of a
real ``ostiary serve``: each customer installs it, the vendor stores both credentials and prints
each org's users and groups; tokens are reused from the store until near expiry; an uninstall
stops that customer only."""

from __future__ import annotations

import importlib.util
import io
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.e2e.multi_org import PlainServer, plain_server, resolve_localhost_subdomains

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "integration" / "acme_sync.py"
API = "/integrations/api/v1/api-services"
ENTRY = "type: acme_sync\nname: Acme Sync\nscopes: [okta.users.read, okta.groups.read, okta.apps.read]\n"
PEOPLE = {"acme": ["ada@acme.example", "alan@acme.example"], "globex": ["grace@globex.example"]}
TEAMS = {"acme": "Acme Engineers", "globex": "Globex Ops"}


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("acme_sync", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PlainServer, dict[str, str]]]:
    tmp = Path(tmp_path_factory.mktemp("example"))
    with resolve_localhost_subdomains(), plain_server(tmp) as running:
        (tmp / "entry.yaml").write_text(ENTRY)
        running.cli("integration", "publish", "-f", str(tmp / "entry.yaml"))
        tokens = {org: running.create_org(org) for org in PEOPLE}
        for org, logins in PEOPLE.items():
            with admin(running, tokens[org], org) as client:
                for login in logins:
                    first = login.split("@")[0]
                    body = {"profile": {"login": login, "email": login, "firstName": first, "lastName": "X"}}
                    assert client.post("/api/v1/users", json=body).status_code == 200
                assert (
                    client.post("/api/v1/groups", json={"profile": {"name": TEAMS[org]}}).status_code == 200
                )
        yield running, tokens


def admin(server: PlainServer, token: str, org: str) -> httpx.Client:
    return httpx.Client(base_url=server.org_url(org), headers={"Authorization": f"SSWS {token}"}, timeout=30)


def run(example: ModuleType, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = example.main(list(args), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


def test_the_sample_integration_reports_each_customer_org(
    server: tuple[PlainServer, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    running, tokens = server
    example = load_example()
    store = tmp_path / "customers.json"
    installs = {}
    with resolve_localhost_subdomains():
        for org, token in tokens.items():
            with admin(running, token, org) as client:
                created = client.post(
                    API, json={"type": "acme_sync", "grantedScopes": ["okta.users.read", "okta.groups.read"]}
                )
                assert created.status_code == 201, created.text
                installs[org] = created.json()
            monkeypatch.setenv(f"{org.upper()}_SECRET", installs[org]["clientSecret"])
            code, out, _ = run(
                example,
                "--store", str(store), "add-customer", org,
                "--domain", running.org_url(org),
                "--client-id", installs[org]["id"],
                "--client-secret-env", f"{org.upper()}_SECRET",
            )  # fmt: skip
            assert (code, out.strip()) == (0, f"stored {org}")
        assert stat.S_IMODE(store.stat().st_mode) == 0o600

        code, out, err = run(example, "--store", str(store), "report")
        assert code == 0, out + err
        sections = dict(part.split("\n", 1) for part in out.split("== ")[1:])
        acme = next(body for head, body in sections.items() if head.startswith("acme"))
        globex = next(body for head, body in sections.items() if head.startswith("globex"))
        for login in PEOPLE["acme"]:
            assert f"user  {login}" in acme and login not in globex
        assert "user  grace@globex.example" in globex and "grace" not in acme
        assert "group Acme Engineers" in acme and "group Everyone" in acme and "Globex Ops" not in acme
        assert "group Globex Ops" in globex and "Acme Engineers" not in globex
        assert err.count("token: fetched") == 2

        # the second run reuses both tokens from the store
        code, again, err = run(example, "--store", str(store), "report")
        assert code == 0 and again == out
        assert err.count("token: cached") == 2 and "fetched" not in err

        # a token about to expire is replaced
        data = json.loads(store.read_text())
        data["customers"]["acme"]["token"]["expires_at"] = 0
        store.write_text(json.dumps(data))
        code, _, err = run(example, "--store", str(store), "report")
        assert code == 0 and "token: fetched for " + running.org_url("acme") in err

        # globex uninstalls: its stored token and credentials stop at once; acme still works
        with admin(running, tokens["globex"], "globex") as client:
            assert client.delete(f"{API}/{installs['globex']['id']}").status_code == 204
        code, out, _ = run(example, "--store", str(store), "report")
        assert code == 1
        globex_part = out.split("== globex", 1)[1]
        assert "error: 401" in globex_part and "grace" not in globex_part
        assert "user  ada@acme.example" in out
        code, out, _ = run(example, "--store", str(store), "report")  # token dropped: the secret is refused
        assert code == 1 and "error: 401 invalid_client" in out


def test_add_customer_needs_the_secret_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_SECRET", raising=False)
    code, _, err = run(
        load_example(),
        "--store", str(tmp_path / "s.json"), "add-customer", "x",
        "--domain", "x.example", "--client-id", "0oa1", "--client-secret-env", "NO_SUCH_SECRET",
    )  # fmt: skip
    assert code == 2 and "NO_SUCH_SECRET" in err and not (tmp_path / "s.json").exists()
