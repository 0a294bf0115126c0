"""A CORS policy for an API (allowed origins, methods, headers) and the headers it produces.

Shared by the gateway (per route, from ``gateway.yaml``) and the resource library's
``ProtectedAPIMiddleware``: both answer preflights themselves, so a preflight never reaches
the protected app without a token, and both add the policy's headers to their answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

Headers = list[tuple[bytes, bytes]]

STANDARD_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")
PREFLIGHT_VARY = (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers")


@dataclass(frozen=True)
class CorsPolicy:
    """``methods=None``: the methods of the route (gateway) or every standard method (middleware).
    ``headers`` are lower case; ``"*"`` in ``origins`` or ``headers`` allows any."""

    origins: tuple[str, ...]
    headers: tuple[str, ...] = ("authorization", "content-type")
    methods: tuple[str, ...] | None = None
    max_age: int = 600
    credentials: bool = False
    expose_headers: tuple[str, ...] = ()

    def allows_origin(self, origin: str) -> bool:
        return "*" in self.origins or origin in self.origins

    def allows_headers(self, requested: list[str]) -> bool:
        return "*" in self.headers or all(name in self.headers for name in requested)


def is_preflight(method: str, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method`` (Fetch §3.2.2)."""
    if method != "OPTIONS":
        return False
    names = {name for name, _ in headers}
    return b"origin" in names and b"access-control-request-method" in names


def response_headers(policy: CorsPolicy | None, origin: str | None) -> Headers:
    """The headers for an actual (non-preflight) answer: ``Vary: Origin`` always, and the
    ``Access-Control-Allow-*`` headers when ``origin`` is allowed."""
    if policy is None:
        return []
    headers: Headers = [(b"vary", b"Origin")]
    if origin is None or not policy.allows_origin(origin):
        return headers
    allowed = "*" if "*" in policy.origins and not policy.credentials else origin
    headers.append((b"access-control-allow-origin", allowed.encode("latin-1")))
    if policy.credentials:
        headers.append((b"access-control-allow-credentials", b"true"))
    if policy.expose_headers:
        headers.append((b"access-control-expose-headers", ", ".join(policy.expose_headers).encode()))
    return headers


def preflight_headers(
    policy: CorsPolicy, origin: str, requested_method: str, requested_headers: str, methods: Iterable[str]
) -> Headers | None:
    """The headers of a ``204`` preflight answer, or ``None`` when the policy refuses it
    (another origin, a method not in ``methods``, a header not allowed)."""
    allowed_methods = tuple(methods)
    requested = [h.strip().lower() for h in requested_headers.split(",") if h.strip()]
    if (
        not policy.allows_origin(origin)
        or requested_method not in allowed_methods
        or not policy.allows_headers(requested)
    ):
        return None
    allow_headers = requested if "*" in policy.headers else list(policy.headers)
    answer = [h for h in response_headers(policy, origin) if h[0] != b"vary"] + [
        (b"access-control-allow-methods", ", ".join(allowed_methods).encode()),
        (b"access-control-max-age", str(policy.max_age).encode()),
        PREFLIGHT_VARY,
    ]
    if allow_headers:
        answer.append((b"access-control-allow-headers", ", ".join(allow_headers).encode("latin-1")))
    return answer
