"""The plugin's ini options and marker, in a project of its own: the ini file's org, a module's
marker naming another file, and ``ostiary_scope = module`` giving each module its own org."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.pytest_runs import run_pytest

INI = """[pytest]
ostiary_org_file = orgs/base.yaml
ostiary_scope = module
"""

TEST_TEMPLATE = """
import pytest
{marker}

def test_org(ostiary_org, ostiary_api_token):
    groups = ostiary_org.api("GET", "/api/v1/groups").json()
    names = sorted(g["profile"]["name"] for g in groups if g["type"] == "OKTA_GROUP")
    with open("seen.txt", "a") as seen:
        seen.write(f"{{__name__}} {{ostiary_org.url}} {{','.join(names)}} {{bool(ostiary_api_token)}}\\n")
"""


def _project(root: Path) -> Path:
    (root / "orgs").mkdir()
    (root / "pytest.ini").write_text(INI)
    (root / "orgs" / "base.yaml").write_text("groups:\n  - profile: {name: fromIni}\n")
    (root / "other.yaml").write_text("groups:\n  - profile: {name: fromMarker}\n")
    (root / "test_a_ini.py").write_text(TEST_TEMPLATE.format(marker=""))
    (root / "test_b_marker.py").write_text(
        TEST_TEMPLATE.format(marker='pytestmark = pytest.mark.ostiary_org("other.yaml")')
    )
    (root / "test_c_ini_again.py").write_text(TEST_TEMPLATE.format(marker=""))
    return root


def test_ini_file_marker_and_module_scope(tmp_path: Path) -> None:
    project = _project(tmp_path)

    result = run_pytest(project, "-q")

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    seen = {}
    for line in (project / "seen.txt").read_text().splitlines():
        module, url, groups, has_token = line.split(" ")
        seen[module] = (url, groups, has_token)
    assert seen["test_a_ini"][1] == "fromIni"
    assert seen["test_b_marker"][1] == "fromMarker"
    assert seen["test_c_ini_again"][1] == "fromIni"
    assert seen["test_a_ini"][0] != seen["test_c_ini_again"][0]  # one org per module
    assert {entry[2] for entry in seen.values()} == {"True"}
