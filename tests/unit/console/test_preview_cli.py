"""``ostiary preview`` prints the same preview as the API, from the same domain function."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ostiary.cli import _with_tx, app
from ostiary.demo.seed import GOLD, SILVER, DemoPorts, seed


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("OSTIARY_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("OSTIARY_DATABASE_URL", raising=False)
    monkeypatch.setenv("OSTIARY_BASE_URL", "http://localhost:8080")

    async def work(tx: Any) -> dict[str, Any]:
        return await seed(
            tx, org_url="http://localhost:8080", ports=DemoPorts(), password="Solar-cli-Secret-7a"
        )

    return dict(asyncio.run(_with_tx(None, None, work)))


def run_preview(demo: dict[str, Any], login: str, scope: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(
        app,
        [
            "preview",
            "--server",
            demo["authorization_server"]["id"],
            "--client",
            demo["web_client"]["client_id"],
            "--grant-type",
            "authorization_code",
            "--user",
            login,
            "--scope",
            scope,
        ],
    )
    return result.exit_code, json.loads(result.stdout)


def test_a_granted_preview_exits_0_with_the_claims(demo: dict[str, Any]) -> None:
    code, shown = run_preview(demo, "lois.lane@example.com", f"openid {SILVER} {GOLD}")
    assert code == 0
    assert shown["accessToken"]["scp"] == ["openid", SILVER, GOLD]
    assert shown["accessToken"]["sub"] == "lois.lane@example.com"
    assert shown["idToken"]["aud"] == demo["web_client"]["client_id"]


def test_a_denied_preview_exits_1_with_the_trace(demo: dict[str, Any]) -> None:
    code, shown = run_preview(demo, "clark.kent@example.com", f"openid {GOLD}")
    assert code == 1
    assert shown["error"] == "access_denied"
    assert shown["trace"][-1]["reason"] == "no rule matched; trying the next policy"
