"""One request on an app's public domain, and the small pieces every step uses: the
gateway's own paths and cookies, redirect targets, answers."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, unquote, urlsplit

from ostiary.access_gateway.proxy import pages
from ostiary.access_gateway.proxy.attributes import Headers
from ostiary.access_gateway.proxy.config import ProxyApp
from ostiary.access_gateway.proxy.sessions import GatewaySession

PREFIX: Final = "/_ostiary/"
CALLBACK: Final = "/_ostiary/callback"
AUTH: Final = "/_ostiary/auth"
START: Final = "/_ostiary/start"
LOGOUT: Final = "/_ostiary/logout"
SIGNED_OUT: Final = "/_ostiary/signed-out"

Scope = dict[str, Any]
Answer = tuple[int, Headers, bytes]


@dataclass
class Exchange:
    """One request as it goes through the proxy (for the access log and metrics)."""

    scope: Scope
    host: str
    started: float = field(default_factory=time.perf_counter)
    app: ProxyApp | None = None
    session: GatewaySession | None = None
    upstream: str | None = None

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def scheme(self) -> str:
        return str(self.scope.get("scheme", "http"))

    @property
    def remote(self) -> str | None:
        client = self.scope.get("client")
        return str(client[0]) if client else None

    def header(self, name: bytes) -> str | None:
        for key, value in self.scope["headers"]:
            if key == name:
                return str(value.decode("latin-1"))
        return None

    def cookies(self) -> dict[str, str]:
        """Cookies by name (the first of a name wins), read leniently: one odd cookie of the
        upstream's never hides the gateway's."""
        found: dict[str, str] = {}
        for key, value in self.scope["headers"]:
            if key == b"cookie":
                for pair in value.decode("latin-1").split(";"):
                    name, _, cookie_value = pair.partition("=")
                    found.setdefault(name.strip(), cookie_value.strip().strip('"'))
        return found

    def query(self) -> dict[str, str]:
        raw = self.scope.get("query_string", b"").decode("latin-1")
        return {k: v[0] for k, v in parse_qs(raw, keep_blank_values=True).items()}


def _cookie_suffix(app: ProxyApp) -> str:
    return hashlib.sha256(app.id.encode()).hexdigest()[:12]


def session_cookie_name(app: ProxyApp) -> str:
    return f"ostiary_oag_{_cookie_suffix(app)}"


def state_cookie_name(app: ProxyApp) -> str:
    return f"ostiary_oag_state_{_cookie_suffix(app)}"


def public_origin(app: ProxyApp, scheme: str) -> str:
    """Where browsers reach the app: the origin of the callback URI registered in the org
    (it carries the gateway's port when the public domain names none), else the request's
    scheme and the public domain."""
    if app.oidc is not None and app.oidc.redirect_uri:
        parts = urlsplit(app.oidc.redirect_uri)
        return f"{parts.scheme}://{parts.netloc}".lower()
    return f"{scheme}://{app.public_domain}"


def callback_uri(app: ProxyApp, scheme: str) -> str:
    """The sign-in's ``redirect_uri``: exactly the one registered in the org when known."""
    if app.oidc is not None and app.oidc.redirect_uri:
        return app.oidc.redirect_uri
    return public_origin(app, scheme) + CALLBACK


def set_cookie(
    name: str, value: str, *, secure: bool, max_age: int | None, path: str = "/"
) -> tuple[bytes, bytes]:
    parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return b"set-cookie", "; ".join(parts).encode("latin-1")


def same_domain_target(app: ProxyApp, scheme: str, target: str | None) -> str | None:
    """``target`` as a path on the app's public domain, or ``None`` when it points anywhere
    else (an open redirect refused): a path (not ``//`` nor ``/\\``), or an absolute URL on
    exactly the public origin."""
    if not target:
        return None
    if target.startswith("/"):
        if target.startswith(("//", "/\\")) or any(c in target for c in "\r\n\t\\"):
            return None
        return target
    parts = urlsplit(target)
    origin = urlsplit(public_origin(app, scheme))
    same_origin = (parts.scheme, parts.netloc.lower()) == (origin.scheme, origin.netloc)
    if not same_origin and (parts.scheme != scheme or parts.netloc.lower() != app.public_domain):
        return None
    if "@" in parts.netloc:
        return None
    path = parts.path or "/"
    if path.startswith("//") or any(c in target for c in "\r\n\t\\"):
        return None
    return path + (f"?{parts.query}" if parts.query else "")


def start_target(scope: Scope) -> str | None:
    """``rd`` of ``/_ostiary/start``. A query starting ``rd=`` is read whole as the target:
    nginx's ``return 302 /_ostiary/start?rd=$request_uri`` cannot encode it, so the target's
    own ``?a=1&b=2`` stays part of it (an encoded ``rd`` reads the same)."""
    raw = scope.get("query_string", b"").decode("latin-1")
    if raw.startswith("rd="):
        return unquote(raw[3:])
    values = parse_qs(raw).get("rd")
    return values[0] if values else None


def custom_or_page(kind: str, url: str | None, page_kind: str) -> Answer:
    if kind == "CUSTOM_URL" and url:
        return pages.redirect(url)
    return pages.page(page_kind)


def with_header(answer: Answer, header: tuple[bytes, bytes]) -> Answer:
    status, headers, body = answer
    return status, [*headers, header], body


async def send_answer(send: Any, answer: Answer, *, head: bool) -> None:
    status, headers, body = answer
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else body})
