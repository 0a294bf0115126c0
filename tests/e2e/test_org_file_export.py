"""``ostiary export``: the org file of an org, which applies back with no change and reproduces
the org in an empty server (the installed CLI on data dirs of its own)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.servers import OSTIARY
from tests.e2e.test_org_file_apply import SAMPLE, apply


def export(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSTIARY_DATA_DIR": str(data_dir), "OSTIARY_LOG_LEVEL": "warning"}
    return subprocess.run([OSTIARY, "export", *args], env=env, capture_output=True, text=True)


def log_events(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "ostiary.db") as db:
        return int(db.execute("select count(*) from log_events").fetchone()[0])


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sample applied to a data dir, and its export written with ``-o``."""
    root = Path(tmp_path_factory.mktemp("export"))
    assert apply(root / "org", SAMPLE).returncode == 0
    out = root / "exported.yaml"
    result = export(root / "org", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    return root / "org", out


def test_the_export_names_objects_and_keeps_fixed_ids(exported: tuple[Path, Path]) -> None:
    doc = yaml.safe_load(exported[1].read_text())
    assert [g["profile"]["name"] for g in doc["groups"]] == ["goldSubscribers", "silverSubscribers"]
    lois = next(u for u in doc["users"] if u["profile"]["login"] == "lois.lane@example.com")
    assert lois["groups"] == ["goldSubscribers"] and "password" not in lois and "credentials" not in lois
    service = next(a for a in doc["apps"] if a["label"] == "Solar system service")
    assert service["credentials"]["oauthClient"]["client_id"] == "0oaSolarService"
    assert "client_secret" not in service["credentials"]["oauthClient"] and "id" not in service
    solar = next(s for s in doc["authorizationServers"] if s["name"] == "Solar System API")
    assert solar["id"] == "ausSolarSystem"  # fixed: kept
    default = next(s for s in doc["authorizationServers"] if s["name"] == "default")
    assert "id" not in default and "scopes" not in default  # built-in: by name, no system scopes
    assert solar["policies"][1]["conditions"]["clients"]["include"] == ["Solar system service"]
    rule = solar["policies"][0]["rules"][0]
    assert rule["conditions"]["people"]["groups"]["include"] == ["goldSubscribers"]
    assert doc["apiTokens"] == [{"name": "ci"}]  # a name, never the value
    text = exported[1].read_text()
    assert "0oaSolarService" in text and "solar-service-secret" not in text and "00ci-fixed" not in text


def test_applying_an_export_to_its_own_org_changes_nothing(exported: tuple[Path, Path]) -> None:
    data, file = exported
    events = log_events(data)
    again = apply(data, file, "--prune")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == ["0 created, 0 updated, 0 deleted"]
    assert log_events(data) == events


def test_an_export_applied_to_an_empty_server_reproduces_the_org(
    exported: tuple[Path, Path], tmp_path: Path
) -> None:
    data, file = exported
    copied = apply(tmp_path / "copy", file)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.splitlines()[-1].startswith("21 created")
    assert export(tmp_path / "copy").stdout == file.read_text()
    assert export(data).stdout == file.read_text()  # stdout without -o: the same text


def test_grants_in_another_org_name_that_orgs_issuer(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OSTIARY_DATA_DIR": str(tmp_path / "data"),
        "OSTIARY_BASE_URL": "http://localhost:8080",
    }
    assert subprocess.run([OSTIARY, "org", "create", "acme"], env=env, capture_output=True).returncode == 0
    file = tmp_path / "org.yaml"
    app = {
        "label": "robot",
        "credentials": {
            "oauthClient": {"client_id": "robot-acme", "token_endpoint_auth_method": "client_secret_basic"}
        },
        "settings": {"oauthClient": {"application_type": "service", "grant_types": ["client_credentials"]}},
        "grants": ["okta.users.read"],
    }
    file.write_text(yaml.safe_dump({"apps": [app]}))
    result = subprocess.run(
        [OSTIARY, "apply", "-f", str(file), "--org", "acme"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "data" / "ostiary.db") as db:
        issuers = db.execute("select issuer from app_grants").fetchall()
    assert issuers == [("http://acme.localhost:8080",)]
