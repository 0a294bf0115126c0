"""HTML pages of the OAuth endpoints (authorize errors, form_post, consent, logout), rendered
from ``templates/`` with autoescaping. Each page sends its own Content-Security-Policy."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from starlette.responses import HTMLResponse

_TEMPLATES = Path(__file__).parent / "templates"

BASE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


@functools.cache
def _environment() -> Any:
    import jinja2  # imported on first render: start-up stays fast

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def csp(*, form_action: str = "'self'", script_nonce: str | None = None) -> str:
    script = f"script-src 'nonce-{script_nonce}'; " if script_nonce else ""
    return (
        f"default-src 'none'; style-src 'unsafe-inline'; {script}form-action {form_action}; "
        "frame-ancestors 'none'; base-uri 'none'"
    )


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


def render_page(
    template: str,
    *,
    status: int = 200,
    content_security_policy: str | None = None,
    headers: Mapping[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    html = _environment().get_template(template).render(**context)
    all_headers = {
        **BASE_HEADERS,
        "Content-Security-Policy": content_security_policy or csp(),
        **(headers or {}),
    }
    return HTMLResponse(html, status_code=status, headers=all_headers)


def error_page(error: str, description: str, *, status: int = 400) -> HTMLResponse:
    """An OAuth error shown to the user instead of a redirect (bad client or redirect URI)."""
    return render_page("error.html", status=status, error=error, description=description)
