"""``ostiary apply --prune``: what the file no longer has is deleted, built-ins never are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.e2e.test_org_file_apply import SAMPLE, apply, variant


def _smaller(doc: dict[str, Any]) -> None:
    del doc["groups"][0]  # silverSubscribers
    doc["users"][0]["groups"] = []  # clark leaves silverSubscribers (the group goes anyway)
    del doc["users"][1]  # lois
    doc["apps"][0]["assignments"] = {"groups": []}
    del doc["apps"][1]  # Solar system service (a policy names it: that policy goes too)
    server = doc["authorizationServers"][0]
    del server["scopes"][1]  # gold
    server["claims"] = []
    del server["policies"][1]  # Solar system services
    server["policies"][0]["rules"] = [server["policies"][0]["rules"][0]]  # gold only
    server["policies"][0]["rules"][0]["conditions"]["scopes"]["include"].remove("http://myapp.com/scp/gold")
    doc["trustedOrigins"] = []
    doc["apiTokens"] = []


def test_prune_deletes_what_the_file_no_longer_has(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert apply(data, SAMPLE).returncode == 0
    smaller = variant(tmp_path, _smaller)
    without_prune = apply(data, smaller)
    assert without_prune.stdout.splitlines()[-1] == "0 created, 1 updated, 0 deleted"  # the gold rule

    planned = apply(data, smaller, "--prune", "--dry-run")
    assert planned.returncode == 0, planned.stderr
    pruned = apply(data, smaller, "--prune")
    assert pruned.returncode == 0, pruned.stderr
    lines = pruned.stdout.splitlines()
    assert planned.stdout.splitlines() == [*lines[:-1], f"dry run: {lines[-1]}"]
    assert set(lines[:-1]) == {
        "delete rule Solar System API/Solar system API access/silver access to solar system API",
        "delete policy Solar System API/Solar system services",
        "delete claim Solar System API/client",
        "delete scope Solar System API/http://myapp.com/scp/gold",
        "delete assignment group silverSubscribers to API Center demo app",
        "delete assignment group goldSubscribers to API Center demo app",
        "delete app Solar system service",
        "delete user lois.lane@example.com",
        "delete membership clark.kent@example.com in silverSubscribers",
        "delete group silverSubscribers",
        "delete trustedOrigin API Center demo app",
        "delete apiToken ci",
    }
    assert lines[-1] == "0 created, 0 updated, 12 deleted"
    assert apply(data, smaller, "--prune").stdout.splitlines() == ["0 created, 0 updated, 0 deleted"]


def test_prune_with_an_empty_file_keeps_the_built_ins(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with_default = variant(
        tmp_path,
        lambda doc: doc["authorizationServers"].append(
            {"name": "default", "audiences": ["api://default"], "scopes": [{"name": "api:read"}]}
        ),
    )
    assert apply(data, with_default).returncode == 0
    empty = tmp_path / "empty.yaml"
    empty.write_text(yaml.safe_dump({}))
    pruned = apply(data, empty, "--prune")
    assert pruned.returncode == 0, pruned.stderr
    lines = pruned.stdout.splitlines()
    assert "delete authorizationServer Solar System API" in lines
    assert "delete group goldSubscribers" in lines
    # The default server is never deleted, nor its contents when the file does not list it.
    assert not [line for line in lines if " default" in line or "Everyone" in line]
    assert lines[-1] == f"0 created, 0 updated, {len(lines) - 1} deleted"
    # What survived is exactly the built-ins plus the default server's scope the file no
    # longer lists: applying the first file again creates everything else anew.
    again = apply(data, with_default).stdout.splitlines()
    assert "create scope default/api:read" not in again
    assert "create authorizationServer Solar System API" in again
