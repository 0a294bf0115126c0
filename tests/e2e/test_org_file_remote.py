"""``apply``/``export --org-url`` and ``import --from-okta``: an Ostiary org reached only over HTTP
(``ostiary serve --memory`` in a subprocess) through Okta's public management API."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from tests.e2e.servers import OSTIARY, free_port, wait_until_up
from tests.e2e.test_org_file_apply import CREATED, FIXED_TOKEN, SAMPLE, apply
from tests.e2e.test_org_file_prune import _smaller
from tests.support.memory_server import read_token

SKIPPED_TOKEN = "skip apiToken ci (API tokens are made in the admin console)"


@contextmanager
def memory_org(tmp_path: Path, *args: str, token: str | None = None) -> Iterator[tuple[str, str]]:
    """``ostiary serve --memory`` on a free port: its URL and the SSWS token it prints (or
    ``token``, the one its org file declares: then it prints none)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    env["OSTIARY_LOG_LEVEL"] = "warning"
    tmp_path.mkdir(parents=True, exist_ok=True)
    with (tmp_path / f"memory-{port}.log").open("w") as log:
        process = subprocess.Popen(
            [OSTIARY, "serve", "--memory", "--port", str(port), *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        try:
            token = token or read_token(process)
            url = f"http://localhost:{port}"
            wait_until_up(f"{url}/healthz", process=process)  # type: ignore[arg-type]
            yield url, token
        finally:
            process.terminate()
            process.wait(timeout=10)


def ostiary(*args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSTIARY_LOG_LEVEL": "warning"}
    if data_dir is not None:
        env["OSTIARY_DATA_DIR"] = str(data_dir)
    return subprocess.run([OSTIARY, *args], env=env, capture_output=True, text=True, timeout=120)


def remote_apply(url: str, token: str, file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return ostiary("apply", "-f", str(file), "--org-url", url, "--token", token, *args)


def log_count(url: str, token: str) -> int:
    response = requests.get(
        f"{url}/api/v1/logs", params={"limit": 1000}, headers={"Authorization": f"SSWS {token}"}
    )
    assert response.status_code == 200, response.text
    return len(response.json())


REMOTE_CREATED = [line for line in CREATED if line != "create apiToken ci"]


def test_apply_through_the_api_plans_applies_and_is_idempotent(tmp_path: Path) -> None:
    with memory_org(tmp_path) as (url, token):
        planned = remote_apply(url, token, SAMPLE, "--dry-run")
        assert planned.returncode == 0, planned.stderr
        assert planned.stdout.splitlines() == [
            *REMOTE_CREATED,
            SKIPPED_TOKEN,
            "dry run: 20 created, 0 updated, 0 deleted",
        ]
        assert remote_apply(url, token, SAMPLE, "--dry-run").stdout == planned.stdout  # nothing was sent
        applied = remote_apply(url, token, SAMPLE)
        assert applied.returncode == 0, applied.stderr
        assert applied.stdout.splitlines() == [
            *REMOTE_CREATED,
            SKIPPED_TOKEN,
            "20 created, 0 updated, 0 deleted",
        ]
        events = log_count(url, token)
        again = remote_apply(url, token, SAMPLE)
        assert again.stdout.splitlines() == [SKIPPED_TOKEN, "0 created, 0 updated, 0 deleted"]
        assert log_count(url, token) == events
        # The applied org works: the fixed client credentials get a token on the server's issuer.
        servers = requests.get(
            f"{url}/api/v1/authorizationServers", headers={"Authorization": f"SSWS {token}"}, timeout=10
        ).json()
        apps = requests.get(
            f"{url}/api/v1/apps", headers={"Authorization": f"SSWS {token}"}, timeout=10
        ).json()
        service = next(a for a in apps if a["label"] == "Solar system service")
        assert service["credentials"]["oauthClient"]["client_id"] == "0oaSolarService"
        assert service["id"] != "0oaSolarService"  # as in Okta: a fixed client_id is not the app's id
        solar = next(s for s in servers if s["name"] == "Solar System API")
        issued = requests.post(
            f"{solar['issuer']}/v1/token",
            data={"grant_type": "client_credentials", "scope": "http://myapp.com/scp/silver"},
            auth=("0oaSolarService", "solar-service-secret-0123456789abcdef"),
            timeout=10,
        )
        assert issued.status_code == 200, issued.text


def test_export_through_the_api_round_trips_and_prune_works_remotely(tmp_path: Path) -> None:
    with memory_org(tmp_path / "a") as (url, token), memory_org(tmp_path / "b") as (url_b, token_b):
        assert remote_apply(url, token, SAMPLE).returncode == 0
        exported = ostiary("export", "--org-url", url, "--token", token)
        assert exported.returncode == 0, exported.stderr
        file = tmp_path / "export.yaml"
        file.write_text(exported.stdout)
        doc = yaml.safe_load(exported.stdout)
        assert "0123456789abcdef" not in exported.stdout and "id" not in doc["authorizationServers"][1]
        # The export applies back with no change, even with --prune (the token in use is kept).
        same = remote_apply(url, token, file, "--prune")
        assert same.stdout.splitlines()[-1] == "0 created, 0 updated, 0 deleted", same.stdout
        # Into another empty org it reproduces the org: the two exports are the same text but
        # for the API tokens (each org's own).
        assert remote_apply(url_b, token_b, file).returncode == 0
        copy = ostiary("export", "--org-url", url_b, "--token", token_b).stdout
        assert yaml.safe_load(copy) | {"apiTokens": None} == doc | {"apiTokens": None}
        # --prune deletes what a smaller file no longer has; a dry run first shows the same plan.
        smaller = tmp_path / "smaller.yaml"
        small_doc = yaml.safe_load(SAMPLE.read_text())
        _smaller(small_doc)
        smaller.write_text(yaml.safe_dump(small_doc, sort_keys=False))
        plan = remote_apply(url, token, smaller, "--prune", "--dry-run").stdout.splitlines()
        pruned = remote_apply(url, token, smaller, "--prune").stdout.splitlines()
        assert plan == [*pruned[:-1], f"dry run: {pruned[-1]}"]
        assert "delete app Solar system service" in pruned and "delete user lois.lane@example.com" in pruned
        assert pruned[-1] == "0 created, 1 updated, 11 deleted"  # the current token is never deleted
        assert (
            remote_apply(url, token, smaller, "--prune").stdout.splitlines()[-1]
            == "0 created, 0 updated, 0 deleted"
        )


def test_a_refused_reference_stops_the_run_before_any_change(tmp_path: Path) -> None:
    bad = yaml.safe_load(SAMPLE.read_text())
    bad["users"][1]["groups"] = ["platinumSubscribers"]
    file = tmp_path / "bad.yaml"
    file.write_text(yaml.safe_dump(bad))
    with memory_org(tmp_path) as (url, token):
        refused = remote_apply(url, token, file)
        assert refused.returncode == 1 and refused.stdout == ""
        assert refused.stderr.startswith("error: users[1].groups[0]: no group named 'platinumSubscribers'")
        groups = requests.get(
            f"{url}/api/v1/groups", headers={"Authorization": f"SSWS {token}"}, timeout=10
        ).json()
        assert [g["profile"]["name"] for g in groups] == ["Everyone"]
    missing_token = ostiary("export", "--org-url", "http://localhost:1")
    assert missing_token.returncode == 1 and "--token" in missing_token.stderr


class _Throttle:
    """A test-only proxy in front of an org: its first answer for ``path`` is a 429 with Okta's
    rate-limit headers; every other request is passed on."""

    def __init__(self, upstream: str, path: str) -> None:
        self.upstream, self.path, self.seen = upstream, path, list[tuple[str, int]]()
        throttle = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.split("?")[0] == throttle.path and not any(
                    p == throttle.path for p, _ in throttle.seen
                ):
                    throttle.seen.append((throttle.path, 429))
                    body = b'{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit."}'
                    self.send_response(429)
                    for name, value in (
                        ("Content-Type", "application/json"),
                        ("X-Rate-Limit-Limit", "100"),
                        ("X-Rate-Limit-Remaining", "0"),
                        ("X-Rate-Limit-Reset", "0"),
                        ("Retry-After", "0"),
                        ("Content-Length", str(len(body))),
                    ):
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept")}
                answer = requests.get(throttle.upstream + self.path, headers=headers, timeout=30)
                throttle.seen.append((self.path.split("?")[0], answer.status_code))
                self.send_response(answer.status_code)
                for name in (
                    "Content-Type",
                    "Link",
                    "X-Rate-Limit-Limit",
                    "X-Rate-Limit-Remaining",
                    "X-Rate-Limit-Reset",
                ):
                    for value in answer.raw.headers.get_all(name) or []:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def throttled_source(tmp_path: Path) -> Iterator[tuple[_Throttle, str]]:
    """An org with the sample applied at start, behind a proxy that throttles ``/api/v1/groups`` once."""
    with memory_org(tmp_path / "source", "--apply", str(SAMPLE), token=FIXED_TOKEN) as (url, token):
        throttle = _Throttle(url, "/api/v1/groups")
        try:
            yield throttle, token
        finally:
            throttle.server.shutdown()


def test_import_copies_an_org_and_waits_out_a_429(
    throttled_source: tuple[_Throttle, str], tmp_path: Path
) -> None:
    throttle, token = throttled_source
    out = tmp_path / "imported.yaml"
    written = ostiary("import", "--from-okta", throttle.url, "--token", token, "-o", str(out))
    assert written.returncode == 0, written.stderr
    assert [status for path, status in throttle.seen if path == "/api/v1/groups"] == [429, 200]
    doc = yaml.safe_load(out.read_text())
    assert (
        "apiTokens" not in doc
        and "Solar-Silver-Pass" not in out.read_text()
        and "0123456789abcdef" not in out.read_text()
    )
    assert {s.get("id") for s in doc["authorizationServers"]} == {None, "ausSolarSystem"}
    # Into a local org: the same configuration, and the file's fixed ids.
    data = tmp_path / "data"
    imported = ostiary(
        "import", "--from-okta", throttle.url, "--token", token, "--org", "default", data_dir=data
    )
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.splitlines()[-1] == "20 created, 0 updated, 0 deleted"
    local = yaml.safe_load(ostiary("export", data_dir=data).stdout)
    assert local == doc
    assert apply(data, out).stdout.splitlines() == ["0 created, 0 updated, 0 deleted"]
