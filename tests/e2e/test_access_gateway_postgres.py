"""``ostiary access-gateway --database-url postgresql://...`` migrates its own tables on start
and serves from them; ``api-client create --database-url`` writes to the same database."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.oag_admin import admin_session
from tests.e2e.servers import OSTIARY, free_port, running

pytestmark = pytest.mark.postgres


def test_the_gateway_runs_on_postgresql(tmp_path: Path, postgres_database: str | None) -> None:
    if postgres_database is None:
        pytest.skip("OSTIARY_TEST_POSTGRES_URL is not set")
    url = postgres_database.replace("postgresql+asyncpg://", "postgresql://")
    port = free_port()
    data_dir = tmp_path / "oag"
    args = [
        OSTIARY,
        "access-gateway",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--database-url",
        url,
    ]
    create = [OSTIARY, "access-gateway", "api-client", "create", "--name", "pg", "--data-dir", str(data_dir)]
    with running(args, f"http://localhost:{port}/healthz", {}, tmp_path / "oag.log"):
        created = subprocess.run(
            [*create, "--database-url", url, "--scope", "okta.oag.cert.read"],
            capture_output=True,
            text=True,
            check=True,
            env=dict(os.environ),
        )
        client = json.loads(created.stdout)
        assert client["audience"] == f"http://localhost:{port}"  # the public URL the gateway stored
        certificates = admin_session(client).get(f"http://localhost:{port}/api/v2/certificates")
        assert certificates.status_code == 200, certificates.text
        assert [cert["commonName"] for cert in certificates.json()] == ["localhost"]
    assert not (data_dir / "access-gateway.db").exists()
