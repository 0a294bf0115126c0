"""A real ``ostiary serve`` at the default log level (``info``, access log on) never writes a
secret of a request URL to its log (security review F8)."""

from __future__ import annotations

from pathlib import Path

import requests

from tests.e2e.servers import org_server

SECRETS = {
    "client_secret": "qsjkBM8G8BNkuHHnRvwnUl8YfRUxAhYWF99BqO4eIF251r7x",
    "code": "c0deS3cretValue1234567890",
    "token": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJsb2lzIn0.c2lnbmF0dXJlU2VjcmV0",
    "sessionToken": "20111h7uDaRsZ4nX4rXpJYkCSs6WQTa6",
}


def test_secrets_in_request_urls_never_reach_the_log(tmp_path: Path) -> None:
    with org_server(tmp_path, OSTIARY_LOG_LEVEL="info") as org:
        calls = [
            (
                "POST",
                f"/oauth2/v1/token?grant_type=client_credentials&client_id=0oa1&client_secret={SECRETS['client_secret']}",
            ),
            (
                "POST",
                f"/oauth2/default/v1/token?grant_type=authorization_code&code={SECRETS['code']}&redirect_uri=x",
            ),
            ("POST", f"/oauth2/default/v1/introspect?token={SECRETS['token']}"),
            ("GET", f"/oauth2/default/v1/authorize?client_id=0oa1&sessionToken={SECRETS['sessionToken']}"),
        ]
        for method, path in calls:
            response = requests.request(method, f"{org.url}{path}", allow_redirects=False, timeout=10)
            assert response.status_code < 500, response.text
    log = (tmp_path / "org-server.log").read_text()
    for secret in SECRETS.values():
        assert secret not in log
    assert (
        '"POST /oauth2/v1/token?grant_type=client_credentials&client_id=0oa1&client_secret=[REDACTED] '
        'HTTP/1.1" 400' in log
    )
    for name in ("code", "token", "sessionToken"):
        assert f"{name}=[REDACTED]" in log
