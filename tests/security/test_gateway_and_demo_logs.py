"""No secret in a log line of ``ostiary gateway`` or ``ostiary demo`` either (F8 follow-up): both
use the redacting logging configuration that ``ostiary serve`` uses
(``ostiary.log_redaction.uvicorn_log_config``).

The gateway is started as users start it (the CLI) at ``OSTIARY_LOG_LEVEL=trace``, where uvicorn
writes every request's scope to the log (its query string whole; headers it elides): a secret
query parameter must come out as ``[REDACTED]``, and the bearer token must not appear at all."""

from __future__ import annotations

import json
import logging
import logging.config
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ostiary.demo_runner import uvicorn_config
from ostiary.log_redaction import REDACTED, RedactingFilter
from tests.e2e.servers import OSTIARY, free_port, running

BEARER = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsb2lzIn0.YmVhcmVyU2VjcmV0U2lnbmF0dXJl"
QUERY_SECRET = "qsjkBM8G8BNkuHHnRvwnUl8YfRUxAhYWF99BqO4eIF251r7x"
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


def test_the_gateways_log_never_shows_a_bearer_token_or_a_query_secret(tmp_path: Path) -> None:
    port = free_port()
    config = {
        "listen": {"host": "127.0.0.1", "port": port},
        "issuers": [{"issuer": f"http://127.0.0.1:{free_port()}/oauth2/default", "audiences": ["api://x"]}],
        "routes": [{"path": "/planets", "methods": ["GET"], "upstream": f"http://127.0.0.1:{free_port()}"}],
    }
    config_path = tmp_path / "gateway.yaml"
    config_path.write_text(json.dumps(config))
    log_path = tmp_path / "gateway.log"
    url = f"http://127.0.0.1:{port}"
    args = [OSTIARY, "gateway", "--config", str(config_path)]
    with running(args, f"{url}/planets", {"OSTIARY_LOG_LEVEL": "trace"}, log_path):
        response = requests.get(
            f"{url}/planets",
            params={"access_token": QUERY_SECRET, "page": "2"},
            headers={"Authorization": f"Bearer {BEARER}"},
            timeout=10,
        )
        assert response.status_code == 401, response.text
    log = log_path.read_text()
    assert "Started scope=" in log  # uvicorn's trace lines were written...
    assert "gateway: 1 route(s)" in log  # ...and the gateway's own
    assert BEARER not in log
    assert QUERY_SECRET not in log
    assert f"access_token={REDACTED}" in log
    assert "page=2" in log


@pytest.fixture
def restore_logging() -> Iterator[None]:
    saved = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (logger.handlers[:], logger.filters[:], logger.level, logger.propagate, logger.disabled)
    try:
        yield
    finally:
        for name, (handlers, filters, level, propagate, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:], logger.filters[:] = handlers, filters
            logger.level, logger.propagate, logger.disabled = level, propagate, disabled


@pytest.mark.usefixtures("restore_logging")
def test_every_demo_server_logs_through_the_redacting_filter() -> None:
    async def app(scope: object, receive: object, send: object) -> None:  # pragma: no cover
        raise AssertionError

    uvicorn_config(app, "127.0.0.1", free_port())  # configures logging, as uvicorn.Config does
    for name in ("uvicorn.error", "uvicorn.access", ""):
        logger = logging.getLogger(name)
        while not logger.handlers and logger.parent is not None:
            logger = logger.parent
        assert logger.handlers, name
        for handler in logger.handlers:
            assert any(isinstance(f, RedactingFilter) for f in handler.filters), (name, handler)
