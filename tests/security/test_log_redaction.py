"""No secret in a log line (security review F8): the logging configuration ``ostiary serve``
gives uvicorn redacts sensitive parameters from the access log's URLs and from the application's
own log records, tracebacks included. ``tests/e2e/test_serve_log_redaction.py`` checks the same
on a real ``ostiary serve``."""

from __future__ import annotations

import io
import logging
import logging.config
from collections.abc import Iterator

import pytest

from ostiary.log_redaction import REDACTED, redact, uvicorn_log_config

SECRET = "qsjkBM8G8BNkuHHnRvwnUl8YfRUxAhYWF99BqO4eIF251r7x"
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "ostiary.http")


@pytest.fixture
def serve_logging() -> Iterator[io.StringIO]:
    """``ostiary serve``'s logging configuration for one test, every handler writing to the
    returned buffer; the previous configuration afterwards."""
    saved = {}
    for name in LOGGERS:
        logger = logging.getLogger(name)
        saved[name] = (logger.handlers[:], logger.filters[:], logger.level, logger.propagate, logger.disabled)
    logging.config.dictConfig(uvicorn_log_config())
    output = io.StringIO()
    for name in LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(output)
    try:
        yield output
    finally:
        for name, (handlers, filters, level, propagate, disabled) in saved.items():
            logger = logging.getLogger(name)
            logger.handlers[:], logger.filters[:] = handlers, filters
            logger.level, logger.propagate, logger.disabled = level, propagate, disabled


def access_line(path_with_query: str) -> None:
    """What uvicorn's protocol logs for a request (``httptools_impl``)."""
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:54962", "POST", path_with_query, "1.1", 200
    )


@pytest.mark.parametrize(
    "name",
    [
        "client_secret",
        "client_assertion",
        "code",
        "code_verifier",
        "refresh_token",
        "token",
        "sessionToken",
        "password",
        "id_token_hint",
        "client%5Fsecret",
    ],
)
def test_the_access_log_never_shows_a_secret_parameter(serve_logging: io.StringIO, name: str) -> None:
    access_line(f"/oauth2/default/v1/token?grant_type=client_credentials&{name}={SECRET}&scope=api:x")
    out = serve_logging.getvalue()
    assert SECRET not in out
    assert f"&{name}={REDACTED}&scope=api:x" in out
    assert '"POST /oauth2/default/v1/token?grant_type=client_credentials&' in out and "200 OK" in out


def test_the_applications_own_log_records_and_tracebacks_are_redacted(
    serve_logging: io.StringIO,
) -> None:
    log = logging.getLogger("ostiary.http")
    log.warning("refused %s", f"client_id=0oa1&client_secret={SECRET}")
    log.warning('body {"refresh_token": "%s"}', SECRET)
    log.warning("header Authorization: Bearer %s", SECRET)
    try:
        raise ValueError(f"could not parse password={SECRET}")
    except ValueError:
        log.exception("unhandled error on %s %s", "POST", "/oauth2/v1/token")
    err = serve_logging.getvalue()
    assert SECRET not in err
    for fragment in (
        f"refused client_id=0oa1&client_secret={REDACTED}",
        f'body {{"refresh_token": "{REDACTED}"}}',
        f"Authorization: Bearer {REDACTED}",
        f"ValueError: could not parse password={REDACTED}",
        "unhandled error on POST /oauth2/v1/token",
    ):
        assert fragment in err


def test_redaction_keeps_everything_else() -> None:
    line = "/oauth2/v1/authorize?client_id=0oa1&state=st4te&errorCode=E0000001&redirect_uri=https%3A%2F%2Fa"
    assert redact(line) == line
    assert redact("a Basic realm and basic words") == "a Basic realm and basic words"
    assert redact(f"?token={SECRET}#frag") == f"?token={REDACTED}#frag"
