"""Issue 17: ``ostiary org create|list|domain add`` and ``token create --org``, run as users run
them (the installed CLI, a data dir of its own)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.servers import OSTIARY


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"OSTIARY_DATA_DIR": str(tmp_path / "data"), "OSTIARY_BASE_URL": "http://localhost:8080"}


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OSTIARY, *args], env={**os.environ, **env}, capture_output=True, text=True)


def test_create_prints_the_org_url_last_and_list_shows_it(env: dict[str, str]) -> None:
    created = run(env, "org", "create", "acme", "--display-name", "Acme Inc")
    assert created.returncode == 0, created.stderr
    assert created.stdout.strip().splitlines()[-1] == "http://acme.localhost:8080"
    assert run(env, "org", "domain", "add", "acme", "ID.Acme.Test").stdout.strip() == "id.acme.test"
    listed = run(env, "org", "list").stdout.strip().splitlines()
    assert listed == [
        "\t".join(
            ["acme", listed[0].split("\t")[1], "Acme Inc", "http://acme.localhost:8080", "id.acme.test"]
        ),
        "\t".join(["default", listed[1].split("\t")[1], "Ostiary", "http://localhost:8080"]),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("org", "create", "Acme"), "one DNS label in lower case"),
        (("org", "create", "acme.corp"), "one DNS label in lower case"),
        (("org", "create", "default"), "already exists"),
        (("org", "domain", "add", "nope", "id.nope.test"), "No org named nope"),
        (("org", "domain", "add", "default", "x.localhost"), "under the base host"),
        (("token", "create", "--name", "t", "--org", "nope"), "No org named nope"),
        (
            ("user", "create", "--login", "a@b.c", "--first-name", "A", "--last-name", "B", "--org", "nope"),
            "No org named nope",
        ),
    ],
)
def test_bad_input_is_an_error_and_changes_nothing(
    env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    result = run(env, *args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr
    assert [line.split("\t")[0] for line in run(env, "org", "list").stdout.splitlines()] == ["default"]


def test_a_duplicate_name_is_refused(env: dict[str, str]) -> None:
    assert run(env, "org", "create", "acme").returncode == 0
    again = run(env, "org", "create", "acme")
    assert again.returncode == 1 and "An org named acme already exists" in again.stderr


def test_token_create_for_an_existing_org(env: dict[str, str]) -> None:
    assert run(env, "org", "create", "acme").returncode == 0
    token = run(env, "token", "create", "--name", "t", "--org", "acme")
    assert token.returncode == 0 and len(token.stdout.strip().splitlines()[-1]) > 30
