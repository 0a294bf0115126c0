"""CORS for the endpoints browsers call from other origins (``/api/v1/authn``, ``/api/v1/sessions/me``,
and the OAuth endpoints).

Only an ACTIVE trusted origin with the CORS scope gets CORS headers: its ``Origin`` is echoed
in ``Access-Control-Allow-Origin`` (never ``*``), with ``Access-Control-Allow-Credentials: true``
where cookies matter. Any other origin gets no ``Access-Control-*`` header at all, so the
browser keeps the response from the calling page; preflights from it are answered 204 with
nothing allowed. Checks go through the cached ``trusted_origins.is_trusted``.

Use :func:`with_cors` around a handler (errors, raised or returned, carry the same headers,
so a page can read a 401), :func:`preflight_endpoint` for the ``OPTIONS`` route, or
:func:`cors_headers` / :func:`preflight` directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response

from ostiary.domain.directory import trusted_origins
from ostiary.domain.errors import DomainError
from ostiary.http.errors import OktaHTTPError, domain_error_response, okta_error
from ostiary.http.runtime import Runtime, runtime

Handler = Callable[[Request], Awaitable[Response]]

ALLOWED_HEADERS = (
    "Accept, Authorization, Content-Type, X-Okta-User-Agent-Extended, X-Requested-With, "
    "X-Device-Fingerprint, DPoP"
)
EXPOSED_HEADERS = "Link, X-Okta-Request-Id, X-Rate-Limit-Limit, X-Rate-Limit-Remaining, X-Rate-Limit-Reset"
DEFAULT_METHODS = ("GET", "POST", "PUT", "DELETE")
PREFLIGHT_MAX_AGE = "600"


async def trusted_origin(request: Request) -> str | None:
    """The request's ``Origin`` if it is an ACTIVE trusted origin with the CORS scope, else None."""
    return await trusted_origin_for(
        runtime(request), request.headers.get("host", ""), request.headers.get("origin")
    )


async def trusted_origin_for(rt: Runtime, host: str, origin: str | None) -> str | None:
    """``origin`` if it is an ACTIVE trusted origin with the CORS scope of ``host``'s org."""
    if not origin:
        return None
    org = await rt.org_for_host(host)
    if await trusted_origins.is_trusted(rt.db, org.id, origin, trusted_origins.CORS):
        return origin
    return None


async def cors_headers(request: Request, *, credentials: bool) -> dict[str, str]:
    """Headers to add to an actual (non-preflight) response; empty for untrusted origins."""
    return actual_response_headers(await trusted_origin(request), credentials=credentials)


def actual_response_headers(origin: str | None, *, credentials: bool) -> dict[str, str]:
    """The CORS headers of an actual response to a trusted ``origin`` (none for ``None``)."""
    if origin is None:
        return {}
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Expose-Headers": EXPOSED_HEADERS,
        "Vary": "Origin",
    }
    if credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    return headers


async def preflight(
    request: Request, *, methods: Sequence[str] = DEFAULT_METHODS, credentials: bool = True
) -> Response:
    """Answer an ``OPTIONS`` preflight: 200 with what is allowed for a trusted origin asking for
    one of ``methods``; 204 with no CORS header otherwise."""
    origin = await trusted_origin(request)
    wanted = request.headers.get("access-control-request-method", "").upper()
    if origin is None or (wanted and wanted not in methods):
        return Response(status_code=204)
    headers = {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": ", ".join((*methods, "OPTIONS")),
        "Access-Control-Allow-Headers": ALLOWED_HEADERS,
        "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
        "Vary": "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    }
    if credentials:
        headers["Access-Control-Allow-Credentials"] = "true"
    return Response(status_code=200, headers=headers)


def preflight_endpoint(*methods: str, credentials: bool = True) -> Handler:
    """An ``OPTIONS`` endpoint for a path that serves ``methods``."""

    async def endpoint(request: Request) -> Response:
        return await preflight(request, methods=methods or DEFAULT_METHODS, credentials=credentials)

    return endpoint


def with_cors(handler: Handler, *, credentials: bool = True) -> Handler:
    """Wrap ``handler`` so that its responses, Okta errors included, carry the CORS headers."""

    async def endpoint(request: Request) -> Response:
        try:
            response = await handler(request)
        except DomainError as exc:
            response = domain_error_response(exc)
        except OktaHTTPError as exc:
            response = okta_error(exc.status, exc.code, exc.summary, exc.causes, exc.headers)
        apply_cors(response, await cors_headers(request, credentials=credentials))
        return response

    return endpoint


def apply_cors(response: Response, headers: dict[str, str]) -> None:
    """Add CORS ``headers`` to ``response``; their ``Vary`` names join the response's own (all
    its ``Vary`` lines, joined into one), each once (``Vary: Origin`` on an endpoint that
    already varies by ``Origin`` stays ``Origin``)."""
    headers = dict(headers)
    vary = headers.pop("Vary", None)
    response.headers.update(headers)
    if vary:
        merged = merge_vary(", ".join(response.headers.getlist("vary")), vary)
        if merged:
            response.headers["vary"] = merged


def merge_vary(existing: str | None, extra: str) -> str:
    """The ``Vary`` value naming ``existing``'s fields, then ``extra``'s not already named
    (field names compare case-insensitively, RFC 9110 §12.5.5)."""
    names = [name.strip() for name in (existing or "").split(",") if name.strip()]
    seen = {name.lower() for name in names}
    for name in extra.split(","):
        name = name.strip()
        if name and name.lower() not in seen:
            names.append(name)
            seen.add(name.lower())
    return ", ".join(names)


async def origin_allowed(request: Request) -> bool:
    """For cookie-authenticated writes: no ``Origin`` (not a cross-origin browser request), the
    server's own origin, or a trusted CORS origin."""
    origin = request.headers.get("origin")
    if not origin:
        return True
    own = trusted_origins.canonical_origin(f"{request.url.scheme}://{request.url.netloc}")
    if own is not None and trusted_origins.canonical_origin(origin) == own:
        return True
    return await trusted_origin(request) is not None
