"""A real ``ostiary serve`` on a private PostgreSQL that is stopped, frozen (SIGSTOP) and not
there yet at start. While the database is away, requests get 503 within the configured
timeouts (Okta's shape for the management API, OAuth's ``temporarily_unavailable`` for OAuth
endpoints), ``/readyz`` is red while ``/healthz`` stays green, the log says so in a few lines
instead of a traceback per request; once the database is back, service recovers by itself."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.faults.processes import PrivatePostgres, Serve, postgres_bin

pytestmark = pytest.mark.faults

RECOVERY_SECONDS = 5.0
CLIENT_TIMEOUT = 10.0
"""Far above the server's bounds (1 s connect, 1 s statement, 1 s pool): a request that waits
this long is one that the timeouts did not bound."""
TIMEOUTS = {
    "OSTIARY_DB_CONNECT_TIMEOUT": "1",
    "OSTIARY_DB_STATEMENT_TIMEOUT": "1",
    "OSTIARY_DB_POOL_TIMEOUT": "1",
}


def _can_run_postgres() -> str | None:
    if postgres_bin() is None:
        return "PostgreSQL's initdb/postgres are not installed"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres user to run PostgreSQL as"
    return None


@dataclass
class Outage:
    pg: PrivatePostgres
    serve: Serve
    http: requests.Session


@pytest.fixture(scope="module")
def outage() -> Iterator[Outage]:
    reason = _can_run_postgres()
    if reason:
        pytest.skip(reason)
    bindir = postgres_bin()
    assert bindir is not None
    pg = PrivatePostgres(bindir)
    directory = Path(tempfile.mkdtemp(prefix="ostiary-faults-"))
    serve = Serve(directory, {"OSTIARY_DATABASE_URL": pg.url, **TIMEOUTS})
    try:
        pg.init()
        pg.start()
        token = serve.token()
        serve.start()
        http = requests.Session()
        http.headers.update({"Authorization": f"SSWS {token}", "Accept": "application/json"})
        yield Outage(pg, serve, http)
    finally:
        serve.stop()
        pg.destroy()
        shutil.rmtree(directory, ignore_errors=True)


def _list_users(o: Outage) -> requests.Response:
    return o.http.get(f"{o.serve.url}/api/v1/users?limit=5", timeout=CLIENT_TIMEOUT)


def _token_request(o: Outage) -> requests.Response:
    """A token request whose client must be looked up in the database (unknown, so never cached)."""
    return requests.post(
        f"{o.serve.url}/oauth2/default/v1/token",
        data={"grant_type": "client_credentials", "scope": "x"},
        auth=(f"0oa{secrets.token_hex(8)}", "secret"),
        timeout=CLIENT_TIMEOUT,
    )


def _get(o: Outage, path: str) -> requests.Response:
    return requests.get(f"{o.serve.url}{path}", timeout=CLIENT_TIMEOUT)


def _assert_store_unavailable(o: Outage) -> None:
    users = _list_users(o)
    assert users.status_code == 503, users.text
    assert users.json()["errorCode"] == "E0000010" and int(users.headers["Retry-After"]) > 0
    assert {"errorSummary", "errorId", "errorCauses"} <= set(users.json())
    token = _token_request(o)
    assert token.status_code == 503, token.text
    assert token.json()["error"] == "temporarily_unavailable" and "Retry-After" in token.headers
    ready = _get(o, "/readyz")
    assert ready.status_code == 503 and ready.json()["database"] != "ok", ready.text
    assert _get(o, "/healthz").status_code == 200


def _assert_recovers(o: Outage) -> None:
    deadline = time.monotonic() + RECOVERY_SECONDS
    while True:
        try:
            if _list_users(o).status_code == 200 and _get(o, "/readyz").status_code == 200:
                return
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, "the service did not recover once the database was back"
        time.sleep(0.05)


def _log_since(o: Outage, offset: int) -> str:
    return o.serve.log.read_text(errors="replace")[offset:]


def test_serving_normally_before_any_fault(outage: Outage) -> None:
    assert _list_users(outage).status_code == 200
    ready = _get(outage, "/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready", "database": "ok"}


def test_a_stopped_database_answers_503_and_service_recovers_after_restart(outage: Outage) -> None:
    offset = len(outage.serve.log.read_text(errors="replace"))
    outage.pg.stop()
    try:
        for _ in range(5):
            _assert_store_unavailable(outage)
    finally:
        outage.pg.start()
    _assert_recovers(outage)

    log = _log_since(outage, offset)
    assert "Traceback" not in log
    assert "database unreachable" in log
    assert log.count("\n") <= 6, log  # one line per kind of failure, not one per request


def test_a_frozen_database_answers_503_within_the_timeouts_and_service_recovers(outage: Outage) -> None:
    assert _list_users(outage).status_code == 200  # a pooled connection to freeze with
    offset = len(outage.serve.log.read_text(errors="replace"))
    frozen = outage.pg.freeze()
    try:
        _assert_store_unavailable(outage)
    finally:
        outage.pg.thaw(frozen)
    _assert_recovers(outage)
    assert "Traceback" not in _log_since(outage, offset)


def test_serve_waits_for_a_database_that_comes_up_after_it(outage: Outage) -> None:
    late = Serve(outage.serve.directory, {"OSTIARY_DATABASE_URL": outage.pg.url, **TIMEOUTS})
    outage.pg.stop()
    try:
        late.start("--db-wait", "30", wait=False)
        _wait_for_line(late, "waiting up to 30 s for the database")
    finally:
        outage.pg.start()
    try:
        late.wait_up()
        assert requests.get(f"{late.url}/readyz", timeout=CLIENT_TIMEOUT).status_code == 200
        assert "Traceback" not in late.log.read_text()
    finally:
        late.signal(signal.SIGTERM)
        late.wait()


def _wait_for_line(serve: Serve, line: str) -> None:
    deadline = time.monotonic() + 30
    while line not in serve.log.read_text(errors="replace"):
        assert serve.process is not None and serve.process.poll() is None, serve.log.read_text()
        assert time.monotonic() < deadline, f"serve never said {line!r}"
        time.sleep(0.05)
