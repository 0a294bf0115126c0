"""Issue 21, the org as a file: ``ostiary apply -f`` run as users run it (the installed CLI, a
data dir of its own), then a real ``ostiary serve`` on that data dir handing out tokens to the
file's fixed client credentials."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
import yaml
from okta_jwt_verifier import AccessTokenVerifier

from tests.e2e.servers import OSTIARY, OrgServer, free_port, org_server, wait_until_up
from tests.support.memory_server import read_token

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "org.example.yaml"
SILVER, GOLD = "http://myapp.com/scp/silver", "http://myapp.com/scp/gold"
CREATED = [
    "create group silverSubscribers",
    "create group goldSubscribers",
    "create user clark.kent@example.com",
    "create membership clark.kent@example.com in silverSubscribers",
    "create user lois.lane@example.com",
    "create membership lois.lane@example.com in goldSubscribers",
    "create app API Center demo app",
    "create assignment group silverSubscribers to API Center demo app",
    "create assignment group goldSubscribers to API Center demo app",
    "create app Solar system service",
    "create authorizationServer Solar System API",
    f"create scope Solar System API/{SILVER}",
    f"create scope Solar System API/{GOLD}",
    "create claim Solar System API/client",
    "create policy Solar System API/Solar system API access",
    "create rule Solar System API/Solar system API access/gold access to solar system API",
    "create rule Solar System API/Solar system API access/silver access to solar system API",
    "create policy Solar System API/Solar system services",
    "create rule Solar System API/Solar system services/services get silver",
    "create trustedOrigin API Center demo app",
    "create apiToken ci",
]
FIXED_TOKEN = "00ci-fixed-token-for-tests-0123456789ab"


def apply(data_dir: Path, file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSTIARY_DATA_DIR": str(data_dir), "OSTIARY_LOG_LEVEL": "warning"}
    return subprocess.run([OSTIARY, "apply", "-f", str(file), *args], env=env, capture_output=True, text=True)


def variant(tmp_path: Path, change: Callable[[dict[str, Any]], None]) -> Path:
    doc = yaml.safe_load(SAMPLE.read_text())
    change(doc)
    path = tmp_path / "org.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[OrgServer, str]]:
    """The sample applied to a new data dir, then ``ostiary serve`` on it."""
    root = Path(tmp_path_factory.mktemp("apply"))
    first = apply(root / "org", SAMPLE)
    assert first.returncode == 0, first.stderr
    with org_server(root) as server:
        yield server, first.stdout


def test_first_apply_prints_one_line_per_change_and_a_summary(applied: tuple[OrgServer, str]) -> None:
    assert applied[1].splitlines() == [*CREATED, "21 created, 0 updated, 0 deleted"]


async def test_the_fixed_client_credentials_get_a_token_from_the_fixed_issuer(
    applied: tuple[OrgServer, str],
) -> None:
    server, _ = applied
    issuer = f"{server.url}/oauth2/ausSolarSystem"
    response = requests.post(
        f"{issuer}/v1/token",
        data={"grant_type": "client_credentials", "scope": SILVER},
        auth=("0oaSolarService", "solar-service-secret-0123456789abcdef"),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == SILVER
    access_token = response.json()["access_token"]
    await AccessTokenVerifier(issuer=issuer, audience="api://solarsystem").verify(access_token)
    claims = jwt.decode(access_token, options={"verify_signature": False})  # verified just above
    assert claims["cid"] == "0oaSolarService" and claims["client"] == "solar-0oaSolarService"
    gold = requests.post(
        f"{issuer}/v1/token",
        data={"grant_type": "client_credentials", "scope": GOLD},
        auth=("0oaSolarService", "solar-service-secret-0123456789abcdef"),
        timeout=10,
    )
    assert gold.status_code == 400 and gold.json()["error"] == "access_denied"  # no rule grants gold


def test_the_fixed_api_token_reads_the_management_api(applied: tuple[OrgServer, str]) -> None:
    server, _ = applied
    listed = requests.get(
        f"{server.url}/api/v1/groups", headers={"Authorization": f"SSWS {FIXED_TOKEN}"}, timeout=10
    )
    assert listed.status_code == 200, listed.text
    names = {group["profile"]["name"] for group in listed.json()}
    assert {"silverSubscribers", "goldSubscribers"} <= names
    origins = requests.get(
        f"{server.url}/api/v1/trustedOrigins", headers={"Authorization": f"SSWS {FIXED_TOKEN}"}, timeout=10
    ).json()
    assert [(o["name"], o["origin"]) for o in origins] == [("API Center demo app", "http://localhost:3090")]


def test_applying_the_same_file_again_changes_nothing(applied: tuple[OrgServer, str]) -> None:
    again = apply(applied[0].data_dir, SAMPLE)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["0 created, 0 updated, 0 deleted"]


def test_a_changed_field_updates_in_place(tmp_path: Path) -> None:
    assert apply(tmp_path / "data", SAMPLE).returncode == 0

    def change(doc: dict[str, Any]) -> None:
        doc["groups"][1]["profile"]["description"] = "gold, and more"
        doc["users"][0]["profile"]["lastName"] = "Kent-Lane"
        doc["apps"][1]["credentials"]["oauthClient"]["token_endpoint_auth_method"] = "client_secret_post"
        doc["authorizationServers"][0]["scopes"][1]["description"] = "gold"
        rule = doc["authorizationServers"][0]["policies"][1]["rules"][0]
        rule["conditions"]["scopes"]["include"].append(GOLD)
        doc["trustedOrigins"][0]["scopes"] = [{"type": "CORS"}]
        doc["authorizationServers"][0]["claims"][0]["value"] = "app.clientId"
        doc["apps"][1]["grants"] = ["okta.groups.read"]

    changed = apply(tmp_path / "data", variant(tmp_path, change))
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.splitlines() == [
        "update group goldSubscribers",
        "update user clark.kent@example.com",
        "update app Solar system service",
        "create grant okta.groups.read to Solar system service",
        f"update scope Solar System API/{GOLD}",
        "update claim Solar System API/client",
        "update rule Solar System API/Solar system services/services get silver",
        "update trustedOrigin API Center demo app",
        "1 created, 7 updated, 0 deleted",
    ]
    assert apply(tmp_path / "data", variant(tmp_path, change)).stdout.splitlines() == [
        "0 created, 0 updated, 0 deleted"
    ]


def test_dry_run_prints_the_plan_and_changes_nothing(tmp_path: Path) -> None:
    planned = apply(tmp_path / "data", SAMPLE, "--dry-run")
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines() == [*CREATED, "dry run: 21 created, 0 updated, 0 deleted"]
    assert apply(tmp_path / "data", SAMPLE).stdout.splitlines()[-1] == "21 created, 0 updated, 0 deleted"


def _rule_scope(doc: dict[str, Any]) -> None:
    rule = doc["authorizationServers"][0]["policies"][1]["rules"][0]
    rule["conditions"]["scopes"]["include"] = ["platinum"]


def _user_group(doc: dict[str, Any]) -> None:
    doc["users"][1]["groups"] = ["platinumSubscribers"]


def _policy_client(doc: dict[str, Any]) -> None:
    doc["authorizationServers"][0]["policies"][1]["conditions"]["clients"]["include"] = ["No such app"]


def _app_body(doc: dict[str, Any]) -> None:
    doc["apps"][1]["settings"]["oauthClient"]["grant_types"] = ["password-please"]


def _token_value(doc: dict[str, Any]) -> None:
    doc["apiTokens"][0]["token"] = "short"


def _rule_people(doc: dict[str, Any]) -> None:
    doc["authorizationServers"][0]["policies"][0]["rules"][1]["conditions"]["people"]["groups"]["include"] = (
        "gold"
    )


def _top_level(doc: dict[str, Any]) -> None:
    doc["gruops"] = []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            _rule_scope,
            "authorizationServers[0].policies[1].rules[0].conditions.scopes: unknown scope 'platinum'",
        ),
        (_user_group, "users[1].groups[0]: no group named 'platinumSubscribers'"),
        (
            _policy_client,
            "authorizationServers[0].policies[1].conditions.clients.include[0]: "
            "no app labelled 'No such app'",
        ),
        (_app_body, "apps[1]: "),
        (_top_level, "gruops: unknown key"),
        (
            _rule_people,
            "authorizationServers[0].policies[0].rules[1].conditions.people.groups.include: must be a list",
        ),
        (_token_value, "apiTokens[0].token: must be at least 20 ASCII characters"),
    ],
)
def test_an_invalid_file_is_refused_whole_with_the_path_of_the_bad_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], message: str
) -> None:
    refused = apply(tmp_path / "data", variant(tmp_path, change))
    assert refused.returncode == 1
    assert refused.stderr.startswith(f"error: {message}"), refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    # Nothing was applied: the whole sample is still to be created.
    assert apply(tmp_path / "data", SAMPLE, "--dry-run").stdout.splitlines()[-1] == (
        "dry run: 21 created, 0 updated, 0 deleted"
    )


def test_serve_memory_applies_the_file_before_the_port_opens(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    env["OSTIARY_LOG_LEVEL"] = "warning"
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [OSTIARY, "serve", "--memory", "--apply", str(SAMPLE), "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            url = f"http://localhost:{port}"
            wait_until_up(f"{url}/healthz", process=process)  # type: ignore[arg-type]
            response = requests.post(
                f"{url}/oauth2/ausSolarSystem/v1/token",
                data={"grant_type": "client_credentials", "scope": SILVER},
                auth=("0oaSolarService", "solar-service-secret-0123456789abcdef"),
                timeout=10,
            )
            assert response.status_code == 200, response.text
            groups = requests.get(
                f"{url}/api/v1/groups", headers={"Authorization": f"SSWS {FIXED_TOKEN}"}, timeout=10
            )
            assert groups.status_code == 200, groups.text
        finally:
            process.terminate()
            stdout, _ = process.communicate(timeout=10)
    assert "applied: 21 created, 0 updated, 0 deleted" in log.read_text()
    assert "SSWS token" not in stdout  # the file declares its API token: none is generated


def test_serve_memory_generates_a_token_when_the_file_declares_none(tmp_path: Path) -> None:
    def no_tokens(doc: dict[str, Any]) -> None:
        del doc["apiTokens"]

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    env["OSTIARY_LOG_LEVEL"] = "warning"
    process = subprocess.Popen(
        [OSTIARY, "serve", "--memory", "--apply", str(variant(tmp_path, no_tokens)), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        token = read_token(process)  # printed after the file is applied, before the port opens
        url = f"http://localhost:{port}"
        wait_until_up(f"{url}/healthz", process=process)  # type: ignore[arg-type]
        listed = requests.get(f"{url}/api/v1/groups", headers={"Authorization": f"SSWS {token}"}, timeout=10)
        assert listed.status_code == 200, listed.text
        assert {"silverSubscribers", "goldSubscribers"} <= {g["profile"]["name"] for g in listed.json()}
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_serve_memory_refuses_an_invalid_file_before_the_port_opens(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    bad = variant(tmp_path, _user_group)
    result = subprocess.run(
        [OSTIARY, "serve", "--memory", "--apply", str(bad), "--port", str(free_port())],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "error: users[1].groups[0]: no group named 'platinumSubscribers'" in result.stderr
    assert "SSWS token" not in result.stdout and "Traceback" not in result.stderr


def test_the_default_server_is_matched_by_name_never_duplicated(tmp_path: Path) -> None:
    def change(doc: dict[str, Any]) -> None:
        doc["authorizationServers"].append(
            {"name": "default", "audiences": ["api://default"], "scopes": [{"name": "api:read"}]}
        )

    applied = apply(tmp_path / "data", variant(tmp_path, change))
    assert applied.returncode == 0, applied.stderr
    lines = applied.stdout.splitlines()
    assert "create scope default/api:read" in lines
    assert not any(line.startswith("create authorizationServer default") for line in lines)


def test_org_option_applies_to_that_org_only(tmp_path: Path) -> None:
    env = {**os.environ, "OSTIARY_DATA_DIR": str(tmp_path / "data")}
    created = subprocess.run([OSTIARY, "org", "create", "acme"], env=env, capture_output=True, text=True)
    assert created.returncode == 0, created.stderr
    assert apply(tmp_path / "data", SAMPLE, "--org", "acme").stdout.splitlines()[-1] == (
        "21 created, 0 updated, 0 deleted"
    )
    assert apply(tmp_path / "data", SAMPLE, "--org", "acme").stdout.splitlines() == [
        "0 created, 0 updated, 0 deleted"
    ]
    # A client_id is the app's id, unique across the server: the default org cannot take it too.
    taken = apply(tmp_path / "data", SAMPLE, "--dry-run")
    assert taken.returncode == 1
    assert taken.stderr.startswith(
        "error: apps[0].credentials.oauthClient.client_id: taken by an app of another org"
    )
    unknown = apply(tmp_path / "data", SAMPLE, "--org", "nope")
    assert unknown.returncode == 1 and "No org named nope" in unknown.stderr
