"""The gateway's own pages (policy denied, app offline, maintenance, upstream errors...):
small, self-contained HTML, never cached, never showing a token or a stack trace."""

from __future__ import annotations

from html import escape

from ostiary.timeutil import http_date

Headers = list[tuple[bytes, bytes]]

PAGES: dict[str, tuple[int, str, str]] = {
    "denied": (403, "Access denied", "You are signed in, but you are not allowed to use this page."),
    "inactive": (503, "App offline", "This application is not available right now."),
    "maintenance": (503, "Under maintenance", "This application is under maintenance. Try again later."),
    "bad_gateway": (502, "Bad gateway", "The application could not be reached."),
    "gateway_timeout": (504, "Gateway timeout", "The application took too long to answer."),
    "too_large": (413, "Request too large", "The request body is larger than this application accepts."),
    "bad_request": (400, "Bad request", "The request could not be understood."),
    "unknown_host": (404, "Not found", "No application is served at this address."),
    "not_found": (404, "Not found", "There is nothing at this address."),
    "no_session": (401, "Sign-in required", "You need to sign in to use this application."),
    "signin_failed": (502, "Sign-in failed", "Signing in did not work. Start again from the application."),
    "signed_out": (200, "Signed out", "You are signed out."),
    "unavailable": (503, "Temporarily unavailable", "The gateway cannot serve this application right now."),
    "misconfigured": (503, "App not configured", "This application is not fully configured yet."),
}

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}
h1{{font-size:1.4rem}}</style></head>
<body><main id="ostiary-page" data-page="{kind}"><h1>{title}</h1><p>{text}</p>{extra}</main></body></html>
"""

SECURITY_HEADERS: Headers = [
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"content-security-policy", b"default-src 'none'; style-src 'unsafe-inline'"),
]


def page(kind: str, *, extra_html: str = "", detail: str | None = None) -> tuple[int, Headers, bytes]:
    status, title, text = PAGES[kind]
    if detail:
        text = f"{text} ({detail})"
    body = _TEMPLATE.format(kind=kind, title=escape(title), text=escape(text), extra=extra_html).encode()
    headers = [
        (b"content-type", b"text/html; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
        (b"date", http_date()),
        *SECURITY_HEADERS,
    ]
    return status, headers, body


def blank(status: int) -> tuple[int, Headers, bytes]:
    return status, [(b"content-length", b"0"), (b"cache-control", b"no-store"), (b"date", http_date())], b""


def redirect(location: str, *, extra: Headers | None = None) -> tuple[int, Headers, bytes]:
    headers: Headers = [
        (b"location", location.encode("latin-1", "strict") if location.isascii() else location.encode()),
        (b"content-length", b"0"),
        (b"cache-control", b"no-store"),
        (b"referrer-policy", b"no-referrer"),
        (b"date", http_date()),
    ]
    return 302, headers + (extra or []), b""
